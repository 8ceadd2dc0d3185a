"""Looking up orders, proving who owns one, and presenting them without leaking personal data."""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.db.tables import Order, OrderItem, TrackingEvent
from bot.services.clock import shop_date, shop_zone, to_shop_time
from bot.services.errors import InvalidChange

if TYPE_CHECKING:
    from bot.policy import OrderFacts

_NON_DIGITS = re.compile(r"\D")


def normalize_order_number(order_number: str) -> str:
    return re.sub(r"[\s\-]", "", str(order_number))


ORDERS_FOUND = "aftersales_orders_found"  # session.info: order number -> the order found in it


def find_order(session: Session, order_number: str) -> Optional[Order]:
    """The order, read once per session: an action-server call looks its order up in several
    steps (bot/bootstrap.py `one_unit_of_work_per_call`), and the session's identity map finds
    objects by primary key only, so each lookup by number would query again."""
    number = normalize_order_number(order_number)
    found = session.info.setdefault(ORDERS_FOUND, {})
    order = found.get(number)
    if order is not None and inspect(order).persistent:  # not deleted or expunged since
        return order
    order = session.execute(select(Order).where(Order.order_number == number)).scalar_one_or_none()
    if order is not None:
        found[number] = order
    return order


def verify_order_owner(session: Session, order_number: str, phone_last4: str) -> Optional[Order]:
    """The order when `phone_last4` are the last four digits of its phone number, else None.

    An unknown order and a wrong number give the same answer so a caller cannot probe for
    existing order numbers; the digits are compared in constant time.
    """
    given = _NON_DIGITS.sub("", str(phone_last4 or ""))
    order = find_order(session, order_number)
    expected = _NON_DIGITS.sub("", order.buyer_phone)[-4:] if order is not None else "0000"
    matches = hmac.compare_digest(given.encode(), expected.encode())
    if order is None or len(given) != 4 or not matches:
        return None
    return order


def orders_for_customer(session: Session, customer_id: str) -> List[Order]:
    """The orders of a signed customer identity passed by the shop website, newest first."""
    return list(
        session.execute(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.paid_at.desc(), Order.id.desc())
        ).scalars()
    )


def mask_phone(phone: Optional[str]) -> str:
    """138****1234: enough for the buyer to recognise the number, not enough to use it."""
    digits = _NON_DIGITS.sub("", phone or "")
    if len(digits) == 13 and digits.startswith("861"):  # +86 before a mainland mobile number
        digits = digits[2:]
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return f"****{digits[-4:]}"
    return "****"


def mask_address(address: Optional[str]) -> str:
    if not address:
        return ""
    keep = min(6, max(len(address) // 3, 1))
    return address[:keep] + "****"


def latest_tracking_event(order: Order) -> Optional[TrackingEvent]:
    events = tracking_events(order)
    return events[-1] if events else None


def tracking_events(order: Order) -> List[TrackingEvent]:
    """The order's tracking events, oldest first."""
    return sorted(order.tracking_events, key=lambda event: (event.at, event.position))


def tracking_summary(order: Order, zone: Optional[ZoneInfo] = None) -> str:
    """One Chinese line about where the parcel is, for the buyer."""
    zone = zone or shop_zone()
    latest = latest_tracking_event(order)
    carrier = (
        f"{order.carrier} {order.tracking_number}" if order.carrier and order.tracking_number else (order.carrier or "")
    )
    if latest is None:
        return f"{carrier}：暂无物流信息。" if carrier else "暂无物流信息。"
    when = to_shop_time(latest.at, zone).strftime("%m-%d %H:%M")
    return f"{carrier + '：' if carrier else ''}{when} {latest.text}"


def item_for(order: Order, sku: Optional[str] = None) -> Optional[OrderItem]:
    """The item the buyer means: the given SKU, or the only item of a one-item order."""
    if sku is not None:
        return next((item for item in order.items if item.sku == sku), None)
    return order.items[0] if len(order.items) == 1 else None


def order_facts_for(order: Order, item: Optional[OrderItem] = None, zone: Optional[ZoneInfo] = None) -> "OrderFacts":
    """The order as the policy engine sees it, for one item (needed when the order has several)."""
    from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
    from bot.policy import OrderFacts

    zone = zone or shop_zone()
    if item is None:
        item = item_for(order)
        if item is None:
            raise InvalidChange(f"订单 {order.order_number} 有 {len(order.items)} 件商品，需要指明是哪一件。")
    return OrderFacts(
        order_id=order.order_number,
        cross_border=bool(order.cross_border),
        payment_method=PaymentMethod(order.payment_method),
        status=OrderStatus(order.status),
        paid_at=to_shop_time(order.paid_at, zone) if order.paid_at else None,
        shipped_at=shop_date(order.shipped_at, zone),
        delivered_at=shop_date(order.delivered_at, zone),
        promised_delivery_days=order.promised_delivery_days,
        order_total=float(order.total),
        item_category=ProductCategory(item.category),
        item_name=item.name,
        item_price=float(item.unit_price),
    )


def order_to_interchange(order: Order, zone: Optional[ZoneInfo] = None) -> Dict[str, Any]:
    """The order in the interchange format with absolute ISO-8601 times (shop time zone)."""
    zone = zone or shop_zone()

    def iso(moment: Optional[datetime]) -> Optional[str]:
        return to_shop_time(moment, zone).isoformat() if moment else None

    return {
        "order_id": order.order_number,
        "buyer_name": order.buyer_name,
        "buyer_phone": order.buyer_phone,
        "address": order.address,
        "customer_id": order.customer_id,
        "cross_border": bool(order.cross_border),
        "origin_country": order.origin_country,
        "payment_method": order.payment_method,
        "status": order.status,
        "paid_at": iso(order.paid_at),
        "shipped_at": iso(order.shipped_at),
        "delivered_at": iso(order.delivered_at),
        "promised_delivery_days": order.promised_delivery_days,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "category": item.category,
                "unit_price": float(item.unit_price),
                "quantity": item.quantity,
            }
            for item in order.items
        ],
        "tracking_events": [{"at": iso(event.at), "text": event.text} for event in tracking_events(order)],
        "total": float(order.total),
    }
