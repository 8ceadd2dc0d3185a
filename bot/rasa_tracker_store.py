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

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
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
