"""Importing orders from the interchange format (JSON) into the database.

Each order is read by the one interchange model (`bot.domain.interchange`, which also documents the
dates) and written on its own (inside a savepoint): a bad order is reported with a Chinese message
naming the order and the field, and the others are still imported. Re-importing an order number
updates that order in place: its fields, its items (matched by SKU, so tickets keep pointing at the
same item row) and its tracking events (replaced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.tables import Order, OrderItem, TrackingEvent
from bot.domain.interchange import (
    InterchangeError,
    InterchangeItem,
    InterchangeOrder,
    OrderProblem,
    cents,
    order_records,
    order_ref,
    problem,
    read_order,
)
from bot.services.clock import shop_zone
from bot.services.errors import ServiceError

# what the database needs beyond the format: a contact to prove ownership, the SKU to match items on
# re-import, the quantity for the total
REQUIRED_FOR_IMPORT = ("buyer_name", "buyer_phone", "items.sku", "items.quantity")


class ImportFormatError(ServiceError):
    """The file as a whole is not in the interchange format."""


@dataclass
class ImportReport:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    errors: List[OrderProblem] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.created)

    @property
    def updated_count(self) -> int:
        return len(self.updated)

    @property
    def failed_orders(self) -> List[str]:
        return list(dict.fromkeys(problem.order_ref for problem in self.errors))

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = f"新建 {self.created_count} 个订单，更新 {self.updated_count} 个订单"
        if self.errors:
            text += f"，{len(self.failed_orders)} 个订单有错误未导入"
        return text + "。"


def import_orders(
    session: Session,
    data: Union[Mapping[str, Any], Sequence[Any]],
    today: date,
    *,
    zone: Optional[ZoneInfo] = None,
    order_number_pattern: Optional[str] = None,
) -> ImportReport:
    """Import (create or update) the orders of `data`: {"orders": [...]} or a plain list."""
    zone = zone or shop_zone()
    if order_number_pattern is None:
        from bot.config import get_settings

        order_number_pattern = get_settings().order_number_pattern
    number_pattern = re.compile(order_number_pattern)
    try:
        records = order_records(data)
    except InterchangeError as error:
        raise ImportFormatError(str(error)) from None
    report = ImportReport()
    seen: set = set()
    for index, record in enumerate(records):
        order, problems = _read(record, index, today, zone, number_pattern)
        if order is not None and order.order_id in seen:
            problems.append(problem(order.order_id, "order_id", "在同一份数据中重复出现，只导入第一次出现的那条。"))
        if order is None or problems:
            report.errors.extend(problems)
            continue
        seen.add(order.order_id)
        try:
            with session.begin_nested():
                created = _store_order(session, order)
        except SQLAlchemyError as error:
            report.errors.append(
                OrderProblem(order.order_id, "", f"订单 {order.order_id}：写入数据库失败（{type(error).__name__}）。")
            )
            continue
        (report.created if created else report.updated).append(order.order_id)
    return report


def _read(
    record: Any, index: int, today: date, zone: ZoneInfo, number_pattern: re.Pattern
) -> Tuple[Optional[InterchangeOrder], List[OrderProblem]]:
    ref = order_ref(record, index)
    problems: List[OrderProblem] = []
    if isinstance(record, Mapping) and ref == str(record.get("order_id")).strip() and not number_pattern.fullmatch(ref):
        problems.append(problem(ref, "order_id", f"「{ref}」不符合本店订单号格式（{number_pattern.pattern}）。"))
    try:
        order = read_order(record, today, zone, position=index, require=REQUIRED_FOR_IMPORT)
    except InterchangeError as error:
        return None, problems + error.problems
    return (None if problems else order), problems


def _store_order(session: Session, read: InterchangeOrder) -> bool:
    order = session.execute(select(Order).where(Order.order_number == read.order_id)).scalar_one_or_none()
    created = order is None
    if created:
        order = Order(order_number=read.order_id)
        session.add(order)
    order.buyer_name = read.buyer_name
    order.buyer_phone = read.buyer_phone
    order.address = read.address
    order.customer_id = read.customer_id
    order.cross_border = read.cross_border
    order.origin_country = read.origin_country
    order.payment_method = read.payment_method.value
    order.status = read.status.value
    order.paid_at = read.paid_at
    order.shipped_at = read.shipped_at
    order.delivered_at = read.delivered_at
    order.promised_delivery_days = read.promised_delivery_days
    order.carrier = read.carrier
    order.tracking_number = read.tracking_number
    order.note = read.scenario
    order.total_cents = cents(read.amount)
    _replace_items(order, read.items)
    order.tracking_events = [
        TrackingEvent(position=position, at=event.at, text=event.text)
        for position, event in enumerate(read.tracking_events or [])
    ]
    session.flush()
    return created


def _replace_items(order: Order, items: List[InterchangeItem]) -> None:
    existing = {item.sku: item for item in order.items}
    kept: List[OrderItem] = []
    for position, read in enumerate(items):
        item = existing.get(read.sku) or OrderItem(sku=read.sku)
        item.position = position
        item.name = read.name
        item.category = read.category.value
        item.unit_price_cents = cents(read.unit_price)
        item.quantity = read.quantity
        kept.append(item)
    order.items = kept
