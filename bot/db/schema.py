"""Creating and upgrading the schema with the project's Alembic migrations."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from bot.config import PROJECT_ROOT
from bot.db.engine import make_engine, resolve_database_url, shared_engine

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
# Alembic runs every command through one module-level context (alembic.context), so two
# threads of a server upgrading at once break each other (KeyError 'config').
_ALEMBIC_LOCK = threading.RLock()
_handed_out: list = []


def alembic_config(url: Optional[str] = None, connection: Optional[Connection] = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is ConfigParser interpolation syntax; URL-encoded passwords contain it
    config.set_main_option("sqlalchemy.url", resolve_database_url(url).replace("%", "%%"))
    config.attributes["skip_logging_config"] = True
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(url: Optional[str] = None, revision: str = "head") -> None:
    """`alembic upgrade head` for `url` (default: the configured database); safe to repeat."""
    with _ALEMBIC_LOCK:
        command.upgrade(alembic_config(url), revision)


def migrated_engine(url: str) -> Engine:
    """The process's shared engine for `url`, its schema brought to head on first use. The
    servers call it from several worker threads at once (a scheduled job and a request)."""
    with _ALEMBIC_LOCK:
        return _migrated_engine(url)


@lru_cache(maxsize=4)
def _migrated_engine(url: str) -> Engine:
    upgrade_database(url)
    engine = shared_engine(url)
    _handed_out.append(engine)
    return engine


def forget_migrated_engines() -> None:
    """Close the engines `migrated_engine` handed out (a test switching databases)."""
    with _ALEMBIC_LOCK:
        _migrated_engine.cache_clear()
        for engine in _handed_out:
            engine.dispose()
        _handed_out.clear()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: Optional[str] = None) -> Optional[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
