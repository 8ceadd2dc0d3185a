"""The Rasa tracker store of the project: Rasa's SQL tracker store, with the orders database's
SQLite connection set-up (bot/db/engine.py) when the conversations are kept in SQLite.

Rasa 3.6 opens its SQLite tracker database through SQLAlchemy 1.4's default for files, a
NullPool: every read and every save opens the file again in rollback-journal mode, about four
fsyncs per turn. Here the engine keeps its connections (QueuePool) and every connection runs
the project's PRAGMAs once: WAL, synchronous=NORMAL, busy_timeout. A PostgreSQL (or any other)
URL is left exactly as Rasa's SQLTrackerStore sets it up.

It also remembers the conversations it read lately (`KnownConversations`): the next read of
one asks the database only for the events added since, and a save writes the tracker's new
events without counting the stored ones first. Rasa's own store reads the whole session on
every message, as ORM objects, and counts it again on every save: a quarter of the Rasa
process's time under load here. A conversation it found empty is known too: its first save
writes the first message's events in one statement (Rasa's counts, then inserts them one by one,
a round trip each on PostgreSQL), and the next read finds them by their session's start.

endpoints.yml names this class as the tracker store `type`; Rasa passes the `url` as `host`.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

import rasa.shared.utils.common
import sqlalchemy as sa
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
    create_engine_kwargs,
)
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.db.engine import apply_sqlite_pragmas, read_once_more_if_dropped, sqlite_in_memory, sqlite_pool_options


class AfterSalesSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        host = kwargs.get("host")
        if isinstance(host, str) and host.startswith("sqlite:"):
            database = make_url(host).database
            if not sqlite_in_memory(database):
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)  # var/ on a fresh clone
        super().__init__(*args, **kwargs)
        url = self.engine.url
        # PostgreSQL: psycopg2 opens every transaction with a BEGIN round trip of its own and a
        # read ends it with a ROLLBACK. The read and the insert of a known conversation are one
        # statement each, atomic on their own, so they run outside a transaction, on connections
        # of their own (switching a pooled one to autocommit and back costs a round trip each way)
        self._single_statements: Optional[sa.engine.Engine] = None
        if url.get_backend_name() == "sqlite" and not sqlite_in_memory(url.database):
            self.engine.dispose()  # the NullPool engine Rasa made; its tables exist now
            self.engine = pooled_sqlite_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        elif url.get_backend_name() == "postgresql":
            options = create_engine_kwargs(str(url))  # Rasa's pool and schema options, as Rasa reads them
            self._single_statements = sa.create_engine(url, isolation_level="AUTOCOMMIT", **options)
            # Rasa's engine is left the rarer reads (the HTTP API's, a new conversation's): it
            # checks a connection before use, so that none left from a database outage fails one
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **options)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.known = KnownConversations()
        table = self.SQLEvent
        # built once: for a statement built anew, SQLAlchemy works its cache key out on every read
        self._rows_since_query = (
            sa.select(
                table.id, table.type_name, table.timestamp, sa.case((table.id > sa.bindparam("last"), table.data))
            )
            .where(table.sender_id == sa.bindparam("sender_id"), table.id >= sa.bindparam("first"))
            .order_by(table.id)
        )
        self._insert_events = sa.insert(table.__table__)
        self._most_rows_in_one_insert = getattr(self.engine.dialect, "executemany_values_page_size", 0)

    def _read_alone(self, query: Any, parameters: dict) -> List[Any]:
        if self._single_statements is not None:
            return read_once_more_if_dropped(self._single_statements, query, parameters)
        with self.session_scope() as session:
            return session.execute(query, parameters).all()

    def _insert_alone(self, rows: List[dict]) -> None:
        if self._single_statements is not None and len(rows) <= self._most_rows_in_one_insert:
            with self._single_statements.connect() as connection:
                connection.execute(self._insert_events, rows)  # one INSERT … VALUES (…), (…)
            return
        with self.session_scope() as session:
            session.execute(self._insert_events, rows)
            session.commit()

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the conversation's latest session (Rasa's `retrieve`), read through
        `KnownConversations`."""
        known = self._session_events(sender_id)
        if known is None or not known.ids or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(data) for data in known.data], self.domain.slots
        )
        setattr(tracker, STORED_EVENTS, len(known.data))
        return tracker

    def _session_events(self, sender_id: str) -> Optional["KnownSession"]:
        """The stored events of the latest session: the known ones plus those added since, or
        all of them read again when the known ones no longer match the database (rows
        deleted, or added out of order) or a new session started."""
        table = self.SQLEvent
        known = self.known.get(sender_id)
        if known is not None:
            first, last = (known.ids[0], known.ids[-1]) if known.ids else (0, 0)
            parameters = {"sender_id": sender_id, "first": first, "last": last}
            rows = self._read_alone(self._rows_since_query, parameters)
            earlier = [row.id for row in rows if row.id <= last and known.in_session(row.timestamp)]
            later = [row for row in rows if row.id > last]
            if earlier == known.ids and not any(known.starts_a_later_session(row) for row in later):
                self.known.extend(sender_id, [(row.id, row[3]) for row in later if known.in_session(row.timestamp)])
                return known
            self.known.forget(sender_id)
        with self.session_scope() as session:
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                .with_entities(table.id, table.type_name, table.timestamp, table.data)
                .all()
            )
        if not rows:
            self.known.put(sender_id, KnownSession(None, [], []))  # its first save need not count
            return None
        starts = [row.timestamp for row in rows if row.type_name == SessionStarted.type_name]
        known = KnownSession(max(starts) if starts else None, [row.id for row in rows], [row.data for row in rows])
        self.known.put(sender_id, known)
        return known

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `save`, except that when this store read the tracker (or found its
        conversation empty) and still knows its session, the new events are those after the
        ones it read: no count."""
        stored = getattr(tracker, STORED_EVENTS, None)
        known = self.known.get(tracker.sender_id)
        if stored is None and known is not None and not known.ids and known.session_start is None:
            stored = 0  # a conversation this store found empty: the tracker Rasa starts it with
        if (
            stored is None
            or known is None
            or stored != len(known.ids)
            or stored > len(tracker.events)
            or getattr(tracker, "_max_event_history", None) is not None
        ):
            await super().save(tracker)  # Rasa's way, counting what is stored
            self.known.forget(tracker.sender_id)
            setattr(tracker, STORED_EVENTS, None)
            return
        await self.stream_events(tracker)
        new_events = list(itertools.islice(tracker.events, stored, None))
        if new_events:  # one statement for the turn's events (the ORM would insert them one by one)
            self._insert_alone([self._event_row(tracker.sender_id, event) for event in new_events])
        setattr(tracker, STORED_EVENTS, len(tracker.events))
        starts = [event.timestamp for event in new_events if isinstance(event, SessionStarted)]
        if starts and not known.ids:
            known.session_start = max(starts)  # a new conversation's first session
        elif starts or any(not known.in_session(event.timestamp) for event in new_events):
            self.known.forget(tracker.sender_id)  # the next read finds the new session's window
        # otherwise the next read of the conversation picks the new rows up with their ids

    @staticmethod
    def _event_row(sender_id: str, event: Any) -> dict:
        # the same columns Rasa's SQLTrackerStore.save writes
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


STORED_EVENTS = "_aftersales_stored_events"  # on a tracker: how many of its events are stored


@dataclass
class KnownSession:
    """The stored events of a conversation's latest session, as Rasa's query finds them: the
    events from the latest `session_started` on, by timestamp (all of them when none)."""

    session_start: Optional[float]
    ids: List[int]
    data: List[str]
    size: int = field(default=0)

    def in_session(self, timestamp: Optional[float]) -> bool:
        return self.session_start is None or (timestamp is not None and timestamp >= self.session_start)

    def starts_a_later_session(self, row: Any) -> bool:
        """A stored `session_started` after this session's own start: Rasa's window moves."""
        if row.type_name != SessionStarted.type_name:
            return False
        return self.session_start is None or row.timestamp is None or row.timestamp > self.session_start


class KnownConversations:
    """The sessions read lately, the least recently used given up first past `budget_bytes` or
    past `most` sessions (conversations found empty weigh nothing)."""

    def __init__(self, budget_bytes: int = 64 * 1024 * 1024, most: int = 50_000) -> None:
        self.budget_bytes = budget_bytes
        self.most = most
        self.size = 0
        self._sessions: "OrderedDict[str, KnownSession]" = OrderedDict()

    def get(self, sender_id: str) -> Optional[KnownSession]:
        known = self._sessions.get(sender_id)
        if known is not None:
            self._sessions.move_to_end(sender_id)
        return known

    def put(self, sender_id: str, known: KnownSession) -> None:
        self.forget(sender_id)
        known.size = sum(len(data) for data in known.data)
        self._sessions[sender_id] = known
        self.size += known.size
        self._keep_to_budget()

    def extend(self, sender_id: str, rows: List[tuple]) -> None:
        known = self._sessions.get(sender_id)
        if known is None:
            return
        for row_id, data in rows:
            known.ids.append(row_id)
            known.data.append(data)
            known.size += len(data)
            self.size += len(data)
        self._keep_to_budget()

    def forget(self, sender_id: str) -> None:
        known = self._sessions.pop(sender_id, None)
        if known is not None:
            self.size -= known.size

    def __len__(self) -> int:
        return len(self._sessions)

    def _keep_to_budget(self) -> None:
        while (self.size > self.budget_bytes or len(self._sessions) > self.most) and len(self._sessions) > 1:
            _, oldest = self._sessions.popitem(last=False)
            self.size -= oldest.size


def pooled_sqlite_engine(url) -> sa.engine.Engine:
    engine = sa.create_engine(url, **sqlite_pool_options())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Rasa's events table has no foreign keys; the rest is the orders database's set-up
        apply_sqlite_pragmas(dbapi_connection, in_memory=False, foreign_keys=False)

    return engine


class TrackerStoreUnavailable(RasaException):
    """The conversations cannot be stored: Rasa must not carry on with an in-memory store."""


NO_FALLBACK_MARKER = "_aftersales_no_in_memory_fallback"


class LoudTrackerStore(FailSafeTrackerStore):
    """Rasa wraps every tracker store in a FailSafeTrackerStore that, when the database fails,
    answers a read with "no conversation" and keeps writes in memory: the buyer's verified
    order was forgotten and the turn never stored. This one raises instead, so the turn fails
    (the channel answers the buyer) and nothing is stored where nobody will find it again."""

    def on_tracker_store_error(self, error: Exception) -> None:
        raise TrackerStoreUnavailable(f"对话记录库暂时无法写入（{type(error).__name__}），本轮对话未处理。") from error

    def on_tracker_store_retrieve_error(self, error: Exception) -> None:
        raise TrackerStoreUnavailable(f"对话记录库暂时无法读取（{type(error).__name__}），本轮对话未处理。") from error

    @property
    def fallback_tracker_store(self) -> TrackerStore:
        raise TrackerStoreUnavailable("对话记录库不可用，且不允许改用内存存储。")


def install_no_in_memory_fallback() -> bool:
    """Patch Rasa 3.6 in its two places that fall back to InMemoryTrackerStore:
    - at start-up, a tracker store `type` that cannot be imported (tracker_store.py
      `_load_from_module_name_in_endpoint_config`) now stops the server with a Chinese message;
    - at run time, the Agent wraps its store in LoudTrackerStore instead of FailSafeTrackerStore.
    Installed when the Rasa server loads channels/ (before it creates the tracker store)."""
    from rasa.core import agent as rasa_agent
    from rasa.core import tracker_store as rasa_tracker_store

    if getattr(rasa_tracker_store._load_from_module_name_in_endpoint_config, NO_FALLBACK_MARKER, False):
        return True

    def _load_from_module_name_in_endpoint_config(domain, store, event_broker=None):
        try:
            tracker_store_class = rasa.shared.utils.common.class_from_module_path(store.type)
        except (AttributeError, ImportError) as error:
            raise TrackerStoreUnavailable(
                f"无法加载对话记录库（tracker store）类型「{store.type}」：{error}。"
                "请检查 endpoints.yml 的 tracker_store.type；助手不会改用内存存储（重启后对话会丢失）。"
            ) from error
        return tracker_store_class(host=store.url, domain=domain, event_broker=event_broker, **store.kwargs)

    def _create_tracker_store(store, domain):
        if store is None:  # no tracker store configured at all (rasa shell, tests): Rasa's default
            store = InMemoryTrackerStore(domain)
        store.domain = domain
        return LoudTrackerStore(store)

    setattr(_load_from_module_name_in_endpoint_config, NO_FALLBACK_MARKER, True)
    rasa_tracker_store._load_from_module_name_in_endpoint_config = _load_from_module_name_in_endpoint_config
    rasa_agent.Agent._create_tracker_store = staticmethod(_create_tracker_store)
    return True
