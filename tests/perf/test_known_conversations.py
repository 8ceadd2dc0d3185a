"""The tracker store's known conversations (bot/rasa_tracker_store.py): a conversation read
before is read again by asking only for the events added since, and saved without counting
the stored ones. Checked against Rasa's own SQLTrackerStore reading the same SQLite file,
with a second store instance standing in for another replica (or the desk) writing to it."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

rasa = pytest.importorskip("rasa")
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.rasa_tracker_store import (  # noqa: E402
    STORED_EVENTS,
    AfterSalesSQLTrackerStore,
    KnownConversations,
    LoudTrackerStore,
)

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, complain]
slots:
  order_id:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: 你好}]
"""
)


def run(coroutine):
    return asyncio.run(coroutine)


def store_at(path) -> AfterSalesSQLTrackerStore:
    return AfterSalesSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{path}")


def rasa_events(path, sender: str):
    """What Rasa's own store reads from the file: the latest session's events, as dicts."""
    store = SQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{path}")
    try:
        tracker = run(store.retrieve(sender))
        return None if tracker is None else [event.as_dict() for event in tracker.events]
    finally:
        store.engine.dispose()


def one_turn(tracker, text: str, order: str) -> None:
    tracker.update(UserUttered(text, {"name": "complain", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_check_order"))
    tracker.update(SlotSet("order_id", order))
    tracker.update(BotUttered("好的"))
    tracker.update(ActionExecuted("action_listen"))


def known_conversation(store, sender: str, text: str, order: str):
    """A conversation with one stored turn, read back once: the store knows it now."""
    tracker = run(store.get_or_create_tracker(sender))
    one_turn(tracker, text, order)
    run(store.save(tracker))
    return run(store.retrieve(sender))


class Statements:
    """The SQL statements an engine runs while the block runs."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seen: list = []

    def _record(self, conn, cursor, statement, *args) -> None:
        self.seen.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def selects(self):
        return [s for s in self.seen if s.lstrip().upper().startswith("SELECT")]


def test_reads_and_saves_agree_with_rasas_store_turn_after_turn(tmp_path):
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = run(store.get_or_create_tracker("buyer-1"))
    for turn in range(6):
        one_turn(tracker, f"第{turn}句", f"62014{turn:011d}")
        run(store.save(tracker))
        assert rasa_events(path, "buyer-1") == [event.as_dict() for event in tracker.events]
        tracker = run(store.retrieve("buyer-1"))
        assert [event.as_dict() for event in tracker.events] == rasa_events(path, "buyer-1")
    assert tracker.get_slot("order_id") == "6201400000000005"
    assert len(store.known) == 1


def test_a_known_conversation_costs_one_select_to_read_and_none_to_save(tmp_path):
    store = store_at(tmp_path / "tracker.db")
    tracker = known_conversation(store, "buyer-2", "耳机坏了", "6201400000000001")  # now known
    one_turn(tracker, "右边没声音", "6201400000000001")
    with Statements(store.engine) as saving:
        run(store.save(tracker))
    assert saving.selects() == [], "a save of a tracker this store read counts nothing"
    assert sum("INSERT" in s.upper() for s in saving.seen) == 1, "the turn's five events in one statement"
    with Statements(store.engine) as reading:
        again = run(store.retrieve("buyer-2"))
    assert len(reading.selects()) == 1
    assert "CASE" in reading.selects()[0].upper(), "only the events after the known ones are read whole"
    assert getattr(again, STORED_EVENTS) == len(again.events) == len(tracker.events)


def first_message(tracker, text: str) -> None:
    """What the processor adds on a new conversation's first message: the session start (Rasa's
    window leaves out the `action_session_start` stamped before it), then the turn."""
    started = time.time() - 1  # the turn that follows is stamped later, as in a real conversation
    tracker.update(ActionExecuted("action_session_start", timestamp=started))
    tracker.update(SessionStarted(timestamp=started + 0.001))
    tracker.update(ActionExecuted("action_listen", timestamp=started + 0.002))
    one_turn(tracker, text, "6201400000000007")


def test_a_new_conversation_is_written_in_one_statement_and_read_back_as_rasa_reads_it(tmp_path):
    path = tmp_path / "tracker.db"
    inner = store_at(path)
    store = LoudTrackerStore(inner)  # as the Rasa server wraps it (bot/rasa_tracker_store.py)
    with Statements(inner.engine) as creating:
        tracker = run(store.get_or_create_tracker("buyer-7", append_action_listen=False))  # as the processor asks
    assert len(tracker.events) == 0
    assert len(creating.selects()) == 1 and len(creating.seen) == 1, "one read finds it empty; nothing is written"
    first_message(tracker, "耳机坏了")
    with Statements(inner.engine) as saving:
        run(store.save(tracker))
    assert saving.selects() == [], "nothing is counted"
    assert [s.split()[0].upper() for s in saving.seen] == ["INSERT"], "the first message's events in one statement"
    expected = rasa_events(path, "buyer-7")
    assert [event["event"] for event in expected][0] == "session_started"
    with Statements(inner.engine) as reading:
        again = run(store.retrieve("buyer-7"))
    assert len(reading.selects()) == 1 and "CASE" in reading.selects()[0].upper()
    assert [event.as_dict() for event in again.events] == expected
    assert again.get_slot("order_id") == "6201400000000007"
    assert getattr(again, STORED_EVENTS) == len(again.events)
    one_turn(again, "右边没声音", "6201400000000007")
    run(store.save(again))
    assert [event.as_dict() for event in run(store.retrieve("buyer-7")).events] == rasa_events(path, "buyer-7")


def test_a_conversation_found_empty_and_then_written_elsewhere_is_read_whole(tmp_path):
    path = tmp_path / "tracker.db"
    replica_a, replica_b = store_at(path), store_at(path)
    assert run(replica_a.retrieve("buyer-8")) is None  # A knows it as empty
    on_b = run(replica_b.get_or_create_tracker("buyer-8", append_action_listen=False))
    first_message(on_b, "查物流")
    run(replica_b.save(on_b))
    on_a = run(replica_a.get_or_create_tracker("buyer-8", append_action_listen=False))
    assert [event.as_dict() for event in on_a.events] == rasa_events(path, "buyer-8")
    assert on_a.get_slot("order_id") == "6201400000000007"


def test_events_another_replica_adds_are_read(tmp_path):
    path = tmp_path / "tracker.db"
    replica_a, replica_b = store_at(path), store_at(path)
    known_conversation(replica_a, "buyer-3", "查物流", "6201400000000003")  # replica A knows the conversation

    on_b = run(replica_b.retrieve("buyer-3"))
    one_turn(on_b, "还没到", "6201400000000099")
    run(replica_b.save(on_b))

    on_a = run(replica_a.retrieve("buyer-3"))
    assert on_a.get_slot("order_id") == "6201400000000099"
    assert [event.as_dict() for event in on_a.events] == rasa_events(path, "buyer-3")
    one_turn(on_a, "好的", "6201400000000100")
    run(replica_a.save(on_a))  # A's save after B's: nothing stored twice, nothing lost
    assert [event.as_dict() for event in on_a.events] == rasa_events(path, "buyer-3")


def test_rows_deleted_elsewhere_are_not_brought_back(tmp_path):
    path = tmp_path / "tracker.db"
    store = store_at(path)
    known_conversation(store, "buyer-4", "假货", "6201400000000004")
    eraser = sa.create_engine(f"sqlite:///{path}")
    with eraser.begin() as connection:  # a shop erasing the buyer's data by hand
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'buyer-4'"))
    eraser.dispose()
    assert run(store.retrieve("buyer-4")) is None
    assert store.known.get("buyer-4").ids == [], "known as empty now"


def test_a_new_session_started_elsewhere_moves_the_window(tmp_path):
    path = tmp_path / "tracker.db"
    replica_a, replica_b = store_at(path), store_at(path)
    known_conversation(replica_a, "buyer-5", "退货", "6201400000000005")

    on_b = run(replica_b.retrieve("buyer-5"))
    time.sleep(0.01)
    on_b.update(ActionExecuted("action_session_start"))
    on_b.update(SessionStarted())
    on_b.update(SlotSet("order_id", "6201400000000555"))
    on_b.update(ActionExecuted("action_listen"))
    run(replica_b.save(on_b))

    on_a = run(replica_a.retrieve("buyer-5"))
    assert [event.as_dict() for event in on_a.events] == rasa_events(path, "buyer-5")
    assert not any(isinstance(event, UserUttered) for event in on_a.events), "the old session is left out"


def test_a_tracker_the_store_never_read_is_saved_rasas_way(tmp_path):
    path = tmp_path / "tracker.db"
    store = store_at(path)
    tracker = run(store.get_or_create_tracker("buyer-6"))
    one_turn(tracker, "换货", "6201400000000006")
    run(store.save(tracker))
    copy = run(store.retrieve("buyer-6")).copy()
    setattr(copy, STORED_EVENTS, None)  # e.g. a tracker rebuilt by the HTTP API's replace
    one_turn(copy, "尺码不对", "6201400000000066")
    run(store.save(copy))
    assert rasa_events(path, "buyer-6") == [event.as_dict() for event in copy.events]


def test_conversations_found_empty_are_kept_to_a_number():
    from bot.rasa_tracker_store import KnownSession

    known = KnownConversations(most=3)
    for index in range(5):
        known.put(f"nobody-{index}", KnownSession(None, [], []))
    assert len(known) == 3 and known.get("nobody-0") is None and known.get("nobody-4") is not None


def test_known_conversations_stay_within_their_budget():
    from bot.rasa_tracker_store import KnownSession

    known = KnownConversations(budget_bytes=1000)
    for index in range(5):
        known.put(f"buyer-{index}", KnownSession(None, [index], ["x" * 300]))
    assert len(known) == 3 and known.size == 900
    assert known.get("buyer-0") is None and known.get("buyer-4") is not None
    known.get("buyer-2")  # used lately: kept when the next one comes
    known.put("buyer-9", KnownSession(None, [9], ["y" * 300]))
    assert known.get("buyer-2") is not None and known.get("buyer-3") is None


@pytest.fixture
def postgres_tracker_url():
    """A schema of its own on the PostgreSQL server, dropped afterwards."""
    import uuid

    from tests.db.conftest import ensure_postgres_database, postgres_schema_url, postgres_url

    server_url = postgres_url()
    try:
        ensure_postgres_database(server_url)
    except Exception as error:  # no PostgreSQL here
        pytest.skip(f"PostgreSQL 不可达（{type(error).__name__}）")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(server_url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_on_postgresql_a_known_conversation_is_read_and_saved_outside_a_transaction(postgres_tracker_url):
    """psycopg2 sends a BEGIN of its own before a transaction's first statement, and a read ends
    with a ROLLBACK: two more round trips around each single statement."""
    store = AfterSalesSQLTrackerStore(domain=DOMAIN, host=postgres_tracker_url)
    try:
        tracker = run(store.get_or_create_tracker("buyer-pg", append_action_listen=False))
        first_message(tracker, "耳机坏了")
        seen = []

        def in_transaction(connection, cursor, statement, *args) -> None:
            seen.append((statement.split()[0].upper(), not connection.connection.autocommit))

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", in_transaction)  # whichever engine runs them
        run(store.save(tracker))
        again = run(store.retrieve("buyer-pg"))
        one_turn(again, "右边没声音", "6201400000000007")
        run(store.save(again))
        latest = run(store.retrieve("buyer-pg"))
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", in_transaction)

        assert seen == [("INSERT", False), ("SELECT", False), ("INSERT", False), ("SELECT", False)]
        rasa_store = SQLTrackerStore(domain=DOMAIN, host=postgres_tracker_url)
        try:
            expected = [event.as_dict() for event in run(rasa_store.retrieve("buyer-pg")).events]
        finally:
            rasa_store.engine.dispose()
        assert [event.as_dict() for event in latest.events] == expected
        assert latest.get_slot("order_id") == "6201400000000007"
    finally:
        store.engine.dispose()
