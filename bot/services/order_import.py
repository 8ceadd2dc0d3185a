"""Importing orders from the interchange format (JSON) into the database.

Each order is validated and written on its own (inside a savepoint): a bad order is reported
with a Chinese message naming the order and the field, and the others are still imported.
Re-importing an order number updates that order in place: its fields, its items (matched by
SKU, so tickets keep pointing at the same item row) and its tracking events (replaced).

Dates: `paid_at` (or `placed_at`) / `shipped_at` / `delivered_at` (and tracking events' `at`)
are ISO-8601; a time without an offset is shop-local and a date without a time means the start
of that day in the shop's zone. The relative form `paid_days_ago` (or `placed_days_ago`) /
`shipped_days_ago` / `delivered_days_ago` (events: `days_ago`) counts calendar days back from
`today` and also lands at the start of the day. Both forms given must name the same day
(the same reading as `bot.policy.interchange`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db.tables import Order, OrderItem, TrackingEvent
from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
from bot.services.clock import local_moment, shop_date, shop_zone
from bot.services.errors import ServiceError

FIELD_LABELS = {
    "order_id": "订单号",
    "buyer_name": "买家姓名",
    "buyer_phone": "手机号",
    "address": "收货地址",
    "customer_id": "客户编号",
    "cross_border": "是否跨境",
    "origin_country": "发货国家",
    "payment_method": "支付方式",
    "status": "订单状态",
    "paid_at": "付款时间",
    "shipped_at": "发货时间",
    "delivered_at": "签收时间",
    "promised_delivery_days": "承诺送达天数",
    "carrier": "承运商",
    "tracking_number": "运单号",
    "items": "商品列表",
    "sku": "SKU",
    "name": "商品名称",
    "category": "商品类目",
    "unit_price": "单价",
    "quantity": "数量",
    "total": "订单金额",
    "tracking_events": "物流轨迹",
    "text": "轨迹描述",
    "at": "轨迹时间",
}

# column -> the interchange (absolute, relative) field pairs that may give it, preferred first
ORDER_DATE_FIELDS = {
    "paid_at": (("paid_at", "paid_days_ago"), ("placed_at", "placed_days_ago")),
    "shipped_at": (("shipped_at", "shipped_days_ago"),),
    "delivered_at": (("delivered_at", "delivered_days_ago"),),
}

PHONE_PATTERN = re.compile(r"\+?\d{7,15}")


class ImportFormatError(ServiceError):
    """The file as a whole is not in the interchange format."""


@dataclass(frozen=True)
class ImportProblem:
    order_ref: str
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class ImportReport:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    errors: List[ImportProblem] = field(default_factory=list)

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


@dataclass
class _ParsedItem:
    sku: str
    name: str
    category: str
    unit_price_cents: int
    quantity: int


@dataclass
class _ParsedEvent:
    at: datetime
    text: str


@dataclass
class _ParsedOrder:
    order_number: str
    values: Dict[str, Any]
    items: List[_ParsedItem]
    events: List[_ParsedEvent]


class _RecordProblems:
    """Collects every problem of one order so the shop can fix them all in one go."""

    def __init__(self, order_ref: str) -> None:
        self.order_ref = order_ref
        self.problems: List[ImportProblem] = []

    def add(self, field_path: str, problem: str) -> None:
        leaf = field_path.rsplit(".", 1)[-1].split("[", 1)[0]
        label = FIELD_LABELS.get(leaf)
        named = f"{field_path}（{label}）" if label else field_path
        self.problems.append(ImportProblem(self.order_ref, field_path, f"订单 {self.order_ref}：{named}{problem}"))


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
    records = _order_records(data)
    report = ImportReport()
    seen: set = set()
    for index, record in enumerate(records):
        parsed, problems = _parse_order(record, index, today, zone, number_pattern)
        if parsed is not None and parsed.order_number in seen:
            problems.add("order_id", "在同一份数据中重复出现，只导入第一次出现的那条。")
            parsed = None
        if parsed is None:
            report.errors.extend(problems.problems)
            continue
        seen.add(parsed.order_number)
        try:
            with session.begin_nested():
                created = _store_order(session, parsed)
        except SQLAlchemyError as error:
            report.errors.append(
                ImportProblem(
                    parsed.order_number, "", f"订单 {parsed.order_number}：写入数据库失败（{type(error).__name__}）。"
                )
            )
            continue
        (report.created if created else report.updated).append(parsed.order_number)
    return report


def _order_records(data: Any) -> List[Any]:
    if isinstance(data, Mapping):
        if "orders" not in data:
            raise ImportFormatError('数据中没有 "orders" 列表：应为 {"orders": [...]} 或订单数组。')
        data = data["orders"]
    if not isinstance(data, list):
        raise ImportFormatError('"orders" 必须是订单数组。')
    return data


def _parse_order(
    record: Any, index: int, today: date, zone: ZoneInfo, number_pattern: re.Pattern
) -> "tuple[Optional[_ParsedOrder], _RecordProblems]":
    raw_number = record.get("order_id") if isinstance(record, Mapping) else None
    readable_number = isinstance(raw_number, (str, int)) and not isinstance(raw_number, bool)
    order_number = str(raw_number).strip() if readable_number else ""
    problems = _RecordProblems(order_number or f"第 {index + 1} 条")
    if not isinstance(record, Mapping):
        problems.add("订单", "必须是一个 JSON 对象。")
        return None, problems
    if not order_number:
        problems.add("order_id", "缺失或为空。")
    elif not number_pattern.fullmatch(order_number):
        problems.add("order_id", f"「{order_number}」不符合本店订单号格式（{number_pattern.pattern}）。")

    reader = _FieldReader(record, problems, today, zone)
    values: Dict[str, Any] = {
        "buyer_name": reader.text("buyer_name", required=True, max_length=100),
        "buyer_phone": reader.phone("buyer_phone"),
        "address": reader.text("address"),
        "customer_id": reader.text("customer_id", max_length=128),
        "cross_border": reader.boolean("cross_border", default=False),
        "origin_country": reader.text("origin_country", max_length=8),
        "payment_method": reader.choice("payment_method", PaymentMethod, default=PaymentMethod.ONLINE.value),
        "status": reader.choice("status", OrderStatus),
        "promised_delivery_days": reader.count("promised_delivery_days"),
        "carrier": reader.text("carrier", max_length=64),
        "tracking_number": reader.text("tracking_number", max_length=64),
        "note": reader.text("scenario"),
    }
    for column, sources in ORDER_DATE_FIELDS.items():
        values[column] = reader.first_moment(sources)
    _check_date_order(values, problems, zone)
    delivered_given = record.get("delivered_at") not in (None, "") or record.get("delivered_days_ago") is not None
    if values["status"] == OrderStatus.DELIVERED.value and not delivered_given:
        problems.add("delivered_at", "缺失：订单状态为已签收（delivered）时必须给出签收时间。")

    items = _parse_items(record.get("items"), problems)
    events = _parse_events(record.get("tracking_events"), reader)
    if "total" in record and record["total"] is not None:
        values["total_cents"] = reader.money(record["total"], "total")
    else:
        values["total_cents"] = sum(item.unit_price_cents * item.quantity for item in items)
    if problems.problems:
        return None, problems
    return _ParsedOrder(order_number, values, items, events), problems


def _check_date_order(values: Dict[str, Any], problems: _RecordProblems, zone: ZoneInfo) -> None:
    paid, shipped, delivered = (shop_date(values[column], zone) for column in ORDER_DATE_FIELDS)
    if paid and shipped and shipped < paid:
        problems.add("shipped_at", f"为 {shipped}，早于付款时间 {paid}。")
    if shipped and delivered and delivered < shipped:
        problems.add("delivered_at", f"为 {delivered}，早于发货时间 {shipped}。")
    if delivered and not shipped:
        problems.add("shipped_at", "缺失：已有签收时间的订单必须有发货时间。")


def _parse_items(raw_items: Any, problems: _RecordProblems) -> List[_ParsedItem]:
    if not isinstance(raw_items, list) or not raw_items:
        problems.add("items", "缺失或为空：每个订单至少要有一件商品。")
        return []
    items: List[_ParsedItem] = []
    skus: set = set()
    for position, raw in enumerate(raw_items):
        prefix = f"items[{position}]"
        if not isinstance(raw, Mapping):
            problems.add(prefix, "必须是一个 JSON 对象。")
            continue
        reader = _FieldReader(raw, problems, None, None, prefix=prefix + ".")
        sku = reader.text("sku", required=True, max_length=64)
        name = reader.text("name", required=True, max_length=200)
        category = reader.choice("category", ProductCategory)
        price = reader.money(raw.get("unit_price"), "unit_price", required=True)
        quantity = reader.count("quantity", required=True, minimum=1)
        if sku in skus:
            problems.add(f"{prefix}.sku", f"「{sku}」在同一订单中重复。")
        skus.add(sku)
        if None not in (sku, name, category, price, quantity):
            items.append(_ParsedItem(sku, name, category, price, quantity))
    return items


def _parse_events(raw_events: Any, order_reader: "_FieldReader") -> List[_ParsedEvent]:
    if raw_events is None:
        return []
    if not isinstance(raw_events, list):
        order_reader.problems.add("tracking_events", "必须是数组。")
        return []
    events: List[_ParsedEvent] = []
    for position, raw in enumerate(raw_events):
        prefix = f"tracking_events[{position}]"
        if not isinstance(raw, Mapping):
            order_reader.problems.add(prefix, "必须是一个 JSON 对象。")
            continue
        reader = _FieldReader(raw, order_reader.problems, order_reader.today, order_reader.zone, prefix=prefix + ".")
        text = reader.text("text", required=True)
        at = reader.moment("at", "days_ago", required=True)
        if text is not None and at is not None:
            events.append(_ParsedEvent(at, text))
    return events


class _FieldReader:
    """Reads and checks the fields of one JSON object, reporting problems by field path."""

    def __init__(
        self,
        record: Mapping[str, Any],
        problems: _RecordProblems,
        today: Optional[date],
        zone: Optional[ZoneInfo],
        prefix: str = "",
    ) -> None:
        self.record = record
        self.problems = problems
        self.today = today
        self.zone = zone
        self.prefix = prefix

    def _missing(self, name: str) -> None:
        self.problems.add(self.prefix + name, "缺失或为空。")

    def text(self, name: str, *, required: bool = False, max_length: Optional[int] = None) -> Optional[str]:
        value = self.record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(name)
            return None
        if not isinstance(value, str):
            self.problems.add(self.prefix + name, "必须是文本。")
            return None
        value = value.strip()
        if max_length and len(value) > max_length:
            self.problems.add(self.prefix + name, f"太长（{len(value)} 个字符，最多 {max_length} 个）。")
            return None
        return value

    def phone(self, name: str) -> Optional[str]:
        value = self.text(name, required=True)
        if value is None:
            return None
        compact = re.sub(r"[\s\-()]", "", value)
        if not PHONE_PATTERN.fullmatch(compact):
            self.problems.add(self.prefix + name, "不是有效的手机号（应为 7–15 位数字，可带 + 号）。")
            return None
        return compact

    def boolean(self, name: str, *, default: bool) -> Optional[bool]:
        value = self.record.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.prefix + name, f"必须是 true 或 false，实际是 {value!r}。")
            return None
        return value

    def choice(self, name: str, vocabulary, *, default: Optional[str] = None) -> Optional[str]:
        value = self.record.get(name)
        if value is None or value == "":
            if default is None:
                self._missing(name)
            return default
        allowed = [member.value for member in vocabulary]
        if value not in allowed:
            self.problems.add(self.prefix + name, f"「{value}」不是已知取值，可选：{', '.join(allowed)}。")
            return None
        return value

    def count(self, name: str, *, required: bool = False, minimum: int = 0) -> Optional[int]:
        value = self.record.get(name)
        if value is None:
            if required:
                self._missing(name)
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.problems.add(self.prefix + name, f"必须是不小于 {minimum} 的整数，实际是 {value!r}。")
            return None
        return value

    def money(self, value: Any, name: str, *, required: bool = False) -> Optional[int]:
        if value is None:
            if required:
                self._missing(name)
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            amount = Decimal(str(value))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
        except InvalidOperation:
            self.problems.add(self.prefix + name, f"必须是不小于 0 的金额，实际是 {value!r}。")
            return None
        return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def first_moment(self, sources: Sequence[Tuple[str, str]]) -> Optional[datetime]:
        for absolute, relative in sources:
            if self.record.get(absolute) not in (None, "") or self.record.get(relative) is not None:
                return self.moment(absolute, relative)
        return None

    def moment(self, absolute: str, relative: str, *, required: bool = False) -> Optional[datetime]:
        raw = self.record.get(absolute)
        from_iso = self._absolute_moment(absolute, raw) if raw not in (None, "") else None
        from_days = self._relative_moment(relative) if self.record.get(relative) is not None else None
        if from_iso is not None and from_days is not None:
            iso_day, relative_day = shop_date(from_iso, self.zone), shop_date(from_days, self.zone)
            if iso_day != relative_day:
                self.problems.add(
                    self.prefix + absolute,
                    f"为 {iso_day}，与 {relative}（{self.record.get(relative)} 天前，即 {relative_day}）不一致。",
                )
                return None
        if required and raw in (None, "") and self.record.get(relative) is None:
            self.problems.add(
                self.prefix + absolute, f"缺失：需要 {absolute}（ISO-8601 时间）或 {relative}（几天前）。"
            )
        return from_iso or from_days

    def _relative_moment(self, relative: str) -> Optional[datetime]:
        days_ago = self.record.get(relative)
        if isinstance(days_ago, float) and days_ago.is_integer():
            days_ago = int(days_ago)
        if not isinstance(days_ago, int) or isinstance(days_ago, bool) or days_ago < 0:
            self.problems.add(self.prefix + relative, f"必须是不小于 0 的整数天数，实际是 {days_ago!r}。")
            return None
        return local_moment(self.today - timedelta(days=days_ago), self.zone)

    def _absolute_moment(self, name: str, raw: Any) -> Optional[datetime]:
        moment = parse_iso_moment(raw, self.zone) if isinstance(raw, str) else None
        if moment is None:
            self.problems.add(
                self.prefix + name,
                f"「{raw}」不是有效的 ISO-8601 日期时间（如 2026-11-20 或 2026-11-20T14:30:00+08:00）。",
            )
        return moment


def parse_iso_moment(raw: str, zone: ZoneInfo) -> Optional[datetime]:
    """ISO-8601 date or date-time as aware UTC; a bare date is the start of that day and a naive
    time is shop-local."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            return local_moment(date.fromisoformat(text), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def _store_order(session: Session, parsed: _ParsedOrder) -> bool:
    order = session.execute(select(Order).where(Order.order_number == parsed.order_number)).scalar_one_or_none()
    created = order is None
    if created:
        order = Order(order_number=parsed.order_number)
        session.add(order)
    for name, value in parsed.values.items():
        setattr(order, name, value)
    _replace_items(order, parsed.items)
    order.tracking_events = [
        TrackingEvent(position=position, at=event.at, text=event.text) for position, event in enumerate(parsed.events)
    ]
    session.flush()
    return created


def _replace_items(order: Order, items: List[_ParsedItem]) -> None:
    existing = {item.sku: item for item in order.items}
    kept: List[OrderItem] = []
    for position, parsed in enumerate(items):
        item = existing.get(parsed.sku) or OrderItem(sku=parsed.sku)
        item.position = position
        item.name = parsed.name
        item.category = parsed.category
        item.unit_price_cents = parsed.unit_price_cents
        item.quantity = parsed.quantity
        kept.append(item)
    order.items = kept
