#!/usr/bin/env bash
# Creates (or reuses) the project's Python 3.10 virtual environment and installs the pinned
# dependencies. Idempotent: when requirements.txt and constraints.txt have not changed since
# the last successful install, it only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"

is_python310() {
  [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

find_python310() {
  local candidate
  if [ -n "${PYTHON:-}" ]; then
    if is_python310 "$PYTHON"; then echo "$PYTHON"; return 0; fi
    echo "PYTHON=$PYTHON 不是 Python 3.10（Rasa 3.6 需要 3.8–3.10，本项目固定 3.10）。" >&2
    return 1
  fi
  for candidate in "$(command -v python3.10 || true)" \
                   "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python \
                   /usr/local/bin/python3.10 /usr/bin/python3.10; do
    if is_python310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

stamp_of_requirements() {
  cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1
}

if [ -x "$VENV/bin/python" ] && is_python310 "$VENV/bin/python" \
   && [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" = "$(stamp_of_requirements)" ]; then
  echo "[setup] $VENV is up to date."
  exit 0
fi

if ! PY310="$(find_python310)"; then
  cat >&2 <<'MSG'
[setup] 找不到 Python 3.10。Could not find Python 3.10.
  Rasa 3.6 runs on Python 3.8–3.10 only; this project pins 3.10.
  Install one of:
    - pyenv:   pyenv install 3.10.13
    - Debian/Ubuntu: apt-get install python3.10 python3.10-venv
  or point PYTHON at an existing interpreter:  PYTHON=/path/to/python3.10 make run
MSG
  exit 1
fi

echo "[setup] using $PY310 ($("$PY310" --version 2>&1))"
if [ ! -x "$VENV/bin/python" ] || ! is_python310 "$VENV/bin/python"; then
  rm -rf "$VENV"
  "$PY310" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r requirements.txt -c constraints.txt
stamp_of_requirements > "$VENV/.requirements.sha256"
echo "[setup] $VENV is ready."
