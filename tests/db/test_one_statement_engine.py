"""A read of one statement (the hand-off check on every buyer message) runs outside a
transaction on PostgreSQL, on connections of its own."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url

from bot.db.engine import one_statement_engine, read_alone, reading_engine, shared_engine


def test_a_one_statement_read_runs_outside_a_transaction_on_postgresql(migrated_url):
    on_postgresql = make_url(migrated_url).get_backend_name() == "postgresql"
    engine = one_statement_engine(migrated_url)
    if not on_postgresql:
        assert engine is reading_engine(migrated_url)
        return
    in_transaction = []

    def executed(connection, cursor, statement, *args) -> None:
        in_transaction.append(not connection.connection.autocommit)

    event.listen(Engine, "before_cursor_execute", executed)
    try:
        for _ in range(2):  # a connection back from the pool is still outside a transaction
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM handoffs")).scalar_one() >= 0
        with shared_engine(migrated_url).begin() as connection:  # the orders' engine keeps its transactions
            connection.execute(text("SELECT count(*) FROM handoffs")).scalar_one()
    finally:
        event.remove(Engine, "before_cursor_execute", executed)
    assert in_transaction == [False, False, True]


def test_a_read_on_a_connection_the_server_dropped_is_made_again(migrated_url):
    """Without a check before each use, a pooled connection that PostgreSQL closed (a restart)
    fails the read; `read_alone` reads once more on a new connection."""
    if make_url(migrated_url).get_backend_name() != "postgresql":
        assert read_alone(text("SELECT count(*) FROM handoffs"), migrated_url)[0][0] >= 0
        return
    backend = read_alone(text("SELECT pg_backend_pid()"), migrated_url)[0][0]  # the pooled connection
    with shared_engine(migrated_url).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar_one()
    again = read_alone(text("SELECT pg_backend_pid()"), migrated_url)[0][0]
    assert again != backend
