"""Finding 10e of issue 13: an agent could edit priority, remedy and notes on a chat another
agent had claimed. Real (migrated) SQLite database with the demo orders, the desk logic the
console API calls."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.console import accounts, commands
from bot.db import make_engine, session_scope, upgrade_database
from bot.services import handoffs, tickets
from bot.services.errors import HandoffUnavailable
from bot.services.order_import import import_orders
from bot.services.orders import find_order
from tests.conftest import PROJECT_ROOT

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        import_orders(
            session,
            json.loads((PROJECT_ROOT / "shop" / "demo_orders.json").read_text(encoding="utf-8")),
            date(2026, 11, 21),
        )
    yield engine
    engine.dispose()


def test_only_the_claiming_agent_or_a_supervisor_edits_a_claimed_chats_ticket_and_notes(engine):
    with session_scope(engine) as session:
        wang, li, boss = (
            accounts.SignedInAgent.of(accounts.create_agent(session, name, "password-123", role=role))
            for name, role in (("wang", "agent"), ("li", "agent"), ("boss", "supervisor"))
        )
        ticket, _ = tickets.open_ticket(
            session,
            order=find_order(session, "6201458839270153"),
            category="quality",
            conversation_id="c-1",
            now=NOW,
            decision=tickets.TicketDecision(
                rule_id="Q1",
                remedies=("return_refund", "exchange"),
                priority="normal",
                first_response_due=NOW + timedelta(hours=24),
                resolution_due=NOW + timedelta(days=7),
            ),
        )
        handoff, _ = handoffs.enqueue_handoff(
            session,
            conversation_id="c-1",
            reason="buyer_request",
            priority="normal",
            ticket=ticket,
            channel="webchat",
            now=NOW,
        )
        commands.edit_ticket(session, ticket.ticket_number, li, {"note": "还没人接手时谁都可以补充"})
        commands.claim(session, handoff.id, wang)
        with pytest.raises(HandoffUnavailable, match="由 wang 处理中"):
            commands.edit_ticket(session, ticket.ticket_number, li, {"priority": "urgent", "chosen_remedy": "repair"})
        with pytest.raises(HandoffUnavailable, match="由 wang 处理中"):
            commands.add_note(session, "c-1", li, "我来改一下")
        assert tickets.require_ticket(session, ticket.ticket_number).priority == "normal"
        commands.edit_ticket(session, ticket.ticket_number, wang, {"priority": "high"})
        commands.edit_ticket(session, ticket.ticket_number, boss, {"chosen_remedy": "repair"})
        commands.add_note(session, "c-1", boss, "主管已确认")
