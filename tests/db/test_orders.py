"""Order look-up, ownership by the phone's last four digits, masking, tracking and policy facts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.db import session_scope
from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
from bot.services.contacts import earlier_contact_count, earlier_ticket_overdue, record_contact
from bot.services.errors import InvalidChange
from bot.services.order_import import import_orders
from bot.services.orders import (
    find_order,
    latest_tracking_event,
    mask_address,
    mask_phone,
    order_facts_for,
    order_to_interchange,
    orders_for_customer,
    tracking_summary,
    verify_order_owner,
)
from bot.services.tickets import TicketDecision, change_status, open_ticket
from tests.db.conftest import NOW, TODAY
from tests.db.helpers import interchange_order


@pytest.fixture
def two_orders(engine):
    with session_scope(engine) as session:
        report = import_orders(
            session,
            [
                interchange_order(customer_id="cust-7", address="上海市浦东新区世纪大道 100 号 2 楼"),
                interchange_order(
                    order_id="5555666677778888",
                    customer_id="cust-7",
                    placed_days_ago=30,
                    shipped_days_ago=29,
                    delivered_days_ago=27,
                    items=[
                        {"sku": "P1", "name": "电动牙刷", "category": "appliance", "unit_price": 399, "quantity": 1},
                        {"sku": "P2", "name": "牙刷头", "category": "other", "unit_price": 59, "quantity": 2},
                    ],
                    total=517,
                ),
            ],
            TODAY,
        )
    assert report.ok, report.errors
    return engine


def test_find_order_ignores_spaces_and_dashes(two_orders):
    with session_scope(two_orders) as session:
        assert find_order(session, " 1111-2222 3333-4444 ").order_number == "1111222233334444"
        assert find_order(session, "0000000000000000") is None


@pytest.mark.parametrize(
    "last4, owner",
    [("1234", True), ("1235", False), ("123", False), ("12345", False), ("", False), (None, False), ("12a4", False)],
)
def test_verify_order_owner_by_last_four_digits(two_orders, last4, owner):
    with session_scope(two_orders) as session:
        order = verify_order_owner(session, "1111222233334444", last4)
        assert (order is not None) is owner


def test_unknown_order_and_wrong_digits_look_the_same(two_orders):
    with session_scope(two_orders) as session:
        assert verify_order_owner(session, "9999999999999999", "1234") is None


def test_orders_for_customer_newest_first(two_orders):
    with session_scope(two_orders) as session:
        assert [o.order_number for o in orders_for_customer(session, "cust-7")] == [
            "1111222233334444",
            "5555666677778888",
        ]
        assert orders_for_customer(session, "nobody") == []


@pytest.mark.parametrize(
    "phone, masked",
    [
        ("13800001234", "138****1234"),
        ("+86 138-0000-1234", "138****1234"),
        ("+4915112345678", "491****5678"),
        ("6123456", "****3456"),
        ("123", "****"),
        (None, "****"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_address_keeps_only_the_start():
    assert mask_address("上海市浦东新区世纪大道 100 号 2 楼") == "上海市浦东新****"
    assert mask_address(None) == ""


def test_tracking_helpers(two_orders):
    with session_scope(two_orders) as session:
        order = find_order(session, "1111222233334444")
        assert latest_tracking_event(order).text == "已签收"
        summary = tracking_summary(order)
        assert summary.startswith("顺丰速运 SF0000000001：") and summary.endswith("已签收")


def test_order_facts_for_the_policy(two_orders):
    pytest.importorskip("bot.policy")
    with session_scope(two_orders) as session:
        order = find_order(session, "1111222233334444")
        facts = order_facts_for(order)
        assert facts.order_id == "1111222233334444"
        assert facts.status is OrderStatus.DELIVERED and facts.payment_method is PaymentMethod.ONLINE
        assert facts.item_category is ProductCategory.DIGITAL
        assert facts.delivered_at == TODAY - timedelta(days=3) and facts.shipped_at == date(2026, 11, 16)
        assert facts.paid_at.date() == date(2026, 11, 15)
        assert facts.order_total == 199.0

        two_items = find_order(session, "5555666677778888")
        with pytest.raises(InvalidChange, match="有 2 件商品"):
            order_facts_for(two_items)
        assert order_facts_for(two_items, two_items.items[1]).item_category is ProductCategory.OTHER


def test_order_facts_match_the_policy_reading_of_the_same_interchange_order(two_orders):
    interchange = pytest.importorskip("bot.policy.interchange")
    record = interchange_order()
    with session_scope(two_orders) as session:
        facts = order_facts_for(find_order(session, record["order_id"]))
    assert facts == interchange.order_facts_from_interchange(record, TODAY)


def test_order_to_interchange_round_trips(two_orders):
    with session_scope(two_orders) as session:
        exported = order_to_interchange(find_order(session, "5555666677778888"))
    assert exported["delivered_at"].startswith("2026-10-25T00:00:00+08:00")
    with session_scope(two_orders) as session:
        report = import_orders(session, [exported], TODAY + timedelta(days=10))
        assert report.updated == ["5555666677778888"]
        assert order_to_interchange(find_order(session, "5555666677778888")) == exported


def test_contacts_count_distinct_earlier_conversations(two_orders):
    with session_scope(two_orders) as session:
        order = find_order(session, "1111222233334444")
        record_contact(session, order, "conv-1", channel="rest", now=NOW)
        record_contact(session, order, "conv-1", channel="rest", now=NOW + timedelta(minutes=5))
        record_contact(session, order, "conv-2", now=NOW)
        open_ticket(session, order=order, category="logistics", conversation_id="conv-3", now=NOW)
        assert earlier_contact_count(session, order, "conv-4") == 3
        assert earlier_contact_count(session, order, "conv-2") == 2
        open_ticket(session, order=order, category="quality", conversation_id="conv-1", now=NOW)
        assert earlier_contact_count(session, order, "conv-1") == 2  # its contact and ticket are one
        open_ticket(session, order=order, category="service", conversation_id=None, now=NOW)
        open_ticket(session, order=order, category="no_reason", conversation_id=None, now=NOW)
        assert earlier_contact_count(session, order, "conv-4") == 5  # each agent-opened ticket is one
        assert earlier_contact_count(session, order) == 5
        assert earlier_contact_count(session, find_order(session, "5555666677778888"), "conv-1") == 0


def test_an_overdue_ticket_of_the_same_buyer_is_noticed(two_orders):
    with session_scope(two_orders) as session:
        first = find_order(session, "5555666677778888")
        other = find_order(session, "1111222233334444")
        decision = TicketDecision(rule_id="Q2", remedies=("exchange",), resolution_due=NOW + timedelta(days=7))
        ticket, _ = open_ticket(
            session, order=first, category="quality", conversation_id="c", decision=decision, now=NOW
        )
        assert not earlier_ticket_overdue(session, other, NOW + timedelta(days=6))
        assert earlier_ticket_overdue(session, other, NOW + timedelta(days=8))
        change_status(session, ticket, "resolved", "agent:amy", now=NOW + timedelta(days=8))
        assert not earlier_ticket_overdue(session, other, NOW + timedelta(days=9))


def test_an_order_is_read_once_per_session_and_a_deleted_one_is_not_found_again(engine, two_orders):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    selects = []

    def executed(connection, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", executed)
    session = Session(engine, future=True)
    try:
        order = find_order(session, "5555666677778888")
        again = find_order(session, "5555-6666-7777-8888")  # as typed, with dashes
        assert again is order and len(selects) == 1
        session.delete(order)
        session.flush()
        assert find_order(session, "5555666677778888") is None
    finally:
        session.rollback()
        session.close()
        event.remove(engine, "before_cursor_execute", executed)
    with session_scope(engine) as other:
        assert find_order(other, "5555666677778888") is not None, "a new session reads it again"
