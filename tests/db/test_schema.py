"""The Alembic migrations build exactly the schema the ORM models describe, on both backends."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.config import PROJECT_ROOT
from bot.db import Base, current_revision, head_revision, make_engine, session_scope, upgrade_database
from bot.db.tables import Order, SatisfactionScore, Ticket


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def assert_fresh_migration_matches_models(url: str) -> None:
    assert current_revision(url) is None
    upgrade_database(url)
    upgrade_database(url)  # repeating is a no-op
    assert current_revision(url) == head_revision()
    assert schema_differences(url) == []
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        assert set(Base.metadata.tables) <= set(inspector.get_table_names())
        unique_indexes = {index["name"] for index in inspector.get_indexes("tickets") if index["unique"]}
        assert "uq_tickets_active_conversation_order_category" in unique_indexes
    finally:
        engine.dispose()


def test_sqlite_migration_matches_models(tmp_path):
    assert_fresh_migration_matches_models(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
def test_postgres_migration_matches_models(fresh_postgres_url):
    assert_fresh_migration_matches_models(fresh_postgres_url)


def test_comparison_would_notice_a_missing_column(tmp_path):
    url = f"sqlite:///{tmp_path / 'drifted.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_tickets_conversation_id"))
    engine.dispose()
    assert any(difference[0] == "add_index" for difference in schema_differences(url))


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(tmp_path):
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            session.add(Ticket(ticket_number="AS1", order_id=999, category="quality", status="open", priority="normal"))
    engine.dispose()


def test_satisfaction_score_range_is_checked_by_the_database(engine):
    from bot.db.types import utcnow

    with pytest.raises(IntegrityError):
        with session_scope(engine) as session:
            order = Order(
                order_number="9999000011112222",
                buyer_name="甲",
                buyer_phone="13800000000",
                payment_method="online",
                status="delivered",
                total_cents=100,
            )
            session.add(order)
            session.flush()
            ticket = Ticket(
                ticket_number="AS-CHECK", order_id=order.id, category="quality", status="open", priority="normal"
            )
            session.add(ticket)
            session.flush()
            session.add(SatisfactionScore(ticket_id=ticket.id, score=6, at=utcnow()))


def test_session_scope_rolls_back_everything_on_error(engine):
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            session.add(
                Order(
                    order_number="9999000011113333",
                    buyer_name="乙",
                    buyer_phone="13800000001",
                    payment_method="online",
                    status="delivered",
                    total_cents=100,
                )
            )
            session.flush()
            raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.execute(text("SELECT COUNT(*) FROM orders")).scalar() == 0


def upgrade_concurrently(url: str) -> None:
    """Three processes (say the action server and two CLI runs) upgrading the same new database."""
    script = "import sys; from bot.db import upgrade_database; upgrade_database(sys.argv[1])"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url], cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    failures = [process.communicate(timeout=60)[1] for process in processes if process.wait(timeout=60) != 0]
    assert failures == []
    assert current_revision(url) == head_revision()
    assert schema_differences(url) == []


def test_concurrent_upgrades_of_a_new_sqlite_file(tmp_path):
    upgrade_concurrently(f"sqlite:///{tmp_path / 'race.db'}")


@pytest.mark.postgres
def test_concurrent_upgrades_of_a_new_postgres_schema(fresh_postgres_url):
    upgrade_concurrently(fresh_postgres_url)


def test_threads_of_one_server_using_the_database_for_the_first_time_at_once_all_get_it(tmp_path):
    """A server's first request and its scheduled job arrive together: both bring the schema up
    to date before their first transaction, and neither fails (Alembic's one global context)."""
    import threading

    from bot.db.schema import forget_migrated_engines, migrated_engine

    for attempt in range(4):
        url = f"sqlite:///{tmp_path}/first-use-{attempt}.db"
        together = threading.Barrier(4)
        failures, engines = [], []

        def first_use() -> None:
            together.wait()
            try:
                engine = migrated_engine(url)
                with session_scope(engine) as session:
                    session.execute(text("SELECT count(*) FROM tickets")).scalar_one()
                engines.append(engine)
            except Exception as failure:  # noqa: BLE001 - every failure is what the test reports
                failures.append(repr(failure))

        threads = [threading.Thread(target=first_use) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert len({id(engine) for engine in engines}) == 1, "one shared engine per database"
        assert current_revision(url) == head_revision()
    forget_migrated_engines()
