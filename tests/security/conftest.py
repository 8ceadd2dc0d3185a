"""One real assistant for the security tests: the action server and the Rasa server started
by the shared launcher with the project's own credentials.yml (REST, web chat, relay,
console), the demo orders, a signed-identity secret, a console account, and the tracker
store on PostgreSQL when the test server is reachable (where a NUL once stopped Rasa), else
SQLite (where a lone surrogate did)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from bot.config import Settings
from bot.launcher import running_assistant
from tests.cli import run_cli
from tests.conftest import PROJECT_ROOT
from tests.shared_assistant import tracker_store_database

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"
RELAY_TOKEN = "relay-token-for-security-tests-" + uuid.uuid4().hex
SHOP_SECRET = "shop-secret-for-security-tests-" + uuid.uuid4().hex
AGENT = ("zhao", "zhao-password-1")
LOCKED_AGENT = ("qian", "qian-password-2")  # the login-throttle test locks this one
CLIENT_ADDRESS_HEADER = "X-Real-IP"


def new_client_address() -> str:
    """A fresh address of the benchmarking range 198.18.0.0/15 (RFC 2544)."""
    number = secrets.randbelow(2**17)
    return f"198.{18 + number // 65536}.{number // 256 % 256}.{number % 256}"


def demo_orders() -> List[Dict[str, Any]]:
    data = json.loads(DEMO_ORDERS.read_text(encoding="utf-8"))
    return data["orders"] if isinstance(data, dict) else data


@dataclass
class SecuredAssistant:
    base_url: str
    rest_url: str
    database_url: str
    api_token: str
    workdir: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def post_rest(
        self, body: Any = None, raw: Optional[bytes] = None, timeout: float = 60, client: Optional[str] = None
    ) -> requests.Response:
        """`client`: the buyer's address the proxy reports (a new one per request by default)."""
        data = raw if raw is not None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", CLIENT_ADDRESS_HEADER: client or new_client_address()}
        return requests.post(self.rest_url, data=data, headers=headers, timeout=timeout)

    def say(self, sender: str, text: str, **extra: Any) -> List[Dict[str, Any]]:
        response = self.post_rest({"sender": sender, "message": text, **extra})
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, conversation_id: str) -> Dict[str, Any]:
        response = requests.get(
            self.url(f"/conversations/{conversation_id}/tracker"), params={"token": self.api_token}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def alive(self) -> bool:
        """The Rasa server still answers a buyer (the process did not exit)."""
        sender = "alive-" + uuid.uuid4().hex[:8]
        try:
            replies = self.say(sender, "你好")
        except (requests.RequestException, AssertionError):
            return False
        return any("售后助手" in (reply.get("text") or "") for reply in replies)

    def console(self) -> requests.Session:
        session = requests.Session()
        response = session.post(
            self.url("/console/api/login"), json={"username": AGENT[0], "password": AGENT[1]}, timeout=30
        )
        response.raise_for_status()
        return session


@pytest.fixture(scope="session")
def secured(trained_model: Path, tmp_path_factory) -> Iterator[SecuredAssistant]:
    workdir = tmp_path_factory.mktemp("security")
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"
    for username, password in (AGENT, LOCKED_AGENT):
        created = run_cli(
            "agents",
            "create",
            username,
            "--password-stdin",
            env={"AFTERSALES_DATABASE_URL": database_url},
            stdin=password + "\n",
        )
        assert created.returncode == 0, created.stderr
    settings = {
        "AFTERSALES_RELAY_TOKEN": RELAY_TOKEN,
        "AFTERSALES_SHOP_JWT_SECRET": SHOP_SECRET,
        "AFTERSALES_MESSAGING_STATE_DIR": str(workdir / "messaging-state"),
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
        # as behind the README's reverse proxy: each test client has its own address, and the
        # message throttle is the production default (bot/config.py), not the harness's
        "SANIC_REAL_IP_HEADER": CLIENT_ADDRESS_HEADER,
        "AFTERSALES_MESSAGES_PER_CLIENT": Settings().messages_per_client,
    }
    with tracker_store_database(workdir) as tracker_store, ExitStack() as stack:
        running = stack.enter_context(
            running_assistant(trained_model, workdir, [DEMO_ORDERS], extra_env=settings, tracker_store=tracker_store)
        )
        yield SecuredAssistant(
            running.api_url, running.rest_url, running.database_url, getattr(running, "api_token", ""), workdir
        )


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)


def everything_shown(messages: List[Dict[str, Any]]) -> str:
    """Texts and button titles/payloads: all a buyer could read."""
    return json.dumps(messages, ensure_ascii=False)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
