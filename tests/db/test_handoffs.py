"""The human hand-over queue: one active request per conversation, one winner per claim."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.db import session_scope
from bot.services.errors import HandoffNotFound, HandoffUnavailable, InvalidChange
from bot.services.handoffs import (
    active_handoff,
    claim_handoff,
    enqueue_handoff,
    resolve_handoff,
    return_handoff,
    waiting_handoffs,
)
from bot.services.order_import import import_orders
from bot.services.orders import find_order
from bot.services.tickets import open_ticket, require_ticket
from tests.db.conftest import NOW, TODAY
from tests.db.helpers import interchange_order


def enqueue(engine, conversation_id="conv-1", **options):
    with session_scope(engine) as session:
        handoff, _ = enqueue_handoff(
            session, conversation_id=conversation_id, reason=options.pop("reason", "buyer_asked"), **options
        )
        return handoff.id


def test_enqueue_is_idempotent_per_conversation(engine):
    with session_scope(engine) as session:
        first, created = enqueue_handoff(session, conversation_id="c", reason="buyer_asked", channel="rest", now=NOW)
        again, created_again = enqueue_handoff(session, conversation_id="c", reason="nlu_fallback", now=NOW)
        assert (created, created_again) == (True, False) and again.id == first.id
        assert first.status == "waiting" and first.channel == "rest"
        with pytest.raises(InvalidChange, match="优先级"):
            enqueue_handoff(session, conversation_id="d", reason="x", priority="asap")


def test_queue_is_most_urgent_then_oldest_first(engine):
    with session_scope(engine) as session:
        enqueue_handoff(session, conversation_id="old-normal", reason="r", now=NOW)
        enqueue_handoff(
            session, conversation_id="new-urgent", reason="r", priority="urgent", now=NOW + timedelta(minutes=5)
        )
        enqueue_handoff(
            session, conversation_id="mid-high", reason="r", priority="high", now=NOW + timedelta(minutes=2)
        )
        enqueue_handoff(session, conversation_id="new-normal", reason="r", now=NOW + timedelta(minutes=9))
        queue = [h.conversation_id for h in waiting_handoffs(session)]
        assert queue == ["new-urgent", "mid-high", "old-normal", "new-normal"]
        assert len(waiting_handoffs(session, limit=2)) == 2


def test_two_agents_claiming_at_once_one_wins(engine):
    handoff_id = enqueue(engine)
    barrier = threading.Barrier(2)
    winners, refusals, errors = [], [], []

    def claim(agent):
        try:
            with session_scope(engine) as session:
                barrier.wait(timeout=10)
                claim_handoff(session, handoff_id, agent)
            winners.append(agent)
        except HandoffUnavailable as refused:
            refusals.append(refused.message)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(winners) == 1 and len(refusals) == 1
    assert f"已由 {winners[0]} 接手" in refusals[0]
    with session_scope(engine) as session:
        handoff = active_handoff(session, "conv-1")
        assert (handoff.status, handoff.agent) == ("claimed", winners[0])
        assert handoff.claimed_at is not None


def test_claim_moves_the_ticket_to_the_agent_and_return_gives_it_back(engine):
    with session_scope(engine) as session:
        import_orders(session, [interchange_order()], TODAY)
        ticket, _ = open_ticket(
            session, order=find_order(session, "1111222233334444"), category="service", conversation_id="conv-9"
        )
        handoff, _ = enqueue_handoff(
            session, conversation_id="conv-9", reason="escalate", priority="high", ticket=ticket
        )
        number, handoff_id = ticket.ticket_number, handoff.id
    with session_scope(engine) as session:
        claim_handoff(session, handoff_id, "alice")
        assert require_ticket(session, number).status == "with_agent"
    with session_scope(engine) as session:
        with pytest.raises(HandoffUnavailable, match="由 alice 接手，bob 不能操作"):
            return_handoff(session, handoff_id, "bob")
    with session_scope(engine) as session:
        returned = return_handoff(session, handoff_id, "alice", note="已安抚，交还机器人")
        assert returned.status == "returned" and returned.ended_at is not None
        ticket = require_ticket(session, number)
        assert ticket.status == "open"
        assert [(e.to_status, e.actor) for e in ticket.events if e.to_status][-2:] == [
            ("with_agent", "agent:alice"),
            ("open", "agent:alice"),
        ]
        assert active_handoff(session, "conv-9") is None


def test_resolve_and_the_ended_states(engine):
    handoff_id = enqueue(engine)
    with session_scope(engine) as session:
        with pytest.raises(HandoffUnavailable, match="只有已接手的请求才能结束"):
            resolve_handoff(session, handoff_id, "alice")
        claim_handoff(session, handoff_id, "alice")
        assert resolve_handoff(session, handoff_id, "alice").status == "resolved"
        with pytest.raises(HandoffUnavailable, match="不能接手"):
            claim_handoff(session, handoff_id, "bob")
        with pytest.raises(HandoffUnavailable, match="已结束"):
            return_handoff(session, handoff_id, "alice")
        with pytest.raises(HandoffNotFound, match="找不到转人工请求 #999999"):
            claim_handoff(session, 999999, "alice")
    # the conversation may ask again once the earlier request is over
    assert enqueue(engine) != handoff_id


def test_a_waiting_request_can_be_withdrawn(engine):
    handoff_id = enqueue(engine)
    with session_scope(engine) as session:
        assert return_handoff(session, handoff_id, note="买家不需要了").status == "returned"
        assert waiting_handoffs(session) == []
