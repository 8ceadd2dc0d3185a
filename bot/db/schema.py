"""Creating and upgrading the schema with the project's Alembic migrations."""
from __future__ import annotations

from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.config import PROJECT_ROOT
from bot.db.engine import make_engine, resolve_database_url

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


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
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: Optional[str] = None) -> Optional[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
