"""The two readers of the interchange format (the policy CLI's `order_facts_from_interchange` and the database
import) read one order the same way: same dates, same fields, same Chinese messages for a bad order."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db import session_scope
from bot.policy.interchange import InterchangeError, order_facts_from_interchange, resolve_interchange_date
from bot.services.clock import shop_date
from bot.services.order_import import import_orders
from bot.services.orders import find_order, order_facts_for
from tests.db.conftest import TODAY
from tests.db.helpers import DROP, interchange_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

TWO_ITEMS = [
    {"sku": "A", "name": "蓝牙耳机", "category": "digital", "unit_price": 0.125, "quantity": 3},
    {"sku": "B", "name": "耳机套", "category": "other", "unit_price": 19.99, "quantity": 1},
]

DATE_FORMS = {
    "days ago": {},
    "bare dates": dict(
        placed_days_ago=DROP,
        shipped_days_ago=DROP,
        delivered_days_ago=DROP,
        placed_at="2026-11-14",
        shipped_at="2026-11-15",
        delivered_at="2026-11-18",
    ),
    "times with and without offsets": dict(
        placed_days_ago=DROP,
        shipped_days_ago=DROP,
        delivered_days_ago=DROP,
        paid_at="2026-11-14T23:30:00",
        shipped_at="2026-11-15T17:10:00Z",
        delivered_at="2026-11-18T08:00:00-05:00",
    ),
    "both forms agreeing": dict(paid_days_ago=7, placed_days_ago=DROP, shipped_at="2026-11-16T09:00:00"),
    "no total, rounded prices": dict(total=DROP, items=TWO_ITEMS, status="in_transit", delivered_days_ago=DROP),
}


@pytest.mark.parametrize("zone", [SHANGHAI, NEW_YORK], ids=["shanghai", "new_york"])
@pytest.mark.parametrize("changes", DATE_FORMS.values(), ids=DATE_FORMS.keys())
def test_the_policy_reading_and_the_imported_order_agree(engine, changes, zone):
    record = interchange_order(**changes)
    with session_scope(engine) as session:
        report = import_orders(session, [record], TODAY, zone=zone)
        assert report.ok, report.errors
        order = find_order(session, record["order_id"])
        for index, item in enumerate(order.items):
            assert order_facts_for(order, item, zone=zone) == order_facts_from_interchange(
                record, TODAY, index, zone=zone
            )
        for name in ("shipped", "delivered"):
            assert shop_date(getattr(order, f"{name}_at"), zone) == resolve_interchange_date(
                record, name, TODAY, zone=zone
            )


def test_a_day_reads_as_the_same_day_in_either_form(engine):
    """`shipped_days_ago: 5` and `shipped_at` of that day are one moment (the start of the shop's day)."""
    relative = interchange_order(shipped_days_ago=5)
    absolute = interchange_order(order_id="1111222233335555", shipped_days_ago=DROP, shipped_at="2026-11-16")
    with session_scope(engine) as session:
        assert import_orders(session, [relative, absolute], TODAY, zone=SHANGHAI).ok
        moments = {find_order(session, r["order_id"]).shipped_at for r in (relative, absolute)}
    assert len(moments) == 1
    facts = [order_facts_from_interchange(r, TODAY, zone=SHANGHAI) for r in (relative, absolute)]
    assert facts[0].shipped_at == facts[1].shipped_at == TODAY - timedelta(days=5)


BAD_ORDERS = {
    "wrong type": (
        dict(promised_delivery_days="3"),
        "订单 1111222233334444：promised_delivery_days（承诺送达天数）必须是不小于 0 的整数，实际是 '3'。",
    ),
    "wrong type in an item": (
        dict(items=[{"sku": "A", "name": "音箱", "category": "digital", "unit_price": "一百九十九", "quantity": 1}]),
        "订单 1111222233334444：items[0].unit_price（单价）必须是不小于 0 的金额，实际是 '一百九十九'。",
    ),
    "missing field": (dict(status=DROP), "订单 1111222233334444：status（订单状态）缺失或为空。"),
    "missing field in an item": (
        dict(items=[{"sku": "A", "category": "digital", "unit_price": 199, "quantity": 1}]),
        "订单 1111222233334444：items[0].name（商品名称）缺失或为空。",
    ),
    "unknown enum code": (
        dict(payment_method="alipay"),
        "订单 1111222233334444：payment_method（支付方式）「alipay」不是已知取值，可选：online, cod。",
    ),
    "not a boolean": (
        dict(cross_border=1),
        "订单 1111222233334444：cross_border（是否跨境）必须是 true 或 false，实际是 1。",
    ),
    "item not an object": (
        dict(items=["音箱"]),
        "订单 1111222233334444：items[0]（商品列表）必须是一个 JSON 对象。",
    ),
}


@pytest.mark.parametrize("changes, message", BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_pydantic_errors_are_the_same_chinese_message_in_both_readings(engine, changes, message):
    record = interchange_order(**changes)
    with session_scope(engine) as session:
        report = import_orders(session, [record], TODAY)
    assert [problem.message for problem in report.errors] == [message]
    with pytest.raises(InterchangeError) as caught:
        order_facts_from_interchange(record, TODAY)
    assert str(caught.value) == message


def test_every_problem_of_an_order_is_reported_at_once(engine):
    record = interchange_order(status="shipped", cross_border="否", shipped_days_ago=1, delivered_days_ago=3)
    with session_scope(engine) as session:
        report = import_orders(session, [record], TODAY)
    assert [problem.field for problem in report.errors] == ["cross_border", "status", "delivered_at"]
    assert report.failed_orders == ["1111222233334444"]
