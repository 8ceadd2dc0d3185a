"""Engines and transactions for the orders/tickets database (SQLite or PostgreSQL)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, List, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A process keeps this many SQLite connections open (plus a few more under a burst), so a
# transaction reuses a connection whose PRAGMAs already ran instead of opening the file again.
SQLITE_POOL_SIZE = 5
SQLITE_POOL_OVERFLOW = 10


def resolve_database_url(url: Optional[str] = None) -> str:
    if url:
        return url
    from bot.config import get_settings

    return get_settings().database_url


def make_engine(url: Optional[str] = None, **engine_options) -> Engine:
    """A 2.0-style engine for `url` (default: the configured database URL)."""
    url = resolve_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = sqlite_in_memory(parsed.database)
        if not in_memory:
            _create_sqlite_directory(parsed.database)
            engine_options = {**sqlite_pool_options(), **engine_options}
        engine = create_engine(url, future=True, **engine_options)
        _configure_sqlite(engine, in_memory=in_memory)
        return engine
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(url, future=True, **engine_options)


@lru_cache(maxsize=4)
def shared_engine(url: Optional[str] = None) -> Engine:
    """One engine per URL for long-running processes (the action server); its pool is reused."""
    return make_engine(url)


@lru_cache(maxsize=4)
def reading_engine(url: Optional[str] = None) -> Engine:
    """An engine for reads that must not queue behind a writer (a check made on every buyer
    message): on a SQLite file its transactions begin DEFERRED, and in WAL a reader never
    waits for the write lock that `make_engine`'s BEGIN IMMEDIATE takes. Others: `shared_engine`."""
    url = resolve_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or sqlite_in_memory(parsed.database):
        return shared_engine(url)
    engine = create_engine(url, future=True, **sqlite_pool_options())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        apply_sqlite_pragmas(dbapi_connection, in_memory=False)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@lru_cache(maxsize=4)
def one_statement_engine(url: Optional[str] = None) -> Engine:
    """An engine for a read of one statement that must not wait (`read_alone`): on PostgreSQL it
    runs outside a transaction (psycopg2 sends a BEGIN of its own before it, and the ROLLBACK
    that ends a read is another round trip); elsewhere `reading_engine`."""
    url = resolve_database_url(url)
    if make_url(url).get_backend_name() == "postgresql":
        # a pool of its own: switching a pooled connection to autocommit and back costs a
        # round trip each way; no check before each use, `read_alone` reads again instead
        return make_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=False)
    return reading_engine(url)


def read_alone(statement: Any, url: Optional[str] = None) -> List[Any]:
    """The rows of one read on `one_statement_engine`."""
    return read_once_more_if_dropped(one_statement_engine(url), statement)


def read_once_more_if_dropped(engine: Engine, statement: Any, parameters: Optional[dict] = None) -> List[Any]:
    """The rows of one read on `engine`. A connection the server dropped (it was restarted)
    fails the read, which is then made once more on a new connection: a read can be repeated,
    and checking every connection before use costs a round trip per read."""
    try:
        with engine.connect() as connection:
            return connection.execute(statement, parameters or {}).all()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return connection.execute(statement, parameters or {}).all()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: everything inside commits in a single transaction or rolls back.

    Objects stay readable after the block (expire_on_commit=False) so callers can print them.
    """
    session = Session(engine, future=True, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def _create_sqlite_directory(database: Optional[str]) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def sqlite_in_memory(database: Optional[str]) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def sqlite_pool_options() -> dict:
    """Engine options for a file SQLite database: a pool of kept connections.

    SQLAlchemy 1.4 gives file SQLite a NullPool, which opens the file, and runs every PRAGMA,
    for each transaction. A connection checked out of the pool is used by one thread at a
    time, so pysqlite's same-thread check can be off. Shared with the tracker store
    (bot/rasa_tracker_store.py)."""
    return {
        "poolclass": QueuePool,
        "pool_size": SQLITE_POOL_SIZE,
        "max_overflow": SQLITE_POOL_OVERFLOW,
        "connect_args": {"check_same_thread": False},
    }


def apply_sqlite_pragmas(dbapi_connection, *, in_memory: bool, foreign_keys: bool = True) -> None:
    """The settings every SQLite connection of the project runs once, when it is opened.

    WAL lets readers (the action server, the console) work while another process writes, and
    with synchronous=NORMAL a commit writes the log without an fsync each time (a crash of
    the machine may lose the last commits, never corrupt the file). busy_timeout makes a
    writer wait for the lock instead of failing with "database is locked"."""
    cursor = dbapi_connection.cursor()
    if foreign_keys:
        cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if not in_memory:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    # pysqlite opens transactions lazily and mishandles SAVEPOINT, so BEGIN is emitted here
    # (the approach SQLAlchemy documents). IMMEDIATE takes the write lock up front: a
    # read-then-write transaction (select-then-insert) then waits its turn (busy timeout)
    # instead of failing with "database is locked" when another process wrote in between.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        apply_sqlite_pragmas(dbapi_connection, in_memory=in_memory)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
