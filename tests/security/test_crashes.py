"""Issue 13, "faults that lose nothing": the hand-over pause survives a lost turn, kill -9 of
either server mid-turn, and a database taken away mid-conversation.

Each assistant here is its own (the tests kill, restart and starve its processes), started by
the shared launcher's functions. A turn is caught "mid-action" by holding the orders
database's write lock: the action server's first write waits for it, so a request from Rasa
stays in flight until the lock is released or a process is killed."""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bot.console import commands
from bot.db.engine import make_engine, session_scope
from bot.db.tables import Handoff, Ticket
from bot.domain.vocabulary import ACTIVE_HANDOFF_STATUSES
from bot.launcher import (
    ManagedProcess,
    action_server_environment,
    free_port,
    import_orders,
    rasa_model_loaded,
    server_security_environment,
    start_action_server,
    start_rasa_server,
    wait_until_ready,
)
from bot.services.evidence_store import store_evidence
from tests.conftest import PROJECT_ROOT
from tests.security.conftest import DEMO_ORDERS, texts, wait_for

pytestmark = pytest.mark.rasa

TECHNICAL_PROBLEM = "系统暂时出了点问题"  # domain.yml utter_technical_problem
HEADPHONES_ORDER = "6201458839270153"  # shop/demo_orders.json
HEADPHONES_PHONE_LAST4 = "4086"
BAND_ORDER, BAND_PHONE_LAST4 = "3817702946615580", "7731"  # Q2: exchange or repair
AGENT = ("zhou", "zhou-password-3")
POSTGRES_SERVER = os.environ.get(
    "AFTERSALES_TEST_POSTGRES_SERVER", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def requests_in_flight(port: int) -> int:
    """Established TCP connections to `port` on this machine. Rasa keeps a connection to the
    action server for a while after a call (bot/rasa_action_client.py), so a test first waits
    for `no_kept_connections`: then a connection means a call of the turn under test."""
    hex_port = f"{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and fields[2].endswith(":" + hex_port):
                count += 1
    return count


def no_kept_connections(port: int) -> None:
    from bot.rasa_action_client import IDLE_SECONDS

    assert wait_for(lambda: requests_in_flight(port) == 0, timeout=IDLE_SECONDS + 10), "a connection stays open"


@dataclass
class CrashableAssistant:
    workdir: Path
    model: Path
    database_url: str
    tracker_store: str
    env: Dict[str, str]
    api_token: str
    action_port: int = field(default_factory=free_port)
    rasa_port: int = 0
    actions: Optional[ManagedProcess] = None
    rasa: Optional[ManagedProcess] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start_actions(self) -> None:
        self.actions = start_action_server(self.action_port, self.env, self.workdir / "actions.log")
        wait_until_ready(self.actions, 120)

    def start_rasa(self) -> None:
        self.rasa_port = free_port()
        self.rasa = start_rasa_server(
            self.model,
            self.rasa_port,
            self.action_port,
            self.tracker_store,
            self.env,
            self.workdir / "rasa.log",
            api_token=self.api_token,
        )
        wait_until_ready(self.rasa, 300, accept=rasa_model_loaded)

    @staticmethod
    def kill(process: ManagedProcess) -> None:
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.rasa, self.actions):
            if process is not None:
                process.stop()

    def post(
        self, sender: str, message: str, metadata: Optional[dict] = None, timeout: float = 120
    ) -> requests.Response:
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        return requests.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=timeout)

    def say(self, sender: str, message: str, metadata: Optional[dict] = None) -> List[Dict[str, Any]]:
        response = self.post(sender, message, metadata)
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(
            f"{self.base_url}/conversations/{sender}/tracker", params={"token": self.api_token}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def user_texts(self, sender: str) -> List[str]:
        return [event.get("text") for event in self.tracker(sender)["events"] if event.get("event") == "user"]

    def console_view(self, sender: str) -> Dict[str, Any]:
        """What an agent sees of the conversation in the console."""
        console = requests.Session()
        console.post(
            f"{self.base_url}/console/api/login", json={"username": AGENT[0], "password": AGENT[1]}, timeout=30
        ).raise_for_status()
        response = console.get(f"{self.base_url}/console/api/conversations/{sender}", timeout=30)
        response.raise_for_status()
        return response.json()

    def tickets(self, sender: str) -> List[str]:
        with session_scope(make_engine(self.database_url)) as session:
            return list(session.execute(select(Ticket.ticket_number).where(Ticket.conversation_id == sender)).scalars())

    def all_tickets(self) -> List[str]:
        with session_scope(make_engine(self.database_url)) as session:
            return list(session.execute(select(Ticket.ticket_number).order_by(Ticket.id)).scalars())

    def active_handoffs(self, sender: str) -> int:
        with session_scope(make_engine(self.database_url)) as session:
            return len(
                session.execute(
                    select(Handoff.id).where(
                        Handoff.conversation_id == sender, Handoff.status.in_(ACTIVE_HANDOFF_STATUSES)
                    )
                ).all()
            )

    def photo(self, label: str) -> dict:
        """A photo as the web chat's upload endpoint would have stored it."""
        data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + label.encode() + b"\0" * 48000
        stored = store_evidence(data, evidence_dir=Path(self.env["AFTERSALES_EVIDENCE_DIR"]))
        return {"attachments": [stored.attachment("耳机.jpg")]}

    def verified_complaint(
        self,
        sender: str,
        complaint: str = "我买的耳机坏了，右边没声音",
        order: str = HEADPHONES_ORDER,
        phone_last4: str = HEADPHONES_PHONE_LAST4,
    ) -> None:
        """A quality complaint up to the photo question (the next message opens a ticket)."""
        assert "订单号" in texts(self.say(sender, complaint))
        assert "后4位" in texts(self.say(sender, f"订单号 {order}"))
        reply = texts(self.say(sender, phone_last4))
        assert "已核实订单" in reply, reply
        if "照片" not in reply:
            assert "照片" in texts(self.say(sender, '/inform{"sub_issue":"defect"}'))


def new_assistant(model: Path, workdir: Path, database_url: str, tracker_store: str) -> CrashableAssistant:
    import_orders(database_url, DEMO_ORDERS)
    created = subprocess.run(
        [sys.executable, "-m", "bot", "agents", "create", AGENT[0], "--password-stdin"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "AFTERSALES_DATABASE_URL": database_url},
        input=AGENT[1] + "\n",
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    api_token = secrets.token_urlsafe(24)
    env = {
        **action_server_environment(database_url),
        "AFTERSALES_EVIDENCE_DIR": str(workdir / "evidence"),
        "AFTERSALES_MESSAGING_STATE_DIR": str(workdir / "messaging-state"),
        "AFTERSALES_MESSAGES_PER_CLIENT": "1000/minute",
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
        **server_security_environment(api_token, secrets.token_urlsafe(24), 1024 * 1024),
    }
    return CrashableAssistant(workdir, model, database_url, tracker_store, env, api_token)


@pytest.fixture(scope="module")
def crashable(trained_model: Path, tmp_path_factory) -> Iterator[CrashableAssistant]:
    workdir = tmp_path_factory.mktemp("crashes")
    assistant = new_assistant(
        trained_model, workdir, f"sqlite:///{workdir / 'aftersales.db'}", str(workdir / "tracker.db")
    )
    try:
        assistant.start_actions()
        assistant.start_rasa()
        # an agent is signed in, so a buyer who asks for a person waits for one (with nobody
        # online a REST buyer's next message would become a left message instead)
        requests.post(
            f"{assistant.base_url}/console/api/login", json={"username": AGENT[0], "password": AGENT[1]}, timeout=30
        ).raise_for_status()
        yield assistant
    finally:
        assistant.stop()


class HeldWriteLock:
    """The orders database's write lock held by the test: readers go on, the first write of
    an action waits (busy_timeout) until `release()`."""

    def __init__(self, database_url: str) -> None:
        self.connection = sqlite3.connect(make_url(database_url).database, timeout=30, isolation_level=None)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None


class Sending(threading.Thread):
    """One buyer message sent in the background; `response` or `error` once it is done."""

    def __init__(self, assistant: CrashableAssistant, sender: str, message: str, metadata: Optional[dict] = None):
        super().__init__(daemon=True)
        self.args_ = (sender, message, metadata)
        self.assistant = assistant
        self.response: Optional[requests.Response] = None
        self.error: Optional[Exception] = None
        self.start()

    def run(self) -> None:
        try:
            self.response = self.assistant.post(*self.args_, timeout=60)
        except requests.RequestException as error:
            self.error = error


def test_an_active_handoff_pauses_a_tracker_that_lost_its_pause(crashable):
    """The tracker restored from before the hand-over turn (a backup, or a save lost in a
    crash) while the hand-off row stays: the bot must not answer over the agent."""
    sender = "lost-pause-" + uuid.uuid4().hex[:8]
    assert "售后助手" in texts(crashable.say(sender, "你好"))
    tracker_db = sqlite3.connect(crashable.tracker_store, isolation_level=None)
    [before_handoff] = tracker_db.execute("SELECT max(id) FROM events WHERE sender_id = ?", (sender,)).fetchone()
    assert "人工客服" in texts(crashable.say(sender, "转人工"))
    assert crashable.tracker(sender)["paused"] is True and crashable.active_handoffs(sender) == 1

    # the conversations restored from a backup taken before the hand-over turn
    tracker_db.execute("DELETE FROM events WHERE sender_id = ? AND id > ?", (sender, before_handoff))
    tracker_db.close()
    assert crashable.tracker(sender)["paused"] is False

    assert crashable.say(sender, "我买的耳机坏了，右边没声音") == []  # the agent answers, not the bot
    assert crashable.tracker(sender)["paused"] is True
    seen = crashable.console_view(sender)
    assert seen["paused"] is True
    assert "我买的耳机坏了，右边没声音" in [line["text"] for line in seen["lines"] if line["from"] == "buyer"]
    assert crashable.active_handoffs(sender) == 1


def test_rasa_killed_during_the_handover_turn_comes_back_paused(crashable):
    """kill -9 of Rasa while action_handoff runs: the action server commits the hand-off after
    Rasa is gone, the tracker never saw the pause; after the restart the bot stays silent."""
    sender = "rasa-kill-" + uuid.uuid4().hex[:8]
    assert "售后助手" in texts(crashable.say(sender, "你好"))
    no_kept_connections(crashable.action_port)
    lock = HeldWriteLock(crashable.database_url)
    try:
        sending = Sending(crashable, sender, "转人工")
        assert wait_for(lambda: requests_in_flight(crashable.action_port) > 0, timeout=30), "no action started"
        crashable.kill(crashable.rasa)
    finally:
        lock.release()
    sending.join(30)
    assert sending.response is None and sending.error is not None  # nobody left to answer
    assert wait_for(lambda: crashable.active_handoffs(sender) == 1, timeout=15)  # the action finished its write

    crashable.start_rasa()  # the same tracker store
    assert crashable.say(sender, "我的耳机右边一直没声音") == []
    assert crashable.tracker(sender)["paused"] is True
    seen = crashable.console_view(sender)
    assert "我的耳机右边一直没声音" in [line["text"] for line in seen["lines"] if line["from"] == "buyer"]
    # asking again is told the place in the queue; no second hand-over is queued
    assert "正在为您转接人工客服" in texts(crashable.say(sender, "转人工"))
    assert crashable.active_handoffs(sender) == 1


def test_a_hand_back_whose_tracker_save_was_lost_gives_the_chat_back_to_the_bot(crashable):
    """The agent's hand-back commits the hand-off row, then saves the resumed tracker; a crash
    in between must not leave the buyer talking to nobody."""
    sender = "lost-resume-" + uuid.uuid4().hex[:8]
    assert "人工客服" in texts(crashable.say(sender, "转人工"))
    with session_scope(make_engine(crashable.database_url)) as session:  # the relay's database half
        assert commands.hand_back(session, sender, AGENT[0]) is not None
    assert crashable.tracker(sender)["paused"] is True and crashable.active_handoffs(sender) == 0
    assert "运费" in texts(crashable.say(sender, "退货运费谁出？"))
    assert crashable.tracker(sender)["paused"] is False


def test_action_server_killed_while_opening_a_ticket_loses_and_duplicates_nothing(crashable):
    sender = "actions-kill-" + uuid.uuid4().hex[:8]
    crashable.verified_complaint(sender)
    photo = crashable.photo(sender)
    no_kept_connections(crashable.action_port)
    lock = HeldWriteLock(crashable.database_url)
    try:
        sending = Sending(crashable, sender, "这是照片", photo)
        assert wait_for(lambda: requests_in_flight(crashable.action_port) > 0, timeout=30), "no action started"
        started = time.monotonic()  # another buyer's greeting needs no action and does not wait for this one
        assert "售后助手" in texts(crashable.say("other-" + uuid.uuid4().hex[:8], "你好"))
        assert time.monotonic() - started < 2
        crashable.kill(crashable.actions)
    finally:
        lock.release()
    sending.join(60)
    assert sending.response is not None, sending.error
    assert sending.response.status_code == 200
    assert TECHNICAL_PROBLEM in texts(sending.response.json())  # Rasa is up and says so in Chinese
    assert "这是照片" in crashable.user_texts(sender)

    crashable.start_actions()
    reply = texts(crashable.say(sender, "这是照片", photo))  # the buyer sends it again
    [ticket] = crashable.tickets(sender)
    assert ticket in reply
    assert crashable.tracker(sender)["slots"]["case_ticket_number"] == ticket
    # the conversation goes on with the same ticket
    assert "换货" in texts(crashable.say(sender, '/inform{"remedy":"exchange"}'))
    assert crashable.tickets(sender) == [ticket]


def test_rasa_killed_after_a_ticket_was_told_keeps_it(crashable):
    sender = "told-kill-" + uuid.uuid4().hex[:8]
    crashable.verified_complaint(sender, "手环坏了，屏幕不亮", BAND_ORDER, BAND_PHONE_LAST4)
    reply = texts(crashable.say(sender, "这是照片", crashable.photo(sender)))
    [ticket] = crashable.tickets(sender)
    assert ticket in reply and "换货" in reply  # told, and asked exchange or repair
    no_kept_connections(crashable.action_port)
    lock = HeldWriteLock(crashable.database_url)
    try:
        sending = Sending(crashable, sender, '/inform{"remedy":"exchange"}')
        assert wait_for(lambda: requests_in_flight(crashable.action_port) > 0, timeout=30), "no action started"
        crashable.kill(crashable.rasa)
    finally:
        lock.release()
    sending.join(30)
    existing = crashable.all_tickets()
    crashable.start_rasa()
    assert crashable.tracker(sender)["slots"]["case_ticket_number"] == ticket
    assert "换货" in texts(crashable.say(sender, '/inform{"remedy":"exchange"}'))  # repeated
    assert crashable.all_tickets() == existing
    assert crashable.tracker(sender)["slots"]["case_ticket_number"] == ticket


# --- a PostgreSQL database taken away mid-conversation --------------------------------------


@dataclass
class OwnedDatabases:
    admin_url: str
    orders: str
    tracker: str

    def admin(self):
        return create_engine(self.admin_url, future=True, isolation_level="AUTOCOMMIT")

    def take_away(self, name: str) -> None:
        engine = self.admin()
        try:
            with engine.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
        finally:
            engine.dispose()

    def bring_back(self, name: str) -> None:
        engine = self.admin()
        try:
            with engine.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def postgres_databases() -> Iterator[OwnedDatabases]:
    server = make_url(POSTGRES_SERVER)
    prefix = f"aftersales_fault_{uuid.uuid4().hex[:10]}"
    names = (prefix + "_orders", prefix + "_tracker")
    admin = create_engine(server, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {server.render_as_string()} is unreachable: {type(error).__name__}")
    try:
        yield OwnedDatabases(server.render_as_string(hide_password=False), *names)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def on_postgres(trained_model: Path, tmp_path_factory, postgres_databases) -> Iterator[CrashableAssistant]:
    workdir = tmp_path_factory.mktemp("postgres-faults")
    server = make_url(postgres_databases.admin_url)
    assistant = new_assistant(
        trained_model,
        workdir,
        server.set(database=postgres_databases.orders).render_as_string(hide_password=False),
        server.set(database=postgres_databases.tracker).render_as_string(hide_password=False),
    )
    try:
        assistant.start_actions()
        assistant.start_rasa()
        yield assistant
    finally:
        assistant.stop()


def test_orders_database_taken_away_mid_conversation(on_postgres, postgres_databases):
    sender = "orders-away-" + uuid.uuid4().hex[:8]
    assert "订单号" in texts(on_postgres.say(sender, "我买的耳机坏了，右边没声音"))
    postgres_databases.take_away(postgres_databases.orders)
    try:
        started = time.monotonic()
        replies = on_postgres.say(sender, f"订单号 {HEADPHONES_ORDER}")  # 200, not a 5xx
        assert time.monotonic() - started < 30
        assert TECHNICAL_PROBLEM in texts(replies), replies
        assert f"订单号 {HEADPHONES_ORDER}" in on_postgres.user_texts(sender)  # kept for the agent and the bot
        started = time.monotonic()  # a buyer whose turn needs no order is not held up
        assert "售后助手" in texts(on_postgres.say("other-" + uuid.uuid4().hex[:8], "你好"))
        assert time.monotonic() - started < 2
        assert on_postgres.rasa.is_running() and on_postgres.actions.is_running()
    finally:
        postgres_databases.bring_back(postgres_databases.orders)
    replies = on_postgres.say(sender, f"订单号 {HEADPHONES_ORDER}")
    assert "后4位" in texts(replies), replies
    assert "已核实订单" in texts(on_postgres.say(sender, HEADPHONES_PHONE_LAST4))
    assert on_postgres.tickets(sender) == []


def test_tracker_database_taken_away_mid_conversation(on_postgres, postgres_databases):
    sender = "tracker-away-" + uuid.uuid4().hex[:8]
    assert "订单号" in texts(on_postgres.say(sender, "我买的耳机坏了，右边没声音"))
    postgres_databases.take_away(postgres_databases.tracker)
    try:
        response = on_postgres.post(sender, f"订单号 {HEADPHONES_ORDER}", timeout=60)
        assert response.status_code == 200, response.text
        assert TECHNICAL_PROBLEM in texts(response.json())
        assert on_postgres.rasa.is_running() and on_postgres.actions.is_running()
    finally:
        postgres_databases.bring_back(postgres_databases.tracker)
    # the buyer tries again, as told: the message of the outage is added first, then this one is answered
    replies = on_postgres.say(sender, f"订单号 {HEADPHONES_ORDER}")
    assert "后4位" in texts(replies), replies
    users = [event for event in on_postgres.tracker(sender)["events"] if event.get("event") == "user"]
    assert [event["text"] for event in users] == ["我买的耳机坏了，右边没声音"] + [f"订单号 {HEADPHONES_ORDER}"] * 2
    assert (users[1].get("metadata") or {}).get("kept_during_outage")
    assert not (users[2].get("metadata") or {}).get("kept_during_outage")
    assert "已核实订单" in texts(on_postgres.say(sender, HEADPHONES_PHONE_LAST4))
    assert len(on_postgres.user_texts(sender)) == 4  # kept once, never added again


def lock_waiters(engine) -> int:
    with engine.connect() as connection:  # a transaction of its own: pg_stat_activity is read afresh
        return connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()


def test_an_action_waiting_for_a_row_lock_holds_up_no_other_buyer(on_postgres, postgres_databases):
    """One buyer's action waits for a PostgreSQL row lock (here the test's, in production a
    slow transaction): another buyer's action goes on meanwhile (main's ThreadedActionExecutor
    in bot/action_server.py; on the event loop the other buyer waited over 120 s)."""
    waiting_buyer, other_buyer = "row-lock-" + uuid.uuid4().hex[:8], "meanwhile-" + uuid.uuid4().hex[:8]
    on_postgres.verified_complaint(waiting_buyer)
    assert "订单号" in texts(on_postgres.say(other_buyer, "手环坏了，屏幕不亮"))
    engine = create_engine(on_postgres.database_url, future=True)
    holder = engine.connect()
    try:
        transaction = holder.begin()
        holder.execute(
            text("SELECT id FROM orders WHERE order_number = :number FOR UPDATE"), {"number": HEADPHONES_ORDER}
        )
        sending = Sending(on_postgres, waiting_buyer, "这是照片", on_postgres.photo(waiting_buyer))
        assert wait_for(lambda: lock_waiters(engine) > 0, timeout=30), "the action never reached the locked row"
        started = time.monotonic()
        meanwhile = on_postgres.post(other_buyer, f"订单号 {BAND_ORDER}", timeout=20)
        assert time.monotonic() - started < 2
        assert meanwhile.status_code == 200 and "后4位" in texts(meanwhile.json())
    finally:
        transaction.rollback()
        holder.close()
        engine.dispose()
    sending.join(60)
    assert sending.response is not None and sending.response.status_code == 200
    [ticket] = on_postgres.tickets(waiting_buyer)
    assert ticket in texts(sending.response.json())
