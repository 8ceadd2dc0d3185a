"""Orders in the interchange JSON format (as in `fixtures/orders.json`) turned into `OrderFacts`.

Dates appear either relative to the day the data is loaded (`shipped_days_ago: 12`) or
absolute in ISO 8601 (`shipped_at: "2025-09-30"` or `"2025-09-30T14:05:00+08:00"`). Times with
a UTC offset are converted to the shop's time zone before taking the calendar day.
The payment time is `paid_*`; orders without one (e.g. cash on delivery) use `placed_*`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Dict, Mapping, Optional, Type, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
from bot.policy.model import OrderFacts

E = TypeVar("E", OrderStatus, PaymentMethod, ProductCategory)


class InterchangeError(ValueError):
    """An interchange order cannot be read; the message is Chinese and names the field."""


def resolve_interchange_date(order: Mapping[str, Any], field: str, today: date) -> Optional[date]:
    """The calendar day of `field` ("shipped", "delivered", ...) from `<field>_days_ago` or
    `<field>_at`; None when neither is given. Both given and disagreeing is an error."""
    moment = _resolve_moment(order, field, today)
    return moment.date() if isinstance(moment, datetime) else moment


def order_facts_from_interchange(order: Mapping[str, Any], today: date, item_index: int = 0) -> OrderFacts:
    """The facts of one item (`item_index`, 0-based) of an interchange order."""
    order_id = str(_required(order, "order_id", "订单"))
    where = f"订单 {order_id}"
    items = _required(order, "items", where)
    if not isinstance(items, list) or not items:
        raise InterchangeError(f"{where}: 字段 items 必须是至少包含一件商品的列表")
    if not 0 <= item_index < len(items):
        raise InterchangeError(f"{where}: 只有 {len(items)} 件商品，没有第 {item_index + 1} 件")
    item = items[item_index]
    if not isinstance(item, Mapping):
        raise InterchangeError(f"{where}: items[{item_index}] 必须是对象")
    item_where = f"{where} items[{item_index}]"
    cross_border = _required(order, "cross_border", where)
    if not isinstance(cross_border, bool):
        raise InterchangeError(f"{where}: 字段 cross_border 必须是 true 或 false，实际是 {cross_border!r}")
    paid_at = _resolve_moment(order, "paid", today)
    if paid_at is None:
        paid_at = _resolve_moment(order, "placed", today)
    item_price = _number(item.get("unit_price", 0.0), "unit_price", item_where)
    total = order.get("total")
    if total is None:
        total = sum(_number(i.get("unit_price", 0), "unit_price", where) * i.get("quantity", 1) for i in items)
    return OrderFacts(
        order_id=order_id,
        cross_border=cross_border,
        payment_method=_choice(PaymentMethod, _required(order, "payment_method", where), "payment_method", where),
        status=_choice(OrderStatus, _required(order, "status", where), "status", where),
        paid_at=paid_at,
        shipped_at=resolve_interchange_date(order, "shipped", today),
        delivered_at=resolve_interchange_date(order, "delivered", today),
        promised_delivery_days=_optional_days(order.get("promised_delivery_days"), "promised_delivery_days", where),
        order_total=_number(total, "total", where),
        item_category=_choice(ProductCategory, _required(item, "category", item_where), "category", item_where),
        item_name=str(item.get("name") or ""),
        item_price=item_price,
    )


def _resolve_moment(order: Mapping[str, Any], field: str, today: date) -> Optional[date]:
    name = field.removesuffix("_days_ago").removesuffix("_at")
    where = f"订单 {order.get('order_id', '?')}"
    days_ago = _optional_days(order.get(f"{name}_days_ago"), f"{name}_days_ago", where)
    from_days = today - timedelta(days=days_ago) if days_ago is not None else None
    from_iso = _parse_iso(order.get(f"{name}_at"), f"{name}_at", where)
    if from_days is not None and from_iso is not None:
        iso_day = from_iso.date() if isinstance(from_iso, datetime) else from_iso
        if iso_day != from_days:
            raise InterchangeError(
                f"{where}: {name}_days_ago（{days_ago} 天前，即 {from_days.isoformat()}）"
                f"与 {name}_at（{iso_day.isoformat()}）不一致"
            )
        return from_iso
    return from_iso if from_iso is not None else from_days


def _parse_iso(value: Any, field: str, where: str) -> Optional[date]:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_shop_zone(value)
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InterchangeError(f"{where}: 字段 {field} 必须是 ISO 8601 日期文字，实际是 {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return _in_shop_zone(datetime.fromisoformat(text))
    except ValueError:
        raise InterchangeError(
            f"{where}: 字段 {field} 不是有效的 ISO 8601 日期或时间（例如 2025-09-30 或 2025-09-30T14:05:00+08:00），"
            f"实际是 {value!r}"
        ) from None


def _in_shop_zone(moment: datetime) -> datetime:
    from bot.config import get_settings

    zone = ZoneInfo(get_settings().timezone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _optional_days(value: Any, field: str, where: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InterchangeError(f"{where}: 字段 {field} 必须是非负整数，实际是 {value!r}")
    return value


def _number(value: Any, field: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InterchangeError(f"{where}: 字段 {field} 必须是非负数，实际是 {value!r}")
    return float(value)


def _required(record: Mapping[str, Any], field: str, where: str) -> Any:
    value = record.get(field)
    if value is None:
        raise InterchangeError(f"{where}: 缺少字段 {field}")
    return value


def _choice(kind: Type[E], value: Any, field: str, where: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(member.value for member in kind)
        raise InterchangeError(f"{where}: 字段 {field} 的值 {value!r} 无效（可用：{allowed}）") from None


def interchange_orders(document: Any) -> Dict[str, Mapping[str, Any]]:
    """The orders of an interchange document (`{"orders": [...]}` or a bare list), by order id."""
    orders = document.get("orders") if isinstance(document, Mapping) else document
    if not isinstance(orders, list):
        raise InterchangeError('订单文件格式不对：需要 {"orders": [...]} 或订单列表')
    by_id: Dict[str, Mapping[str, Any]] = {}
    for position, order in enumerate(orders):
        if not isinstance(order, Mapping) or "order_id" not in order:
            raise InterchangeError(f"订单文件第 {position + 1} 条不是带 order_id 的订单对象")
        by_id[str(order["order_id"])] = order
    return by_id
