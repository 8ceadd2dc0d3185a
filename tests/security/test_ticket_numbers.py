"""Finding 10b of issue 13: ticket status was given for a bare ticket number, and numbers were
sequential. Numbers are now random within the day (tests/db/test_tickets.py shows two in a row
are not neighbours); here the real servers are asked, from a fresh chat, about a real ticket
whose number the asker knows but whose order they have not proven."""

from __future__ import annotations

import uuid

import pytest

from bot.db import make_engine, session_scope
from bot.domain.vocabulary import LABELS_ZH
from bot.services import tickets
from bot.services.orders import find_order
from tests.security.conftest import everything_shown

pytestmark = pytest.mark.rasa

ORDER = "6201458839270153"


@pytest.fixture
def someone_elses_ticket(secured) -> tickets.Ticket:
    engine = make_engine(secured.database_url)
    try:
        with session_scope(engine) as session:
            ticket, _ = tickets.open_ticket(
                session,
                order=find_order(session, ORDER),
                category="quality",
                conversation_id="owner-" + uuid.uuid4().hex,
                decision=tickets.TicketDecision(rule_id="Q1", remedies=("return_refund",), priority="normal"),
            )
            session.expunge(ticket)
        return ticket
    finally:
        engine.dispose()


def test_a_bare_ticket_number_in_a_fresh_chat_gives_no_status(secured, someone_elses_ticket):
    number = someone_elses_ticket.ticket_number
    stranger = "stranger-" + uuid.uuid4().hex[:8]
    shown = everything_shown(secured.say(stranger, f"工单{number}处理得怎么样了"))
    for label in LABELS_ZH["ticket_status"].values():
        assert label not in shown, shown
    assert ORDER not in shown and "退货退款" not in shown
    assert "订单号" in shown, shown  # the stranger is asked to prove the order first
    # the wrong phone digits do not open it either
    shown = everything_shown(secured.say(stranger, ORDER) + secured.say(stranger, "0000"))
    assert not any(label in shown for label in LABELS_ZH["ticket_status"].values()), shown
