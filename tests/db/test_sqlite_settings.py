"""One SQLite set-up for the orders database and the tracker store: kept connections, WAL,
synchronous=NORMAL and a busy timeout, each PRAGMA run once per connection, not per
transaction. PostgreSQL keeps the engines it had."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import NullPool, QueuePool

from bot.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, reading_engine, session_scope

SYNCHRONOUS_NORMAL = 1


def pragmas(connection) -> dict:
    return {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
    }


def count_connects(engine) -> list:
    opened = []
    event.listen(engine, "connect", lambda dbapi_connection, record: opened.append(dbapi_connection))
    return opened


def test_orders_database_keeps_one_wal_connection(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'orders.db'}")
    opened = count_connects(engine)
    assert isinstance(engine.pool, QueuePool)
    for _ in range(5):
        with session_scope(engine) as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect() as connection:
        assert pragmas(connection) == {
            "journal_mode": "wal",
            "synchronous": SYNCHRONOUS_NORMAL,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "foreign_keys": 1,
        }
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 5
    assert len(opened) == 1, "six transactions, one connection opened"
    engine.dispose()


def test_in_memory_orders_database_is_not_pooled_across_connections():
    engine = make_engine("sqlite://")
    assert not isinstance(engine.pool, QueuePool)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def tracker_store(url):
    from bot.rasa_tracker_store import AfterSalesSQLTrackerStore

    return AfterSalesSQLTrackerStore(host=url)


def save_and_read(store, sender: str, texts) -> list:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    async def run():
        for text_ in texts:
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
            tracker.update(UserUttered(text_))
            await store.save(tracker)
        return await store.retrieve(sender)

    tracker = asyncio.run(run())
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def test_tracker_store_uses_the_same_sqlite_setup(tmp_path):
    pytest.importorskip("rasa")
    store = tracker_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert isinstance(store.engine.pool, QueuePool)
    opened = count_connects(store.engine)
    assert save_and_read(store, "buyer-1", ["你好", "我要退货", "谢谢"]) == ["你好", "我要退货", "谢谢"]
    with store.engine.connect() as connection:
        settings = pragmas(connection)
    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == SYNCHRONOUS_NORMAL
    assert settings["busy_timeout"] == SQLITE_BUSY_TIMEOUT_MS
    assert len(opened) == 1, "three turns saved and read again over one connection"
    assert (tmp_path / "tracker.db-wal").exists()


@pytest.mark.postgres
def test_tracker_store_on_postgresql_keeps_rasas_engine(postgres_server_url):
    pytest.importorskip("rasa")
    from rasa.core.tracker_store import create_engine_kwargs

    store = tracker_store(postgres_server_url)
    assert store.engine.dialect.name == "postgresql"
    assert not isinstance(store.engine.pool, NullPool)
    assert store.engine.pool.size() == create_engine_kwargs(postgres_server_url)["pool_size"]
    sender = f"buyer-pg-{id(store)}"
    assert save_and_read(store, sender, ["你好"]) == ["你好"]
    store.engine.dispose()


def test_the_reading_engine_does_not_wait_for_a_writer(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    writer_engine = make_engine(url)
    with session_scope(writer_engine) as session:
        session.execute(text("CREATE TABLE notes (body TEXT)"))
        session.execute(text("INSERT INTO notes VALUES ('first')"))
    with writer_engine.connect() as writer:  # BEGIN IMMEDIATE: holds the write lock until the block ends
        writer.execute(text("INSERT INTO notes VALUES ('second, not committed')"))
        started = time.monotonic()
        with session_scope(reading_engine(url)) as session:
            assert session.execute(text("SELECT body FROM notes")).scalars().all() == ["first"]
        assert time.monotonic() - started < 1  # a make_engine session would wait busy_timeout (10 s), then fail
    reading_engine(url).dispose()
    writer_engine.dispose()
