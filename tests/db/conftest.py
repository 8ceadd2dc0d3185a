"""Real databases for the db tests: a SQLite file and a PostgreSQL schema of their own.

Each backend is migrated once per session with the project's Alembic migrations (so every test
also exercises them); each test starts from empty tables. PostgreSQL cases carry the
`postgres` marker and are skipped with the reason when the server cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timezone
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.db import Base, make_engine, session_scope, upgrade_database

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/aftersales_test"

# a fixed "today" and "now" (09:30 in Shanghai) so day counts never depend on the clock
TODAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 21, 1, 30, tzinfo=timezone.utc)


def postgres_url() -> str:
    return os.environ.get("AFTERSALES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def ensure_postgres_database(url: str) -> None:
    """Create the test database if missing (from the `postgres` maintenance database)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def postgres_schema_url(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema` (tables and alembic_version)."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = postgres_url()
    try:
        ensure_postgres_database(url)
    except Exception as error:  # any failure to connect means: no PostgreSQL here
        pytest.skip(
            f"PostgreSQL 不可达: {make_url(url).render_as_string(hide_password=True)}（{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}）"
        )
    return url


@pytest.fixture
def fresh_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """An empty schema of its own (for migration tests), dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(postgres_server_url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'aftersales.db'}"
        upgrade_database(url)
        yield url
        return
    server_url = request.getfixturevalue("postgres_server_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = postgres_schema_url(server_url, schema)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated database with every table emptied."""
    with session_scope(migrated_engine) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
    return migrated_engine


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name
