"""The case service the dialogue drives: verification, decision + ticket, remedy choice,
hand-off, policy answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.db import Ticket, session_scope
from bot.db.tables import Handoff
from bot.policy import load_policy
from bot.services import cases
from bot.services.order_import import import_orders
from tests.db.conftest import TODAY
from tests.db.helpers import DROP, interchange_order

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
PHOTO = {"sha256": "c" * 64, "url": "/evidence/c.jpg", "size": 1000, "media_type": "image/jpeg", "name": "c.jpg"}
POLICY = load_policy()


@pytest.fixture
def shop(engine):
    orders = [
        interchange_order(order_id="1000000000000001", buyer_phone="13900001111", delivered_days_ago=2),
        interchange_order(
            order_id="1000000000000002",
            buyer_phone="13900002222",
            items=[
                {"sku": "TB-1", "name": "电动牙刷", "category": "appliance", "unit_price": 299.0, "quantity": 1},
                {"sku": "TB-H", "name": "替换刷头", "category": "other", "unit_price": 59.0, "quantity": 1},
            ],
            total=358.0,
        ),
    ]
    with session_scope(engine) as session:
        assert import_orders(session, orders, TODAY).ok
    return engine


def decide(session, conversation_id="conv-1", **facts):
    values = dict(category="quality", sub_issue="defect", evidence=[PHOTO])
    values.update(facts)
    return cases.decide_and_open_ticket(
        session,
        order_number="1000000000000001",
        item_sku=None,
        facts=cases.CaseFacts(**values),
        conversation_id=conversation_id,
        channel="rest",
        today=TODAY,
        now=NOW,
        policy=POLICY,
    )


def test_verification_needs_the_right_last_four_digits(shop):
    with session_scope(shop) as session:
        assert cases.order_exists(session, "1000000000000001")
        assert not cases.order_exists(session, "9999999999999999")
        assert cases.verify_owner(session, "1000000000000001", "1111")
        assert not cases.verify_owner(session, "1000000000000001", "2222")
        summary = cases.order_summary(session, "1000000000000002")
    assert summary.masked_number == "1000****0002"
    assert [item.sku for item in summary.items] == ["TB-1", "TB-H"]


def test_quality_complaint_with_photo_opens_an_open_ticket(shop):
    with session_scope(shop) as session:
        outcome = decide(session)
        assert outcome.created and outcome.decision.rule_id == "Q1"
        assert outcome.ticket.status == "open"
        assert outcome.ticket.conversation_id == "conv-1"


def test_without_photo_the_ticket_waits_for_evidence_and_a_later_photo_opens_it(shop):
    with session_scope(shop) as session:
        outcome = decide(session, evidence=[])
        number = outcome.ticket.ticket_number
        assert outcome.ticket.status == "awaiting_evidence"
        report = outcome.report
        assert (report.ticket_number, report.awaits_evidence, report.waits_for_a_remedy) == (number, True, False)
    with session_scope(shop) as session:
        assert cases.add_ticket_evidence(session, number, [PHOTO], actor="bot").count == 1
        assert cases.add_ticket_evidence(session, number, [PHOTO], actor="bot").count == 0
        assert cases.ticket_report(session, number).status == "open"


def test_a_repeated_complaint_reuses_the_ticket_even_from_another_conversation(shop):
    with session_scope(shop) as session:
        first = decide(session, conversation_id="conv-1")
        again = decide(session, conversation_id="conv-1")
        other_chat = decide(session, conversation_id="conv-2")
        assert again.ticket.id == first.ticket.id and not again.created
        assert other_chat.ticket.id == first.ticket.id and not other_chat.created
        assert session.execute(select(func.count(Ticket.id))).scalar_one() == 1


def test_a_no_reason_return_asks_whether_the_item_was_used(shop):
    with session_scope(shop) as session:
        missing = cases.missing_facts(
            session,
            "1000000000000001",
            None,
            cases.CaseFacts(category="no_reason", sub_issue="no_reason"),
            conversation_id="c",
            today=TODAY,
            policy=POLICY,
        )
    assert "item_unused" in missing


def test_choosing_exchange_waits_for_the_item_to_come_back(shop):
    with session_scope(shop) as session:
        number = decide(session).ticket.ticket_number
    with session_scope(shop) as session:
        steps = cases.choose_remedy(session, number, "exchange", today=TODAY, policy=POLICY)
        assert steps.shipping_payer == "seller"
        assert (steps.return_deadline - TODAY).days == POLICY.return_ship_within_days
        assert steps.return_address == POLICY.return_address
        report = cases.ticket_report(session, number)
    assert report.status == "pending_buyer" and report.chosen_remedy == "exchange"


def test_handoff_is_queued_once_and_moves_the_ticket_to_an_agent(shop):
    with session_scope(shop) as session:
        number = decide(session).ticket.ticket_number
    with session_scope(shop) as session:
        first = cases.request_handoff(
            session,
            conversation_id="conv-1",
            ticket_number=number,
            reason="buyer_request",
            channel="rest",
            policy=POLICY,
        )
        second = cases.request_handoff(
            session,
            conversation_id="conv-1",
            ticket_number=number,
            reason="buyer_request",
            channel="rest",
            policy=POLICY,
        )
        assert not first.already_waiting and second.already_waiting
        # nobody is signed in to the console: no wait is quoted, the buyer may leave a message
        assert first.wait_minutes is None and first.unavailable in ("out_of_hours", "nobody_online")
        assert first.office_hours == POLICY.office_hours.describe()
        assert session.execute(select(func.count(Handoff.id))).scalar_one() == 1
        assert cases.ticket_report(session, number).status == "with_agent"


def test_satisfaction_is_recorded_once(shop):
    with session_scope(shop) as session:
        number = decide(session).ticket.ticket_number
        assert not cases.satisfaction_recorded(session, number)
        cases.record_buyer_satisfaction(session, number, 5, conversation_id="conv-1")
        assert cases.satisfaction_recorded(session, number)


def test_the_rating_is_due_once_for_a_ticket_without_a_score(shop):
    with session_scope(shop) as session:
        number = decide(session).ticket.ticket_number
        assert cases.rating_due(session, number)
        assert not cases.rating_due(session, number, already_asked=True)
        assert not cases.rating_due(session, None)
        cases.record_buyer_satisfaction(session, number, 4, conversation_id="conv-1")
        assert not cases.rating_due(session, number)


def test_a_withdrawn_ticket_is_closed_with_its_audit_trail(shop):
    with session_scope(shop) as session:
        ticket = decide(session, evidence=[], sub_issue="size", category="no_reason").ticket
        number, before = ticket.ticket_number, ticket.status
        assert cases.withdraw_ticket(session, number, "买家说订单号错了")
        ticket = session.get(Ticket, ticket.id)
        assert ticket.status == "closed" and ticket.closed_at is not None
        moves = [(event.from_status, event.to_status, event.note) for event in ticket.events if event.to_status]
        expected = [("open", "resolved"), ("resolved", "closed")] if before == "open" else [(before, "closed")]
        assert [move[:2] for move in moves[1:]] == expected and {move[2] for move in moves[1:]} == {"买家说订单号错了"}
        assert not cases.withdraw_ticket(session, number, "again")


def test_tracking_report_lists_events_and_hands_undelivered_parcels_to_the_logistics_rules(engine):
    overdue = interchange_order(
        order_id="1000000000000003",
        status="in_transit",
        cross_border=True,
        delivered_days_ago=None,
        placed_days_ago=22,
        shipped_days_ago=20,
        promised_delivery_days=15,
        tracking_events=[{"days_ago": 20, "text": "已揽收"}],
    )
    with session_scope(engine) as session:
        assert import_orders(session, [overdue], TODAY).ok
    with session_scope(engine) as session:
        report = cases.tracking_report(session, "1000000000000003")
    assert report.follow_up_sub_issue == "delay"
    assert len(report.lines) == 1 and report.lines[0].endswith("已揽收")


def test_policy_answers_follow_the_policy_file(tmp_path):
    edited = tmp_path / "policy.yml"
    edited.write_text(POLICY_TEXT().replace("  window_days: 7", "  window_days: 10"), encoding="utf-8")
    assert cases.policy_answer_values(POLICY)["no_reason_days"] == 7
    assert cases.policy_answer_values(load_policy(edited))["no_reason_days"] == 10


def POLICY_TEXT() -> str:
    from bot.config import get_settings

    return get_settings().policy_file.read_text(encoding="utf-8")


def test_an_address_change_takes_over_a_logistics_ticket_whose_remedy_was_chosen(engine):
    late = interchange_order(
        order_id="1000000000000003",
        status="in_transit",
        shipped_days_ago=6,
        promised_delivery_days=3,
        delivered_days_ago=DROP,
        tracking_events=[{"days_ago": 6, "text": "已揽收"}],
    )
    with session_scope(engine) as session:
        assert import_orders(session, [late], TODAY).ok

    def logistics(session, conversation_id, sub_issue):
        return cases.decide_and_open_ticket(
            session,
            order_number="1000000000000003",
            item_sku=None,
            facts=cases.CaseFacts(category="logistics", sub_issue=sub_issue),
            conversation_id=conversation_id,
            channel="rest",
            today=TODAY,
            now=NOW,
            policy=POLICY,
        )

    with session_scope(engine) as session:
        delay = logistics(session, "conv-1", "delay")
        assert delay.decision.rule_id == "L2"
        number = delay.ticket.ticket_number
        cases.choose_remedy(session, number, "reship", today=TODAY, policy=POLICY)
    with session_scope(engine) as session:
        address = logistics(session, "conv-2", "address_change")
        assert address.decision.rule_id == "L6" and address.ticket.ticket_number == number
        report = cases.ticket_report(session, number)
    assert report.rule_id == "L6" and report.chosen_remedy == "investigate"
    # the same buyer complaining of the delay again keeps the remedy already chosen
    with session_scope(engine) as session:
        again = logistics(session, "conv-3", "delay")
        assert cases.ticket_report(session, again.ticket.ticket_number).chosen_remedy == "investigate"


def test_a_size_word_said_of_an_item_without_sizes_is_a_fault(shop):
    """ "刀头像是松了" matches the size phrase "松了", but only clothes and shoes come in sizes."""
    with session_scope(shop) as session:
        outcome = decide(session, category="no_reason", sub_issue="size", item_unused=False)
        assert outcome.decision.rule_id == "Q1"
        assert outcome.ticket.category == "quality" and outcome.ticket.sub_issue == "defect"


def test_a_no_reason_return_worded_as_a_quality_complaint_stays_no_reason(shop):
    """ "开封用了三四天，一点效果都没有，能退不": the policy's N rules, whatever words the buyer opened with."""
    with session_scope(shop) as session:
        outcome = decide(session, category="quality", sub_issue="no_reason", item_unused=False, evidence=[])
        assert outcome.decision.rule_id == "N4" and outcome.ticket is None


def test_a_size_question_nobody_answered_is_a_service_complaint(shop):
    """ "留言问换码的事，两天了没人回我": the size was what the buyer asked, the complaint is the silence."""
    with session_scope(shop) as session:
        outcome = decide(
            session, category="service", sub_issue="size", also_mentioned=("size", "no_reply"), evidence=[]
        )
        assert outcome.decision.rule_id == "S1" and outcome.ticket.category == "service"
        assert outcome.ticket.sub_issue == "no_reply"


def test_slow_shipping_said_of_a_parcel_that_came_does_not_outrank_the_items_fault(shop):
    with session_scope(shop) as session:
        outcome = decide(session, sub_issue="delay", also_mentioned=("delay", "defect"))
        assert outcome.decision.rule_id == "Q1" and outcome.ticket.category == "quality"


def test_a_no_reason_request_read_as_a_service_complaint_without_a_word_about_the_service_stays_no_reason(shop):
    with session_scope(shop) as session:
        outcome = decide(
            session,
            category="service",
            sub_issue="no_reason",
            also_mentioned=("no_reason",),
            item_unused=True,
            evidence=[],
        )
        assert outcome.decision.rule_id == "N1" and outcome.ticket.category == "no_reason"
