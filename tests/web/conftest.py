"""The web tests (HTTP and browser) against the session's shared assistant
(tests/shared_assistant.py): the action server and the Rasa server with the web chat, agent
relay and console channels, a SQLite database with the demo orders, a tracker store
(PostgreSQL by URL when the test server is reachable, else SQLite), an evidence folder of its
own, and two console accounts created with the real CLI."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests
import socketio
import yaml

from tests.cli import CliResult, run_cli
from tests.conftest import PROJECT_ROOT
from tests.shared_assistant import (  # noqa: F401  (re-exported for the tests here)
    AGENTS,
    DEMO_ORDERS,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    RELAY_TOKEN,
    SHARED_DEMO_ORDER,
    SHOP_SECRET,
    SharedAssistant,
    SharedView,
)


def domain_text(response: str) -> str:
    """The first text of a response in domain.yml: tests compare with what the domain says."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][response][0]["text"]


class WebAssistant(SharedView):
    """The running servers as the web sees them; `restart()` stops both and starts them again
    on new ports with the same databases, tracker store and evidence folder."""

    def __init__(self, shared: SharedAssistant) -> None:
        super().__init__(shared)
        self.workdir: Path = shared.workdir
        self.tracker_store: str = shared.tracker_store

    @property
    def base_url(self) -> str:
        return self.shared.api_url

    @property
    def api_params(self) -> dict:
        return self.shared.api_params

    def restart(self) -> None:
        self.shared.restart()

    def url(self, path: str) -> str:
        return self.base_url + path

    def relay(self, action: str, body: Dict[str, Any], token: Optional[str] = RELAY_TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.url(f"/webhooks/agent_relay/{action}"), json=body, headers=headers, timeout=60)

    def console(self, username: str) -> requests.Session:
        """A logged-in console session of one of the AGENTS."""
        session = requests.Session()
        response = session.post(
            self.url("/console/api/login"), json={"username": username, "password": AGENTS[username][2]}, timeout=30
        )
        response.raise_for_status()
        return session


@dataclass
class WebBuyer:
    """A buyer's browser tab as the socket.io protocol sees it (python-socketio client).

    The server ends every turn with `bot_idle` (after the replies, on the same socket, so in
    order): a turn's replies are what arrived before it, and a silent bot is known to be
    silent once it came, without waiting out a fixed time."""

    assistant: WebAssistant
    identity: Optional[str] = None
    received: List[Dict[str, Any]] = field(default_factory=list)
    errors: List[Dict[str, Any]] = field(default_factory=list)
    session_id: Optional[str] = None
    turns_ended: int = 0
    sessions_confirmed: int = 0

    def __post_init__(self) -> None:
        self._arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self._on_message)
        self.client.on("session_confirm", self._on_session)
        self.client.on("chat_error", self._on_error)
        self.client.on("bot_idle", self._on_idle)

    def _on_message(self, message: Dict[str, Any]) -> None:
        with self._arrived:
            self.received.append(message)
            self._arrived.notify_all()

    def _on_session(self, session_id: str) -> None:
        with self._arrived:
            self.session_id = session_id
            self.sessions_confirmed += 1
            self._arrived.notify_all()

    def _on_error(self, error: Dict[str, Any]) -> None:
        with self._arrived:
            self.errors.append(error)
            self._arrived.notify_all()

    def _on_idle(self, *_: Any) -> None:
        with self._arrived:
            self.turns_ended += 1
            self._arrived.notify_all()

    def connect(self) -> "WebBuyer":
        auth = {"identity": self.identity} if self.identity else None
        self.client.connect(self.assistant.base_url, transports=["polling"], auth=auth, wait_timeout=10)
        self.client.emit("session_request", {"session_id": None})
        with self._arrived:
            assert self._arrived.wait_for(lambda: self.session_id is not None, timeout=10), "没有收到 session_confirm"
        return self

    def wait_for(self, count: int, timeout: float = 60) -> List[Dict[str, Any]]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout), (
                f"等待 {count} 条消息，只收到 {len(self.received)} 条：{self.received}"
            )
            return list(self.received)

    def wait_for_error(self, count: int = 1, timeout: float = 30) -> Dict[str, Any]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.errors) >= count, timeout=timeout), "没有收到 chat_error"
            return self.errors[count - 1]

    def say(self, text: str, metadata: Optional[Dict[str, Any]] = None, timeout: float = 60) -> List[Dict[str, Any]]:
        """Send a message; the replies of that turn ([] when the bot stays silent)."""
        with self._arrived:
            before, turns = len(self.received), self.turns_ended
        self.send(text, metadata)
        with self._arrived:
            assert self._arrived.wait_for(lambda: self.turns_ended > turns, timeout=timeout), (
                f"{timeout:.0f} 秒内这一轮没有结束（没有 bot_idle）：{text!r}"
            )
            return self.received[before:]

    def everything_sent_so_far(self, timeout: float = 30) -> List[Dict[str, Any]]:
        """All messages, once whatever the server sent before now has arrived: the server
        answers a repeated session_request on the same socket, so after them."""
        with self._arrived:
            confirmed = self.sessions_confirmed
        self.client.emit("session_request", {"session_id": self.session_id})
        with self._arrived:
            assert self._arrived.wait_for(lambda: self.sessions_confirmed > confirmed, timeout=timeout), (
                "没有收到 session_confirm"
            )
            return list(self.received)

    def send(self, text: str, metadata: Optional[Dict[str, Any]] = None, session_id: Optional[str] = None) -> None:
        self.client.emit(
            "user_uttered", {"message": text, "session_id": session_id or self.session_id, "metadata": metadata or {}}
        )

    def close(self) -> None:
        # abort: a polling client would otherwise wait for the server's next ping (~25 s)
        if self.client.connected:
            self.client.eio.disconnect(abort=True)


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)


def _run_cli(database_url: str, *args: str, stdin: str = "") -> CliResult:
    return run_cli(*args, env={"AFTERSALES_DATABASE_URL": database_url}, stdin=stdin)


@pytest.fixture(scope="session")
def web_assistant(shared_assistant: SharedAssistant) -> WebAssistant:
    return WebAssistant(shared_assistant)


@pytest.fixture
def buyer(web_assistant):
    opened: List[WebBuyer] = []

    def open_buyer(identity: Optional[str] = None) -> WebBuyer:
        tab = WebBuyer(web_assistant, identity=identity).connect()
        opened.append(tab)
        return tab

    yield open_buyer
    for tab in opened:
        tab.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from tests.web.pages import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(
            "没有 /usr/bin/chromium：请运行 make test（会用 apt-get 安装 chromium），或 apt-get install -y chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()
