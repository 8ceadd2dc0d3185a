"""Starting and stopping the assistant's processes: the action server and the Rasa server.

Used by `python -m bot serve` (the README's run command), by the end-to-end tests and by the
benchmarks, so that all of them start the servers the same way. Every process is started in
its own process group, so stopping it also stops anything it spawned.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator, Mapping, Optional, Sequence
from urllib.parse import urlsplit

import requests

from bot.config import PROJECT_ROOT, Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_executable(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen
    ready_url: str
    log_path: Optional[Path] = None
    ready_params: Optional[dict] = None  # e.g. the API token, kept out of error messages
    log_offset: int = 0  # where this run's output starts in a log that earlier runs appended to

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def lost_its_port(self) -> bool:
        """Exited because another process bound the port between free_port() and this
        process's own bind (Sanic logs the OSError and exits)."""
        if self.is_running() or not self.log_path or not self.log_path.exists():
            return False
        with open(self.log_path, "rb") as log:
            log.seek(self.log_offset)
            return b"address already in use" in log.read().lower()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        if not self.is_running():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        except ProcessLookupError:
            pass


def rasa_environment(env: Optional[Mapping[str, str]] = None) -> dict:
    """The environment of a Rasa process: Rasa's telemetry, and with it its crash reports to
    an outside error service, stay off unless the shop sets RASA_TELEMETRY_ENABLED=true."""
    return {**os.environ, "RASA_TELEMETRY_ENABLED": os.environ.get("RASA_TELEMETRY_ENABLED", "false"), **(env or {})}


def start_process(
    name: str,
    command: Sequence[str],
    ready_url: str,
    env: Mapping[str, str],
    log_path: Optional[Path] = None,
) -> ManagedProcess:
    output: IO | int
    log_offset = 0
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        output = open(log_path, "ab")
        log_offset = output.tell()
    else:
        output = subprocess.DEVNULL
    popen = subprocess.Popen(
        list(command),
        cwd=PROJECT_ROOT,
        env=rasa_environment(env),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ManagedProcess(name=name, popen=popen, ready_url=ready_url, log_path=log_path, log_offset=log_offset)


def wait_until_ready(process: ManagedProcess, timeout: float, accept=lambda response: response.ok) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(
                f"{process.name} 启动失败（退出码 {process.popen.returncode}）。日志末尾：\n{process.log_tail()}"
            )
        try:
            if accept(requests.get(process.ready_url, params=process.ready_params, timeout=2)):
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(
        f"{process.name} 在 {timeout:.0f} 秒内没有就绪（{process.ready_url}）。日志末尾：\n{process.log_tail()}"
    )


def action_server_environment(database_url: str) -> dict:
    return {"AFTERSALES_DATABASE_URL": database_url, "PYTHONPATH": str(PROJECT_ROOT)}


def start_action_server(port: int, env: Mapping[str, str], log_path: Optional[Path] = None) -> ManagedProcess:
    """bot/action_server.py: on AFTERSALES_ACTIONS_HOST (default loopback), requiring the
    shared token AFTERSALES_ACTIONS_TOKEN that start_rasa_server gives the Rasa server."""
    command = [sys.executable, "-m", "bot.action_server", "--port", str(port)]
    return start_process("action server", command, f"http://127.0.0.1:{port}/health", env, log_path)


TICKET_LOCK_SECONDS = 300


def server_security_environment(api_token: str, actions_token: str, max_request_bytes: int) -> dict:
    """What both servers get: the action server's shared token (endpoints.yml sends it) and
    Sanic's request body limit (REQUEST_MAX_SIZE, 100 MB by default; streamed uploads keep
    their own limit)."""
    return {
        "AFTERSALES_API_TOKEN": api_token,
        "AFTERSALES_ACTIONS_TOKEN": actions_token,
        "SANIC_REQUEST_MAX_SIZE": str(max_request_bytes),
    }


def start_rasa_server(
    model: Path,
    port: int,
    action_port: int,
    tracker_db: "Path | str",
    env: Mapping[str, str],
    log_path: Optional[Path] = None,
    extra_args: Sequence[str] = (),
    credentials: "Path | str" = "credentials.yml",
    api_token: str = "",
    cors_origins: Sequence[str] = (),
    endpoints: "Path | str" = "endpoints.yml",
) -> ManagedProcess:
    """`credentials`: the channels file (tests pass one naming their messaging-app fakes).
    `api_token`: the HTTP API's `--auth-token` (required); `cors_origins`: browser origins
    allowed besides the server's own (none by default). `endpoints`: the endpoints file the
    servers' addresses (and the action server's token) are written into (endpoints_file)."""
    if not api_token:
        raise ValueError("Rasa 的 HTTP API 必须有访问令牌（AFTERSALES_API_TOKEN）。")
    command = [
        venv_executable("rasa"),
        "run",
        "--model",
        str(model),
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--enable-api",
        f"--auth-token={api_token}",  # one argument: a token may start with "-"
        *(["--cors", *cors_origins] if cors_origins else []),
        "--endpoints",
        str(
            endpoints_file(
                f"http://127.0.0.1:{action_port}/webhook",
                tracker_store_url(tracker_db),
                env.get("AFTERSALES_REDIS_URL") or os.environ.get("AFTERSALES_REDIS_URL"),
                (log_path.parent if log_path else PROJECT_ROOT / "var") / f"endpoints.{port}.yml",
                endpoints,
                actions_token=env.get("AFTERSALES_ACTIONS_TOKEN") or os.environ.get("AFTERSALES_ACTIONS_TOKEN"),
            )
        ),
        "--credentials",
        str(credentials),
        *extra_args,
    ]
    rasa_env = {
        # a message waits for the one before it in its conversation (the lock store); Rasa gives
        # up after TICKET_LOCK_LIFETIME (60 s), which a busy 2-core machine can exceed
        "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_SECONDS),
        **env,
        "AFTERSALES_ACTION_ENDPOINT": f"http://127.0.0.1:{action_port}/webhook",
        "AFTERSALES_TRACKER_STORE_URL": tracker_store_url(tracker_db),
    }
    process = start_process("Rasa server", command, f"http://127.0.0.1:{port}/status", rasa_env, log_path)
    process.ready_params = {"token": api_token}
    return process


def endpoints_file(
    action_url: str,
    tracker_url: str,
    redis_url: Optional[str],
    path: Path,
    template: "Path | str" = "endpoints.yml",
    *,
    actions_token: Optional[str] = None,
) -> Path:
    """`template` (endpoints.yml: development defaults; endpoints.production.yml) with this
    run's action server and tracker store, and the Redis lock store when a Redis URL is set
    (needed as soon as two Rasa processes share conversations). Other keys are kept as they
    are, ${VARIABLES} included, for Rasa to fill in."""
    import yaml

    endpoints = yaml.safe_load((PROJECT_ROOT / template).read_text(encoding="utf-8")) or {}
    endpoints.setdefault("action_endpoint", {})["url"] = action_url
    if actions_token:  # sent as ?token=, required by bot/action_server.py
        endpoints["action_endpoint"]["token"] = actions_token
    endpoints.setdefault("tracker_store", {"type": "bot.rasa_tracker_store.AfterSalesSQLTrackerStore"})["url"] = (
        tracker_url
    )
    if redis_url:
        endpoints["lock_store"] = {"type": "bot.rasa_lock_store.RedisURLLockStore", "url": redis_url}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def tracker_store_url(tracker: "Path | str") -> str:
    """The tracker store's SQLAlchemy URL: a URL is kept, a file path becomes SQLite."""
    text = str(tracker)
    if "://" in text:
        return text
    path = Path(text).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def rasa_model_loaded(response: requests.Response) -> bool:
    return response.ok and bool(response.json().get("model_file"))


def import_orders(database_url: str, path: Path) -> None:
    """`python -m bot orders import`, as a shop would run it."""
    subprocess.run(
        [sys.executable, "-m", "bot", "orders", "import", str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "AFTERSALES_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


@dataclass(frozen=True)
class RunningAssistant:
    rest_url: str
    api_url: str
    database_url: str
    evidence_dir: Path
    api_token: str = ""  # pass as ?token= to the Rasa HTTP API (api_params)
    processes: tuple = ()  # the ManagedProcesses (action server, Rasa server), e.g. to see whether one exited

    @property
    def api_params(self) -> dict:
        return {"token": self.api_token}


HARNESS_MESSAGES_PER_CLIENT = "100000/minute"
PORT_ATTEMPTS = 4


def start_on_free_ports(
    start: Callable[..., Sequence[ManagedProcess]],
    ports: int,
    wait: Callable[[Sequence[ManagedProcess]], None],
    attempts: int = PORT_ATTEMPTS,
) -> Sequence[ManagedProcess]:
    """`start(*ports)` on `ports` free ports, then `wait(processes)` until they are ready.
    free_port() gives its port back before the server binds it, so on a busy machine another
    process may take it first: when one of them exits on "address already in use", all are
    stopped and started again on new ports."""
    for attempt in range(1, attempts + 1):
        processes = start(*(free_port() for _ in range(ports)))
        try:
            wait(processes)
            return processes
        except (RuntimeError, TimeoutError):
            for process in reversed(processes):
                process.stop()
            if attempt == attempts or not any(process.lost_its_port() for process in processes):
                raise
    raise AssertionError("unreachable")


@contextmanager
def running_assistant(
    model: Path,
    workdir: Path,
    order_files: Sequence[Path] = (),
    credentials: "Path | str" = "credentials.yml",
    extra_env: Optional[Mapping[str, str]] = None,
    tracker_store: "Path | str | None" = None,
) -> Iterator[RunningAssistant]:
    """Both servers on free ports with a fresh SQLite database in `workdir` holding
    `order_files`; stopped on exit. For the end-to-end tests and the conversation benchmark.
    `credentials`/`extra_env`: another channels file and settings (the messaging-app tests).
    `tracker_store`: a file or SQLAlchemy URL (default `workdir/tracker.db`); entering again
    with the same `workdir` and store is a restart that keeps every conversation."""
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"
    for path in order_files:
        import_orders(database_url, path)
    extra_env = dict(extra_env or {})
    api_token = extra_env.get("AFTERSALES_API_TOKEN") or secrets.token_urlsafe(24)
    env = {
        **action_server_environment(database_url),
        "AFTERSALES_EVIDENCE_DIR": str(workdir / "evidence"),
        # the harness drives many conversations from one address; a caller may pass the real limit
        "AFTERSALES_MESSAGES_PER_CLIENT": os.environ.get("AFTERSALES_MESSAGES_PER_CLIENT", HARNESS_MESSAGES_PER_CLIENT),
        **server_security_environment(
            api_token,
            extra_env.get("AFTERSALES_ACTIONS_TOKEN") or secrets.token_urlsafe(24),
            int(extra_env.get("AFTERSALES_MAX_REQUEST_BYTES") or Settings().max_request_bytes),
        ),
        **extra_env,
    }

    def start_both(action_port: int, rasa_port: int) -> "tuple[ManagedProcess, ManagedProcess]":
        actions = start_action_server(action_port, env, workdir / "actions.log")
        return actions, start_rasa_server(
            model,
            rasa_port,
            action_port,
            tracker_store or workdir / "tracker.db",
            env,
            workdir / "rasa.log",
            credentials=credentials,
            api_token=api_token,
        )

    def wait_for_both(processes: Sequence[ManagedProcess]) -> None:
        wait_until_ready(processes[0], 120)
        wait_until_ready(processes[1], 300, accept=rasa_model_loaded)

    actions, rasa = start_on_free_ports(start_both, 2, wait_for_both)
    rasa_port = urlsplit(rasa.ready_url).port
    try:
        yield RunningAssistant(
            rest_url=f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            api_url=f"http://127.0.0.1:{rasa_port}",
            database_url=database_url,
            evidence_dir=Path(env["AFTERSALES_EVIDENCE_DIR"]),
            api_token=api_token,
            processes=(actions, rasa),
        )
    finally:
        rasa.stop()
        actions.stop()
