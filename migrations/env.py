"""Alembic environment: runs the migrations against the orders/tickets database."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from bot.db.engine import make_engine, resolve_database_url
from bot.db.tables import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name)


def database_url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or resolve_database_url()
    )


# any constant; PostgreSQL processes that upgrade at the same moment take turns on it
POSTGRES_MIGRATION_LOCK_ID = 7_417_001


def configure(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=sqlite,  # SQLite can only ALTER via table copies
        # SQLite DDL is transactional once pysqlite's own transaction handling is bypassed
        # (bot.db.engine), so a failed migration leaves no half-built schema behind
        transactional_ddl=True if sqlite else None,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def migrate(connection) -> None:
    configure(connection)
    with context.begin_transaction():
        # SQLite: the transaction starts with BEGIN IMMEDIATE (bot.db.engine), which already
        # serialises concurrent upgrades; PostgreSQL needs an explicit lock
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": POSTGRES_MIGRATION_LOCK_ID})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        migrate(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            migrate(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
