"""One call of the action server is one transaction (bot/bootstrap.py `one_unit_of_work_per_call`,
bot/action_server.py): its steps share it, it is committed before the reply goes back, and a
call that fails half-way leaves nothing behind."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

import actions.case
from bot import bootstrap
from bot.action_server import ThreadedActionExecutor
from bot.services import cases
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_PHONE_LAST4, tickets_of
from tests.actions.flows import quality_case_ready_to_decide

pytestmark = pytest.mark.usefixtures("database_url")


def ready_to_decide(chat) -> dict:
    """A verified quality complaint with its photo: the next call is action_decide_case, as the
    Rasa server sends it."""
    quality_case_ready_to_decide(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4)
    return {
        "next_action": "action_decide_case",
        "sender_id": chat.sender_id,
        "version": "3.6.21",
        "domain": chat.domain,
        "tracker": chat.tracker().current_state(),
    }


def call(action_call: dict) -> dict:
    executor = ThreadedActionExecutor()
    executor.register_package("actions")
    return asyncio.run(executor.run(action_call))


def test_a_decision_is_one_transaction_committed_before_the_reply(conversation, db):
    chat = conversation()
    action_call = ready_to_decide(chat)
    transactions = []

    def began(connection) -> None:
        transactions.append(connection)

    engine = bootstrap.current().engine
    event.listen(engine, "begin", began)
    try:
        reply = call(action_call)
    finally:
        event.remove(engine, "begin", began)
    assert [message["response"] for message in reply["responses"]][:2] == ["utter_decision", "utter_ticket_opened"]
    assert len(transactions) == 1, "the order read, the checks and the ticket write share one transaction"
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert ticket.rule_id == "Q1"


def test_a_call_that_fails_after_writing_leaves_nothing_behind(conversation, db, monkeypatch):
    chat = conversation()
    action_call = ready_to_decide(chat)

    def broken_formatting(moment):  # runs once the ticket is written, while the reply is put together
        raise RuntimeError("the reply could not be put together")

    monkeypatch.setattr(actions.case.runtime, "format_moment", broken_formatting)
    with pytest.raises(RuntimeError):
        call(action_call)
    with db() as session:
        assert tickets_of(session, chat.sender_id) == []
        assert cases.latest_decision(session, chat.sender_id) is None

    monkeypatch.undo()  # the buyer's next try goes through, with no half-written ticket in the way
    reply = call(action_call)
    assert "utter_ticket_opened" in [message["response"] for message in reply["responses"]]
    with db() as session:
        assert len(tickets_of(session, chat.sender_id)) == 1
