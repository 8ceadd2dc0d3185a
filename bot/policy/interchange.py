"""Orders in the interchange JSON format (as in `fixtures/orders.json`) turned into `OrderFacts`.

The format is read by the one model of `bot.domain.interchange`, as the database import reads it: a date
without a time is the start of that day in the shop's zone, so `paid_at` is then midnight of that day, as
the facts of an imported order have it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Mapping, Optional
from zoneinfo import ZoneInfo

from bot.domain.interchange import InterchangeError, order_records, read_moment, read_order, shop_day
from bot.policy.model import OrderFacts

__all__ = ["InterchangeError", "interchange_orders", "order_facts_from_interchange", "resolve_interchange_date"]


def resolve_interchange_date(
    order: Mapping[str, Any], field: str, today: date, zone: Optional[ZoneInfo] = None
) -> Optional[date]:
    """The calendar day (in the shop's zone) of `field` ("shipped", "delivered", ...) from `<field>_days_ago`
    or `<field>_at`; None when neither is given. Both given and disagreeing is an error."""
    zone = zone or _settings_zone()
    name = field.removesuffix("_days_ago").removesuffix("_at")
    return shop_day(read_moment(order, name, today, zone), zone)


def order_facts_from_interchange(
    order: Mapping[str, Any], today: date, item_index: int = 0, zone: Optional[ZoneInfo] = None
) -> OrderFacts:
    """The facts of one item (`item_index`, 0-based) of an interchange order."""
    zone = zone or _settings_zone()
    read = read_order(order, today, zone)
    if not 0 <= item_index < len(read.items):
        raise InterchangeError(f"订单 {read.order_id}：只有 {len(read.items)} 件商品，没有第 {item_index + 1} 件")
    item = read.items[item_index]
    return OrderFacts(
        order_id=read.order_id,
        cross_border=read.cross_border,
        payment_method=read.payment_method,
        status=read.status,
        paid_at=read.paid_at.astimezone(zone) if read.paid_at else None,
        shipped_at=shop_day(read.shipped_at, zone),
        delivered_at=shop_day(read.delivered_at, zone),
        promised_delivery_days=read.promised_delivery_days,
        order_total=float(read.amount),
        item_category=item.category,
        item_name=item.name,
        item_price=float(item.unit_price),
    )


def interchange_orders(document: Any) -> Dict[str, Mapping[str, Any]]:
    """The orders of an interchange document (`{"orders": [...]}` or a bare list), by order id."""
    by_id: Dict[str, Mapping[str, Any]] = {}
    for position, order in enumerate(order_records(document)):
        if not isinstance(order, Mapping) or "order_id" not in order:
            raise InterchangeError(f"订单文件第 {position + 1} 条不是带 order_id 的订单对象")
        by_id[str(order["order_id"])] = order
    return by_id


def _settings_zone() -> ZoneInfo:
    # for callers without a clock of their own (the policy CLI passes its zone)
    from bot.config import get_settings

    return ZoneInfo(get_settings().timezone)
