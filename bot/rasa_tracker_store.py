"""The Rasa tracker store of the project: Rasa's SQL tracker store, with the orders database's
SQLite connection set-up (bot/db/engine.py) when the conversations are kept in SQLite.

Rasa 3.6 opens its SQLite tracker database through SQLAlchemy 1.4's default for files, a
NullPool: every read and every save opens the file again in rollback-journal mode, about four
fsyncs per turn. Here the engine keeps its connections (QueuePool) and every connection runs
the project's PRAGMAs once: WAL, synchronous=NORMAL, busy_timeout. A PostgreSQL (or any other)
URL is left exactly as Rasa's SQLTrackerStore sets it up.

endpoints.yml names this class as the tracker store `type`; Rasa passes the `url` as `host`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rasa.shared.utils.common
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.exceptions import RasaException
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.db.engine import apply_sqlite_pragmas, sqlite_in_memory, sqlite_pool_options


class AfterSalesSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        host = kwargs.get("host")
        if isinstance(host, str) and host.startswith("sqlite:"):
            database = make_url(host).database
            if not sqlite_in_memory(database):
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)  # var/ on a fresh clone
        super().__init__(*args, **kwargs)
        url = make_url(str(self.engine.url))
        if url.get_backend_name() == "sqlite" and not sqlite_in_memory(url.database):
            self.engine.dispose()  # the NullPool engine Rasa made; its tables exist now
            self.engine = pooled_sqlite_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)


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
