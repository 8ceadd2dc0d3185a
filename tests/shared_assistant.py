"""The one running assistant of the test session (a pytest plugin, loaded by tests/conftest.py).

Every test that talks to the running servers (tests/e2e, tests/channels, tests/web) shares one
action server + Rasa server pair, started on first use with the union of what those folders
need: all of credentials.yml's channels (REST, web chat, agent relay, console) plus WeChat and
Telegram pointed at local fakes of their HTTP APIs, one relay token, a shop identity secret,
small upload limits, two console accounts made with the real CLI, the demo orders plus the
shared fixture orders and one copy of the headphones order per messaging app, and the tracker
store on PostgreSQL when the test server is reachable (else SQLite).

Tests stay independent by using fresh conversation ids and orders of their own where they
write; the demo headphones order that many of them complain about is put back as on the test
day before each such test. Tests that must stop or restart servers of their own (security
faults, cluster, perf, the out-of-hours shop) keep their own pairs; `restart()` here restarts
the shared pair in place, and every view of it reads the current address."""

from __future__ import annotations

import base64
import json
import os
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest
import requests
import yaml

from bot.launcher import RunningAssistant, running_assistant
from tests.cli import run_cli
from tests.conftest import PROJECT_ROOT, SHARED_DIR
from tests.fakes.telegram_api import FakeTelegramBotApi
from tests.fakes.wechat_api import FakeWeChatApi

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"
SHARED_ORDERS = SHARED_DIR / "fixtures" / "orders.json"

# the demo order most tests complain about (cross-border headphones delivered 2 days ago, rule Q1)
SHARED_DEMO_ORDER = "6201458839270153"
HEADPHONES_PHONE_LAST4 = "4086"
# one copy of it per messaging app, so that each platform's conversation opens its own ticket
WECHAT_HEADPHONES_ORDER = "6201458839270261"
TELEGRAM_HEADPHONES_ORDER = "6201458839270372"

WECHAT_APPID = "wx5823bf96d3bd56c7"
WECHAT_SECRET = "test-app-secret-0123456789abcdef"
WECHAT_TOKEN = "aftersalesToken2026"
WECHAT_AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")
TELEGRAM_TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnopq"
TELEGRAM_SECRET = "telegram-webhook-secret-42"

RELAY_TOKEN = "relay-token-for-tests-" + uuid.uuid4().hex
SHOP_SECRET = "shop-secret-for-tests-" + uuid.uuid4().hex
MAX_IMAGE_BYTES = 200_000
MAX_VIDEO_BYTES = 1_000_000  # small, so that the refusal of an oversized upload is quick to test
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/aftersales_test"
AGENTS = {"wang": ("小王", "agent", "wang-password-1"), "li": ("李主管", "supervisor", "li-password-22")}


def headphone_orders_per_platform(path: Path) -> Path:
    demo = json.loads(DEMO_ORDERS.read_text(encoding="utf-8"))
    [headphones] = [order for order in demo["orders"] if order["order_id"] == SHARED_DEMO_ORDER]
    copies = []
    for number in (WECHAT_HEADPHONES_ORDER, TELEGRAM_HEADPHONES_ORDER):
        copy = {**headphones, "order_id": number, "tracking_number": f"CNJP{number[-11:]}"}
        copy.pop("customer_id", None)
        copies.append(copy)
    path.write_text(json.dumps({"orders": copies}, ensure_ascii=False), encoding="utf-8")
    return path


def write_credentials(path: Path, wechat_url: str, telegram_url: str) -> Path:
    """The project's credentials.yml with the messaging apps enabled against the fakes."""
    channels: Dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    channels.update(
        {
            "channels.wechat.WeChatInput": {
                "appid": WECHAT_APPID,
                "secret": WECHAT_SECRET,
                "token": WECHAT_TOKEN,
                "encoding_aes_key": WECHAT_AES_KEY,
                "api_base_url": wechat_url,
            },
            "channels.telegram.TelegramInput": {
                "access_token": TELEGRAM_TOKEN,
                "secret_token": TELEGRAM_SECRET,
                "api_base_url": telegram_url,
            },
            "channels.agent_relay.AgentRelayInput": {"token": RELAY_TOKEN},
        }
    )
    path.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")
    return path


@contextmanager
def tracker_store_database(workdir: Path) -> Iterator[str]:
    """A PostgreSQL database of its own for the tracker store when the test server is
    reachable (so the tests also run the store "by URL"), else SQLite (the default)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(os.environ.get("AFTERSALES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"aftersales_web_tracker_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no PostgreSQL here: the embedded default
        admin.dispose()
        yield str(workdir / "tracker.db")
        return
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class SharedView:
    """A suite's view of the shared servers (e2e, channels, web). Its properties always name the
    current servers: a test may restart them on new ports."""

    def __init__(self, shared: "SharedAssistant") -> None:
        self.shared = shared
        self.evidence_dir: Path = shared.evidence_dir

    @property
    def database_url(self) -> str:
        return self.shared.database_url

    @property
    def api_token(self) -> str:
        return self.shared.api_token

    def tracker(self, conversation_id: str) -> Dict[str, Any]:
        response = requests.get(
            f"{self.shared.api_url}/conversations/{conversation_id}/tracker",
            params={"token": self.api_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


class SharedAssistant:
    """The running pair and the fakes around it. `restart()` stops both servers and starts
    them again (on new ports) with the same databases, tracker store, evidence folder and
    channels; the properties always name the current servers."""

    def __init__(
        self,
        start: Callable[[], RunningAssistant],
        stop: Callable[[], None],
        workdir: Path,
        evidence_dir: Path,
        tracker_store: str,
        wechat: FakeWeChatApi,
        telegram: FakeTelegramBotApi,
    ) -> None:
        self._start, self._stop = start, stop
        self.workdir, self.evidence_dir, self.tracker_store = workdir, evidence_dir, tracker_store
        self.wechat, self.telegram = wechat, telegram
        self.rasa_log = workdir / "rasa.log"
        self.running = start()

    def restart(self) -> None:
        self._stop()
        self.running = self._start()

    @property
    def api_url(self) -> str:
        return self.running.api_url

    @property
    def rest_url(self) -> str:
        return self.running.rest_url

    @property
    def database_url(self) -> str:
        return self.running.database_url

    @property
    def api_token(self) -> str:
        return self.running.api_token

    @property
    def api_params(self) -> dict:
        return self.running.api_params


@pytest.fixture(scope="session")
def shared_assistant(trained_model: Path, tmp_path_factory) -> Iterator[SharedAssistant]:
    workdir = tmp_path_factory.mktemp("assistant")
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"  # the file running_assistant uses
    for username, (display_name, role, password) in AGENTS.items():
        created = run_cli(
            "agents",
            "create",
            username,
            "--role",
            role,
            "--display-name",
            display_name,
            "--password-stdin",
            env={"AFTERSALES_DATABASE_URL": database_url},
            stdin=password + "\n",
        )
        assert created.returncode == 0, created.stderr
    evidence_dir = workdir / "evidence"
    orders = [
        DEMO_ORDERS,
        *([SHARED_ORDERS] if SHARED_ORDERS.exists() else []),
        headphone_orders_per_platform(workdir / "headphones.json"),
    ]
    settings = {
        "AFTERSALES_RELAY_TOKEN": RELAY_TOKEN,
        "AFTERSALES_SHOP_JWT_SECRET": SHOP_SECRET,
        "AFTERSALES_EVIDENCE_DIR": str(evidence_dir),
        "AFTERSALES_MESSAGING_STATE_DIR": str(workdir / "messaging-state"),
        "AFTERSALES_MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES),
        "AFTERSALES_MAX_VIDEO_BYTES": str(MAX_VIDEO_BYTES),
        # Sanic reads SANIC_* settings: do not wait 15 s for the tests' idle socket.io polls when stopping
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
    }
    with ExitStack() as fakes:
        wechat = fakes.enter_context(FakeWeChatApi(WECHAT_APPID, WECHAT_SECRET))
        telegram = fakes.enter_context(FakeTelegramBotApi(TELEGRAM_TOKEN))
        credentials = write_credentials(workdir / "credentials.yml", wechat.url, telegram.url)
        with tracker_store_database(workdir) as tracker_store, ExitStack() as servers:
            first_start = [True]

            def start() -> RunningAssistant:
                order_files = orders if first_start[0] else ()  # a restart keeps the database as it is
                first_start[0] = False
                return servers.enter_context(
                    running_assistant(
                        trained_model,
                        workdir,
                        order_files,
                        credentials=credentials,
                        extra_env=settings,
                        tracker_store=tracker_store,
                    )
                )

            yield SharedAssistant(start, servers.close, workdir, evidence_dir, tracker_store, wechat, telegram)


@pytest.fixture(autouse=True)
def shared_demo_order_as_on_the_test_day(request):
    """Many tests complain about the same demo order, and the policy counts contacts per order
    (the third one is S2, urgent and handed over): each test that talks to the shared servers
    starts with that order as on the test day, whichever tests ran before it."""
    if "shared_assistant" in request.fixturenames:
        from benchmarks.personas import reset_database
        from bot.db.engine import make_engine

        engine = make_engine(request.getfixturevalue("shared_assistant").database_url)
        try:
            reset_database(engine, [DEMO_ORDERS], orders=[SHARED_DEMO_ORDER])
        finally:
            engine.dispose()
    yield
