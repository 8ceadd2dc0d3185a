"""Tickets: idempotent opening (also under concurrency), life cycle with audit, evidence, satisfaction."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.db import Evidence, Ticket, TicketEvent, session_scope
from bot.domain.vocabulary import Priority, Remedy, ShippingPayer, TicketStatus
from bot.services.errors import InvalidChange, InvalidScore, InvalidTransition, TicketConflict, TicketNotFound
from bot.services.order_import import import_orders
from bot.services import tickets as tickets_module
from bot.services.orders import find_order
from bot.services.tickets import (
    TICKET_TRANSITIONS,
    EvidenceFile,
    TicketDecision,
    add_evidence,
    change_status,
    find_ticket,
    list_tickets,
    open_ticket,
    open_tickets_for_conversation,
    record_satisfaction,
    require_ticket,
    tickets_for_order,
    update_ticket,
)
from tests.db.conftest import NOW, TODAY
from tests.db.helpers import interchange_order

ORDER_NUMBER = "1111222233334444"
QUALITY_DECISION = TicketDecision(
    rule_id="Q1",
    remedies=("return_refund", "exchange"),
    shipping_payer="seller",
    evidence_required=True,
    priority="high",
    first_response_due=NOW + timedelta(hours=24),
    resolution_due=NOW + timedelta(days=7),
    warranty_end=date(2027, 11, 18),
    explanation="签收 7 天内的质量问题，可退货退款或换货。",
)
PHOTO = EvidenceFile(
    reference="evidence/a.jpg", sha256="ab" * 32, size_bytes=2048, media_type="image/jpeg", original_filename="裂痕.jpg"
)


@pytest.fixture
def order_engine(engine):
    with session_scope(engine) as session:
        assert import_orders(session, [interchange_order()], TODAY).ok
    return engine


def open_quality_ticket(session, conversation_id="conv-1", **options):
    order = find_order(session, ORDER_NUMBER)
    options.setdefault("decision", QUALITY_DECISION)
    return open_ticket(
        session,
        order=order,
        item=order.items[0],
        category="quality",
        sub_issue="defect",
        conversation_id=conversation_id,
        channel="rest",
        description="音箱外壳有裂痕",
        now=NOW,
        **options,
    )


def ticket_count(session) -> int:
    return session.execute(select(func.count()).select_from(Ticket)).scalar_one()


def test_open_ticket_records_the_decision(order_engine):
    with session_scope(order_engine) as session:
        ticket, created = open_quality_ticket(session)
    assert created
    assert re.fullmatch(r"AS20261121\d{4}", ticket.ticket_number)  # shop-local date of NOW (09:30 in Shanghai)
    assert ticket.status == TicketStatus.AWAITING_EVIDENCE.value
    assert ticket.offered_remedies == ["return_refund", "exchange"]
    assert (ticket.rule_id, ticket.priority, ticket.shipping_payer) == ("Q1", "high", "seller")
    assert ticket.first_response_due == NOW + timedelta(hours=24)
    assert ticket.warranty_end == date(2027, 11, 18)
    assert ticket.item_sku == "SKU-A"
    with session_scope(order_engine) as session:
        stored = require_ticket(session, ticket.ticket_number.lower())
        assert [(e.from_status, e.to_status, e.actor) for e in stored.events] == [(None, "awaiting_evidence", "bot")]


def test_a_policy_decision_object_is_accepted_as_is(order_engine):
    policy = pytest.importorskip("bot.policy")
    from bot.services.orders import order_facts_for

    with session_scope(order_engine) as session:
        order = find_order(session, ORDER_NUMBER)
        situation = policy.Situation.from_sub_issue(policy.model.SubIssue.DEFECT, evidence_given=False)
        decision = policy.decide(order_facts_for(order), situation, TODAY, policy.load_policy())
        ticket, _ = open_ticket(
            session, order=order, category="quality", sub_issue="defect", decision=decision, conversation_id="c"
        )
        assert ticket.rule_id == decision.rule_id
        assert ticket.offered_remedies == [remedy.value for remedy in decision.remedies]
        assert ticket.status == ("awaiting_evidence" if decision.evidence_required else "open")
        assert ticket.decision_explanation == decision.explanation


def test_evidence_given_up_front_opens_the_ticket_directly(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session, evidence=[PHOTO])
        assert ticket.status == "open"
        assert [piece.sha256 for piece in ticket.evidence] == [PHOTO.sha256]


def test_opening_twice_returns_the_same_ticket(order_engine):
    with session_scope(order_engine) as session:
        first, created_first = open_quality_ticket(session)
    with session_scope(order_engine) as session:
        second, created_second = open_quality_ticket(session, evidence=[PHOTO])
        assert (created_first, created_second) == (True, False)
        assert second.id == first.id
        assert second.status == "open"  # the evidence of the repeated call was attached
        assert ticket_count(session) == 1
        # a different category or conversation is a different ticket
        other, created = open_ticket(
            session, order=second.order, category="logistics", conversation_id="conv-1", now=NOW
        )
        assert created and re.fullmatch(r"AS20261121\d{4}", other.ticket_number)
        assert other.ticket_number != second.ticket_number
        assert open_quality_ticket(session, conversation_id="conv-2")[1] is True
        assert [t.category for t in open_tickets_for_conversation(session, "conv-1")] == ["quality", "logistics"]
        assert len(tickets_for_order(session, second.order)) == 3


def test_a_resolved_ticket_does_not_block_a_new_one(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session, evidence=[PHOTO])
        change_status(session, ticket, "resolved", "agent:amy", now=NOW)
        again, created = open_quality_ticket(session)
        assert created and again.id != ticket.id
        with pytest.raises(TicketConflict, match="不能重新打开"):
            change_status(session, ticket, "open", "agent:amy", now=NOW)
        assert ticket.status == "resolved"
    with session_scope(order_engine) as session:
        assert find_ticket(session, ticket.ticket_number).status == "resolved"


def test_concurrent_opening_from_two_sessions_creates_one_ticket(order_engine, monkeypatch):
    barrier = threading.Barrier(2)
    results, errors = [], []
    if order_engine.dialect.name == "postgresql":
        # force the worst interleaving: both sessions look, find nothing, then both insert
        # (SQLite serialises writers from BEGIN IMMEDIATE on, so there both simply queue)
        real_lookup = tickets_module._active_ticket
        looked = threading.local()

        def lookup_then_wait(*args):
            found = real_lookup(*args)
            if not getattr(looked, "once", False):
                looked.once = True
                barrier.wait(timeout=10)
            return found

        monkeypatch.setattr(tickets_module, "_active_ticket", lookup_then_wait)

    def open_in_own_session():
        try:
            with session_scope(order_engine) as session:
                if order_engine.dialect.name != "postgresql":
                    barrier.wait(timeout=10)
                ticket, created = open_quality_ticket(session)
                results.append((ticket.ticket_number, created))
        except Exception as error:  # reported below; a thread must not swallow it
            errors.append(error)

    threads = [threading.Thread(target=open_in_own_session) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len({number for number, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, True]
    with session_scope(order_engine) as session:
        assert ticket_count(session) == 1


def test_concurrent_different_tickets_get_different_numbers(order_engine):
    barrier = threading.Barrier(3)
    numbers, errors = [], []

    def open_for(conversation_id):
        try:
            with session_scope(order_engine) as session:
                barrier.wait(timeout=10)
                numbers.append(open_quality_ticket(session, conversation_id=conversation_id)[0].ticket_number)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=open_for, args=(f"conv-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(set(numbers)) == 3 and all(re.fullmatch(r"AS20261121\d{4}", number) for number in numbers)


def test_consecutive_ticket_numbers_are_not_a_sequence(order_engine):
    """Knowing one's own ticket number must not lead to the next buyer's (issue 13)."""
    with session_scope(order_engine) as session:
        numbers = [open_quality_ticket(session, conversation_id=f"conv-{n}")[0].ticket_number for n in range(20)]
    suffixes = [int(number[-4:]) for number in numbers]
    assert len(set(numbers)) == 20
    steps = [later - earlier for earlier, later in zip(suffixes, suffixes[1:])]
    assert steps.count(1) <= 1, numbers  # a sequence would step by 1 nineteen times
    assert suffixes != sorted(suffixes)


def test_life_cycle_with_audit_trail(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session)
        add_evidence(session, ticket, PHOTO, actor="bot", now=NOW)
        change_status(session, ticket, "pending_buyer", "agent:amy", "请买家确认收货地址", now=NOW)
        change_status(session, ticket, "open", "bot", now=NOW)
        change_status(session, ticket, "with_agent", "agent:amy", now=NOW)
        change_status(session, ticket, "resolved", "agent:amy", "已换货", now=NOW + timedelta(hours=3))
        assert ticket.resolved_at == NOW + timedelta(hours=3)
        change_status(session, ticket, "open", "agent:amy", "买家反馈仍有问题", now=NOW)  # reopened
        assert ticket.resolved_at is None
        change_status(session, ticket, "resolved", "agent:amy", now=NOW)
        change_status(session, ticket, "closed", "bot", now=NOW + timedelta(days=1))
        assert ticket.closed_at == NOW + timedelta(days=1)
        assert change_status(session, ticket, "closed", "bot") is None  # already there: nothing written
    with session_scope(order_engine) as session:
        stored = require_ticket(session, ticket.ticket_number)
        transitions = [(e.from_status, e.to_status) for e in stored.events if e.to_status]
        assert transitions == [
            (None, "awaiting_evidence"),
            ("awaiting_evidence", "open"),
            ("open", "pending_buyer"),
            ("pending_buyer", "open"),
            ("open", "with_agent"),
            ("with_agent", "resolved"),
            ("resolved", "open"),
            ("open", "resolved"),
            ("resolved", "closed"),
        ]
        assert stored.events[3].actor == "agent:amy" and stored.events[3].note == "请买家确认收货地址"


@pytest.mark.parametrize(
    "path, refused",
    [
        ((), "resolved"),  # awaiting evidence cannot be resolved without a look at the evidence
        (("open",), "closed"),
        (("open", "resolved", "closed"), "open"),
        (("open", "resolved", "closed"), "with_agent"),
        (("open", "with_agent"), "awaiting_evidence"),
    ],
)
def test_invalid_transitions_are_refused_in_chinese(order_engine, path, refused):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session)
        for status in path:
            change_status(session, ticket, status, "agent:amy", now=NOW)
        events_before = len(ticket.events)
        with pytest.raises(InvalidTransition) as raised:
            change_status(session, ticket, refused, "agent:amy", now=NOW)
        assert raised.value.message.startswith(f"工单 {ticket.ticket_number} 不能从「")
        assert ticket.status == (path[-1] if path else "awaiting_evidence")
        session.expire(ticket, ["events"])
        assert len(ticket.events) == events_before


def test_every_status_has_a_defined_way_on():
    assert set(TICKET_TRANSITIONS) == set(TicketStatus)
    assert TICKET_TRANSITIONS[TicketStatus.CLOSED] == frozenset()


def test_update_ticket_audits_field_changes(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session, evidence=[PHOTO])
        event = update_ticket(session, ticket, "bot", chosen_remedy=Remedy.EXCHANGE, priority=Priority.URGENT, now=NOW)
        assert event.details == {
            "chosen_remedy": {"from": None, "to": "exchange"},
            "priority": {"from": "high", "to": "urgent"},
        }
        assert update_ticket(session, ticket, "bot", chosen_remedy="exchange") is None
        with pytest.raises(InvalidChange, match="不在工单 .* 提供的方案中"):
            update_ticket(session, ticket, "bot", chosen_remedy="repair")
        update_ticket(
            session,
            ticket,
            "agent:amy",
            chosen_remedy="repair",
            shipping_payer=ShippingPayer.BUYER,
            note="买家同意维修",
        )
        assert (ticket.chosen_remedy, ticket.shipping_payer) == ("repair", "buyer")
        with pytest.raises(InvalidChange, match="不可修改或不存在：status"):
            update_ticket(session, ticket, "bot", status="closed")
        with pytest.raises(InvalidChange, match="priority 的取值「asap」无效"):
            update_ticket(session, ticket, "bot", priority="asap")
        update_ticket(session, ticket, "bot", refund_due=NOW)
        assert ticket.refund_due == date(2026, 11, 21)
        change_status(session, ticket, "resolved", "agent:amy")
        change_status(session, ticket, "closed", "agent:amy")
        with pytest.raises(InvalidChange, match="已关闭"):
            update_ticket(session, ticket, "agent:amy", priority="normal")


def test_evidence_is_stored_once_per_content(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session)
        first, created = add_evidence(session, ticket, PHOTO, now=NOW)
        assert created and ticket.status == "open"
        retried, created_again = add_evidence(
            session, ticket, EvidenceFile("evidence/a-retry.jpg", PHOTO.sha256.upper()), now=NOW
        )
        assert not created_again and retried.id == first.id
        add_evidence(session, ticket, EvidenceFile("evidence/b.mp4", "cd" * 32, media_type="video/mp4"), now=NOW)
        with pytest.raises(InvalidChange, match="sha256"):
            add_evidence(session, ticket, EvidenceFile("evidence/c.jpg", "not-a-hash"))
        assert session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 2
        evidence_events = [e for e in ticket.events if e.details and "evidence_added" in e.details]
        assert len(evidence_events) == 2


def test_evidence_from_a_file(order_engine, tmp_path):
    photo = tmp_path / "破损.png"
    photo.write_bytes(b"\x89PNG fake image")
    evidence = EvidenceFile.from_path(photo, reference="evidence/x.png")
    assert (evidence.size_bytes, evidence.media_type, evidence.original_filename) == (15, "image/png", "破损.png")
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session, evidence=[evidence])
        assert ticket.evidence[0].sha256 == evidence.sha256


@pytest.mark.parametrize("score", [0, 6, -1, 3.5, "五", None, True])
def test_satisfaction_outside_one_to_five_is_refused(order_engine, score):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session)
        with pytest.raises(InvalidScore, match="满意度评分必须是 1 到 5 之间的整数") as raised:
            record_satisfaction(session, ticket, score)
        assert isinstance(raised.value, ValueError)


def test_satisfaction_is_recorded_once_per_ticket(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session)
        record_satisfaction(session, ticket, 2, comment="太慢了", now=NOW)
        record_satisfaction(session, ticket, "5", comment="后来处理得很好", now=NOW)
    with session_scope(order_engine) as session:
        stored = require_ticket(session, ticket.ticket_number)
        assert (stored.satisfaction.score, stored.satisfaction.comment) == (5, "后来处理得很好")
        assert stored.satisfaction.conversation_id == "conv-1"
        scores = [e.details["satisfaction"] for e in stored.events if e.details and "satisfaction" in e.details]
        assert scores == [{"from": None, "to": 2}, {"from": 2, "to": 5}]


def test_lookup_and_listing(order_engine):
    with session_scope(order_engine) as session:
        first, _ = open_quality_ticket(session, conversation_id="a")
        second, _ = open_quality_ticket(session, conversation_id="b", evidence=[PHOTO])
        assert find_ticket(session, "AS000") is None
        with pytest.raises(TicketNotFound, match="找不到工单 AS000"):
            require_ticket(session, "as000")
        assert [t.id for t in list_tickets(session)] == [second.id, first.id]
        assert [t.id for t in list_tickets(session, status="open")] == [second.id]
        assert len(list_tickets(session, limit=1)) == 1
        with pytest.raises(InvalidChange):
            list_tickets(session, status="bogus")


def test_an_item_of_another_order_is_refused(order_engine):
    with session_scope(order_engine) as session:
        import_orders(session, [interchange_order(order_id="9999888877776666")], TODAY)
        other_item = find_order(session, "9999888877776666").items[0]
        with pytest.raises(InvalidChange, match="不属于订单"):
            open_ticket(session, order=find_order(session, ORDER_NUMBER), item=other_item, category="quality")
        with pytest.raises(InvalidChange, match="category 的取值"):
            open_ticket(session, order=find_order(session, ORDER_NUMBER), category="weather")


def test_events_are_written_in_order(order_engine):
    with session_scope(order_engine) as session:
        ticket, _ = open_quality_ticket(session, evidence=[PHOTO])
        change_status(session, ticket, "with_agent", "agent:amy", now=NOW)
        ids = (
            session.execute(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
            .scalars()
            .all()
        )
        assert ids == [event.id for event in ticket.events]
