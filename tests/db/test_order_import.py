"""Importing interchange orders: relative and absolute dates, updates, validation messages."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.db import Order, OrderItem, TrackingEvent, session_scope
from bot.services.clock import shop_date
from bot.services.order_import import ImportFormatError, import_orders
from bot.services.orders import find_order
from bot.services.tickets import open_ticket
from tests.db.conftest import TODAY
from tests.db.helpers import DEMO_ORDERS_FILE, DROP, interchange_order, load_json


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_shared_fixture_orders_import_completely(engine, shared_fixture_orders):
    data = load_json(shared_fixture_orders)
    with session_scope(engine) as session:
        report = import_orders(session, data, TODAY)
    assert report.errors == []
    assert report.created_count == len(data["orders"])
    with session_scope(engine) as session:
        for record in data["orders"]:
            order = find_order(session, record["order_id"])
            assert order is not None
            assert [item.sku for item in order.items] == [item["sku"] for item in record["items"]]
            assert len(order.tracking_events) == len(record.get("tracking_events") or [])
            if record.get("delivered_days_ago") is not None:
                assert (TODAY - shop_date(order.delivered_at)).days == record["delivered_days_ago"]


def test_demo_orders_import_and_cover_the_rule_families(engine):
    data = load_json(DEMO_ORDERS_FILE)
    orders = data["orders"]
    assert 15 <= len(orders) <= 20
    assert all(len(order["order_id"]) == 16 and order["order_id"].isdigit() for order in orders)
    assert {order["status"] for order in orders} >= {"delivered", "in_transit", "lost", "awaiting_shipment", "refunded"}
    categories = {item["category"] for order in orders for item in order["items"]}
    assert categories >= {"digital", "appliance", "apparel", "beauty", "fresh", "custom"}
    assert any(order["payment_method"] == "cod" for order in orders)
    assert any(len(order["items"]) > 1 for order in orders)
    assert any(order["total"] >= 2000 for order in orders)
    assert all(order.get("scenario") for order in orders)
    with session_scope(engine) as session:
        report = import_orders(session, data, TODAY)
    assert report.errors == [] and report.created_count == len(orders)


def test_demo_orders_are_our_own(shared_fixture_orders):
    fixture = load_json(shared_fixture_orders)["orders"]
    demo = load_json(DEMO_ORDERS_FILE)["orders"]
    for field in ("order_id", "buyer_phone", "tracking_number"):
        assert not {o[field] for o in fixture if o.get(field)} & {o[field] for o in demo if o.get(field)}
    assert not {i["name"] for o in fixture for i in o["items"]} & {i["name"] for o in demo for i in o["items"]}


def test_relative_dates_are_calendar_days_before_today_in_the_shop_zone(engine):
    with session_scope(engine) as session:
        import_orders(session, [interchange_order(placed_days_ago=6, shipped_days_ago=5, delivered_days_ago=0)], TODAY)
    with session_scope(engine) as session:
        order = find_order(session, "1111222233334444")
        assert shop_date(order.paid_at) == date(2026, 11, 15)
        assert shop_date(order.shipped_at) == date(2026, 11, 16)
        assert shop_date(order.delivered_at) == TODAY
        # the start of the shop's day, i.e. 16:00 UTC the day before in Shanghai
        assert order.delivered_at == datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)
        assert [event.text for event in order.tracking_events] == ["已揽收", "已签收"]


def test_absolute_iso_dates_with_offsets_utc_and_bare_dates(engine):
    record = interchange_order(
        placed_days_ago=DROP,
        shipped_days_ago=DROP,
        delivered_days_ago=DROP,
        paid_at="2026-11-10T23:30:00+08:00",
        shipped_at="2026-11-11T02:00:00Z",
        delivered_at="2026-11-13",
        tracking_events=[
            {"at": "2026-11-11T10:00:00", "text": "已揽收"},
            {"at": "2026-11-13T18:05:00+08:00", "text": "已签收"},
        ],
    )
    with session_scope(engine) as session:
        report = import_orders(session, [record], TODAY)
    assert report.ok, report.errors
    with session_scope(engine) as session:
        order = find_order(session, record["order_id"])
        assert order.paid_at == datetime(2026, 11, 10, 15, 30, tzinfo=timezone.utc)
        assert shop_date(order.paid_at) == date(2026, 11, 10)
        assert order.shipped_at == datetime(2026, 11, 11, 2, 0, tzinfo=timezone.utc)
        assert shop_date(order.delivered_at) == date(2026, 11, 13)
        # a time without an offset is shop-local
        assert order.tracking_events[0].at == datetime(2026, 11, 11, 2, 0, tzinfo=timezone.utc)


def test_placed_at_and_paid_days_ago_are_accepted_too(engine):
    with session_scope(engine) as session:
        report = import_orders(
            session,
            [
                interchange_order(placed_days_ago=DROP, placed_at="2026-11-14"),
                interchange_order(order_id="1111222233335555", placed_days_ago=DROP, paid_days_ago=7),
            ],
            TODAY,
        )
    assert report.ok, report.errors
    with session_scope(engine) as session:
        assert shop_date(find_order(session, "1111222233334444").paid_at) == date(2026, 11, 14)
        assert shop_date(find_order(session, "1111222233335555").paid_at) == date(2026, 11, 14)


def test_reimport_updates_in_place_and_never_duplicates(engine):
    original = interchange_order(
        items=[
            {"sku": "SKU-A", "name": "测试蓝牙音箱", "category": "digital", "unit_price": 199.0, "quantity": 1},
            {"sku": "SKU-B", "name": "音箱收纳包", "category": "other", "unit_price": 29.9, "quantity": 2},
        ],
        total=258.8,
    )
    with session_scope(engine) as session:
        assert import_orders(session, {"orders": [original]}, TODAY).created_count == 1
        order = find_order(session, original["order_id"])
        ticket, _ = open_ticket(session, order=order, item=order.items[0], category="quality", conversation_id="c-1")
        first_item_id = order.items[0].id

    changed = interchange_order(
        status="refunded",
        buyer_phone="13900005678",
        items=[
            {
                "sku": "SKU-A",
                "name": "测试蓝牙音箱（升级版）",
                "category": "digital",
                "unit_price": 189.0,
                "quantity": 1,
            }
        ],
        tracking_events=[
            {"days_ago": 5, "text": "已揽收"},
            {"days_ago": 4, "text": "运输中"},
            {"days_ago": 3, "text": "已签收"},
        ],
        total=189.0,
    )
    with session_scope(engine) as session:
        report = import_orders(session, {"orders": [changed]}, TODAY)
        assert (report.created_count, report.updated_count) == (0, 1)
    with session_scope(engine) as session:
        assert count(session, Order) == 1
        assert count(session, OrderItem) == 1
        assert count(session, TrackingEvent) == 3
        order = find_order(session, changed["order_id"])
        assert order.status == "refunded" and order.buyer_phone == "13900005678"
        assert order.total == Decimal("189.00")
        # the item a ticket points at is updated, not replaced
        assert order.items[0].id == first_item_id and order.items[0].name == "测试蓝牙音箱（升级版）"
        assert order.tickets[0].item_id == first_item_id


def test_a_bad_order_is_reported_in_chinese_and_the_others_are_imported(engine):
    records = [
        interchange_order(order_id="1111222233330001"),
        interchange_order(order_id=DROP),
        interchange_order(
            order_id="1111222233330002",
            items=[{"sku": "X", "name": "玩具", "category": "toys", "unit_price": 9, "quantity": 1}],
        ),
        interchange_order(order_id="1111222233330003", delivered_days_ago=DROP, delivered_at="2026-02-30"),
        interchange_order(order_id="1111222233330004", shipped_days_ago=1, delivered_days_ago=3),
        interchange_order(order_id="12345"),
        interchange_order(order_id="1111222233330001"),
        "not an order",
        interchange_order(order_id="1111222233330005"),
    ]
    with session_scope(engine) as session:
        report = import_orders(session, records, TODAY)
    assert report.created == ["1111222233330001", "1111222233330005"]
    messages = [problem.message for problem in report.errors]
    assert "订单 第 2 条：order_id（订单号）缺失或为空。" in messages
    assert any("订单 1111222233330002：items[0].category（商品类目）「toys」不是已知取值" in m for m in messages)
    assert any(
        m.startswith("订单 1111222233330003：delivered_at（签收时间）「2026-02-30」不是有效的 ISO-8601")
        for m in messages
    )
    assert any(
        m.startswith("订单 1111222233330004：delivered_at（签收时间）为 2026-11-18，早于发货时间 2026-11-20")
        for m in messages
    )
    assert any("「12345」不符合本店订单号格式" in m for m in messages)
    assert any("订单 1111222233330001：order_id（订单号）在同一份数据中重复出现" in m for m in messages)
    assert any(m == "订单 第 8 条：订单必须是一个 JSON 对象。" for m in messages)
    assert len(report.failed_orders) == 7
    assert "7 个订单有错误未导入" in report.summary()
    with session_scope(engine) as session:
        assert count(session, Order) == 2


def test_disagreeing_relative_and_absolute_dates_are_rejected(engine):
    record = interchange_order(delivered_at="2026-11-10", delivered_days_ago=3)
    with session_scope(engine) as session:
        report = import_orders(session, [record], TODAY)
    assert [problem.field for problem in report.errors] == ["delivered_at"]
    assert "与 delivered_days_ago（3 天前，即 2026-11-18）不一致" in report.errors[0].message


def test_a_document_without_orders_is_a_format_error(engine):
    with session_scope(engine) as session:
        with pytest.raises(ImportFormatError, match='没有 "orders" 列表'):
            import_orders(session, {"items": []}, TODAY)


def test_money_is_exact_and_total_defaults_to_the_items(engine):
    record = interchange_order(
        total=DROP,
        items=[
            {"sku": "A", "name": "甲", "category": "other", "unit_price": 0.1, "quantity": 3},
            {"sku": "B", "name": "乙", "category": "other", "unit_price": 19.99, "quantity": 1},
        ],
    )
    with session_scope(engine) as session:
        import_orders(session, [record], TODAY)
        order = find_order(session, record["order_id"])
        assert order.total == Decimal("20.29")
        assert order.items[0].unit_price == Decimal("0.10")
