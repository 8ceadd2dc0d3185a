"""Interchange-format orders (relative `*_days_ago` or ISO `*_at` dates) turned into OrderFacts."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
from bot.policy.interchange import (
    InterchangeError,
    interchange_orders,
    order_facts_from_interchange,
    resolve_interchange_date,
)

TODAY = date(2025, 10, 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def sample_order(**changes):
    order = {
        "order_id": "5668872899511472",
        "cross_border": True,
        "payment_method": "online",
        "status": "delivered",
        "placed_days_ago": 12,
        "shipped_days_ago": 10,
        "delivered_days_ago": 4,
        "promised_delivery_days": 15,
        "items": [
            {"sku": "A", "name": "游戏机", "category": "digital", "unit_price": 2299.0, "quantity": 1},
            {"sku": "B", "name": "收纳包", "category": "other", "unit_price": 89.0, "quantity": 1},
        ],
        "total": 2388.0,
    }
    order.update(changes)
    return order


def test_days_ago_and_iso_forms():
    assert resolve_interchange_date({"shipped_days_ago": 10}, "shipped", TODAY) == date(2025, 9, 30)
    assert resolve_interchange_date({"shipped_at": "2025-09-30"}, "shipped", TODAY) == date(2025, 9, 30)
    assert resolve_interchange_date({"shipped_at": "2025-09-30T09:15:00+08:00"}, "shipped", TODAY) == date(2025, 9, 30)
    assert resolve_interchange_date({}, "shipped", TODAY) is None
    assert resolve_interchange_date({"delivered_days_ago": None}, "delivered", TODAY) is None


def test_field_may_be_named_with_its_suffix():
    order = {"shipped_days_ago": 2}
    assert resolve_interchange_date(order, "shipped_days_ago", TODAY) == resolve_interchange_date(
        order, "shipped_at", TODAY
    )


def test_utc_times_are_read_in_the_shop_time_zone():
    # 20:00 UTC is already the next morning in Shanghai
    assert resolve_interchange_date({"delivered_at": "2025-09-30T20:00:00Z"}, "delivered", TODAY) == date(2025, 10, 1)


def test_both_forms_must_agree():
    same = {"shipped_days_ago": 10, "shipped_at": "2025-09-30"}
    assert resolve_interchange_date(same, "shipped", TODAY) == date(2025, 9, 30)
    with pytest.raises(InterchangeError, match="不一致"):
        resolve_interchange_date({"shipped_days_ago": 9, "shipped_at": "2025-09-30"}, "shipped", TODAY)


@pytest.mark.parametrize(
    "record, field",
    [
        ({"shipped_days_ago": -1}, "shipped_days_ago"),
        ({"shipped_days_ago": "3"}, "shipped_days_ago"),
        ({"shipped_at": "30/09/2025"}, "shipped_at"),
        ({"shipped_at": 20250930}, "shipped_at"),
    ],
)
def test_bad_dates_name_the_field(record, field):
    with pytest.raises(InterchangeError, match=field):
        resolve_interchange_date(record, "shipped", TODAY)


def test_order_facts_of_the_first_item():
    facts = order_facts_from_interchange(sample_order(), TODAY)
    assert facts.order_id == "5668872899511472"
    assert facts.cross_border is True
    assert facts.payment_method is PaymentMethod.ONLINE
    assert facts.status is OrderStatus.DELIVERED
    # no paid_* -> placed_*; a day without a time is its start in the shop's zone, as the import stores it
    assert facts.paid_at == datetime(2025, 9, 28, tzinfo=SHANGHAI)
    assert facts.shipped_at == date(2025, 9, 30)
    assert facts.delivered_at == date(2025, 10, 6)
    assert facts.promised_delivery_days == 15
    assert facts.order_total == 2388.0
    assert (facts.item_category, facts.item_name, facts.item_price) == (ProductCategory.DIGITAL, "游戏机", 2299.0)


def test_second_item_and_missing_item():
    second = order_facts_from_interchange(sample_order(), TODAY, item_index=1)
    assert (second.item_category, second.item_name, second.item_price) == (ProductCategory.OTHER, "收纳包", 89.0)
    with pytest.raises(InterchangeError, match="只有 2 件商品"):
        order_facts_from_interchange(sample_order(), TODAY, item_index=2)


def test_paid_time_with_hours_is_kept():
    facts = order_facts_from_interchange(sample_order(paid_at="2025-09-28T21:30:00+08:00"), TODAY)
    assert isinstance(facts.paid_at, datetime)
    assert (facts.paid_at.date(), facts.paid_at.hour, facts.paid_at.minute) == (date(2025, 9, 28), 21, 30)


def test_total_defaults_to_the_items():
    order = sample_order()
    del order["total"]
    assert order_facts_from_interchange(order, TODAY).order_total == 2388.0


def test_money_written_as_text_is_read_as_the_number():
    order = sample_order(total="2388.00")
    order["items"][0]["unit_price"] = " 2388 "
    facts = order_facts_from_interchange(order, TODAY)
    assert facts.order_total == 2388.0


def test_missing_promise_stays_unknown():
    assert order_facts_from_interchange(sample_order(promised_delivery_days=None), TODAY).promised_delivery_days is None


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"status": "shipped"}, ["status", "awaiting_shipment"]),
        ({"payment_method": "card"}, ["payment_method"]),
        ({"cross_border": "yes"}, ["cross_border"]),
        ({"items": []}, ["items"]),
        ({"total": "两千三"}, ["total"]),
        ({"total": "-5"}, ["total"]),
        ({"status": None}, ["status", "缺失"]),
    ],
)
def test_bad_orders_name_the_field(changes, words):
    with pytest.raises(InterchangeError) as caught:
        order_facts_from_interchange(sample_order(**changes), TODAY)
    for word in words:
        assert word in str(caught.value)
    assert "5668872899511472" in str(caught.value)


def test_orders_by_id():
    orders = interchange_orders({"orders": [sample_order(), sample_order(order_id="1")]})
    assert set(orders) == {"5668872899511472", "1"}
    assert set(interchange_orders([sample_order()])) == {"5668872899511472"}
    with pytest.raises(InterchangeError):
        interchange_orders({"orders": "none"})
