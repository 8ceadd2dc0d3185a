#!/usr/bin/env bash
# Makes sure the browser test (tests/web/test_browser.py) can run: Debian's chromium, driven by
# Playwright from PyPI with executable_path=/usr/bin/chromium (no browser is ever downloaded),
# and a Chinese font so that the screenshots are readable. Idempotent: returns at once when
# both are present. Set AFTERSALES_SKIP_BROWSER_SETUP=1 to skip (the browser test then skips).
set -euo pipefail

[ "${AFTERSALES_SKIP_BROWSER_SETUP:-}" = "1" ] && exit 0

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! (command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .); then
  missing+=(fonts-wqy-microhei)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "[browser] 需要 ${missing[*]}，但这台机器没有 apt-get。请用系统的包管理器安装 chromium（路径 /usr/bin/chromium），" >&2
  echo "          或设置 AFTERSALES_SKIP_BROWSER_SETUP=1 跳过浏览器测试。" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"
fi
echo "[browser] 正在安装 ${missing[*]}（Debian 软件包，用于浏览器端到端测试）……"
if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "[browser] 安装失败。请以 root 运行：apt-get install -y ${missing[*]}" >&2
  echo "          或设置 AFTERSALES_SKIP_BROWSER_SETUP=1 跳过浏览器测试。" >&2
  exit 1
fi
echo "[browser] 已安装：$(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
