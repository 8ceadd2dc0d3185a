"""One model of an order in the interchange format (JSON, as in `shop/demo_orders.json`), read the same way by
the policy CLI (`bot.policy.interchange`) and the database import (`bot.services.order_import`).

Dates: `paid_at` (or `placed_at`) / `shipped_at` / `delivered_at` (tracking events: `at`) are ISO-8601; a time
without an offset is shop-local and a date without a time is the start of that day in the shop's zone. The
relative form `paid_days_ago` (or `placed_days_ago`) / `shipped_days_ago` / `delivered_days_ago` (events:
`days_ago`) counts calendar days back from `today` and also lands at the start of the day. Both forms given must
name the same day. `read_order` resolves them with the `today` and time zone its caller passes in.

Pydantic checks the fields; its errors become the Chinese messages shops get, each naming the order and the
field (`订单 …：items[0].category（商品类目）「toys」不是已知取值…`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConstrainedDecimal, ConstrainedInt, Field, StrictBool, ValidationError, validator
from pydantic.errors import DateTimeError, DecimalError, PydanticValueError, StrError
from pydantic.fields import FieldInfo
from pydantic.main import validate_model

from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory

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
    "paid_days_ago": "付款于几天前",
    "placed_at": "下单时间",
    "placed_days_ago": "下单于几天前",
    "shipped_at": "发货时间",
    "shipped_days_ago": "发货于几天前",
    "delivered_at": "签收时间",
    "delivered_days_ago": "签收于几天前",
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
    "days_ago": "轨迹于几天前",
    "scenario": "场景说明",
}

# the order's moments and the (absolute, relative) field pairs that may give each, preferred first
ORDER_MOMENTS = {
    "paid_at": (("paid_at", "paid_days_ago"), ("placed_at", "placed_days_ago")),
    "shipped_at": (("shipped_at", "shipped_days_ago"),),
    "delivered_at": (("delivered_at", "delivered_days_ago"),),
}

PHONE_PATTERN = re.compile(r"\+?\d{7,15}")
CENT = Decimal("0.01")

MISSING = "缺失或为空。"
NOT_TEXT = "必须是文本。"
NOT_OBJECT = "必须是一个 JSON 对象。"
TOO_LONG = "太长（{length} 个字符，最多 {limit_value} 个）。"
NOT_BOOLEAN = "必须是 true 或 false，实际是 {value!r}。"
NOT_COUNT = "必须是不小于 {limit_value} 的整数，实际是 {value!r}。"
NOT_DAYS = "必须是不小于 0 的整数天数，实际是 {value!r}。"
NOT_MONEY = "必须是不小于 0 的金额，实际是 {value!r}。"
NOT_MOMENT = "「{value}」不是有效的 ISO-8601 日期时间（如 2026-11-20 或 2026-11-20T14:30:00+08:00）。"
NOT_PHONE = "不是有效的手机号（应为 7–15 位数字，可带 + 号）。"
NO_ITEMS = "缺失或为空：每个订单至少要有一件商品。"
NOT_A_LIST = "必须是数组。"


def _choice(vocabulary: Type[Any]) -> str:
    return "「{value}」不是已知取值，可选：" + ", ".join(member.value for member in vocabulary) + "。"


@dataclass(frozen=True)
class OrderProblem:
    """One thing wrong with one order: `field` is the path (`items[0].category`), `message` the Chinese sentence."""

    order_ref: str
    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def problem(order_ref: str, field_path: str, text: str) -> OrderProblem:
    leaf = field_path.rsplit(".", 1)[-1].split("[", 1)[0]
    label = FIELD_LABELS.get(leaf)
    named = f"{field_path}（{label}）" if label else field_path
    return OrderProblem(order_ref, field_path, f"订单 {order_ref}：{named}{text}")


class InterchangeError(ValueError):
    """An interchange document or order cannot be read; the message is Chinese and names the order and field."""

    def __init__(self, message: str, problems: Sequence[OrderProblem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# --- the model ------------------------------------------------------------------------------------------------


class _Count(ConstrainedInt):
    strict = True
    ge = 0


class _PositiveCount(_Count):
    ge = 1


class _Money(ConstrainedDecimal):
    ge = 0


class _PhoneError(PydanticValueError):
    code = "phone"
    msg_template = "not a phone number"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> Optional[str]:
    """Numbers (an order number or phone written as a JSON number) are read as their text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise StrError()
    return value.strip()


def _as_count(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# shop exports (Shopify's, for one) write prices as strings: "199.00" is read as the number it spells
_MONEY_TEXT = re.compile(r"\d+(\.\d+)?")


def _as_money(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and _MONEY_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise DecimalError()
    return Decimal(str(value))


def _as_moment(value: Any) -> Optional[datetime]:
    """An ISO-8601 date or date-time; a bare date is midnight, naive like a time without offset (shop-local)."""
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise DateTimeError()
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0))
        return datetime.fromisoformat(text)
    except ValueError:
        raise DateTimeError() from None


class TrackingEventRecord(BaseModel):
    """A tracking event; after `read_order`, `at` is the aware UTC moment whichever form was given."""

    text: str
    at: Optional[datetime] = Field(None, problem=NOT_MOMENT)
    days_ago: Optional[_Count] = Field(None, problem=NOT_DAYS)

    _text = validator("text", pre=True, allow_reuse=True)(_as_text)
    _at = validator("at", pre=True, allow_reuse=True)(_as_moment)
    _days = validator("days_ago", pre=True, allow_reuse=True)(_as_count)


class InterchangeItem(BaseModel):
    sku: Optional[str] = Field(None, max_length=64)
    name: str = Field(..., max_length=200)
    category: ProductCategory = Field(..., problem=_choice(ProductCategory))
    unit_price: _Money = Field(..., problem=NOT_MONEY)
    quantity: Optional[_PositiveCount] = Field(None, problem=NOT_COUNT, limit_value=1)

    _texts = validator("sku", "name", pre=True, allow_reuse=True)(_as_text)
    _category = validator("category", pre=True, allow_reuse=True)(lambda value: None if value == "" else value)
    _price = validator("unit_price", pre=True, allow_reuse=True)(_as_money)
    _rounded = validator("unit_price", allow_reuse=True)(lambda value: value.quantize(CENT, rounding=ROUND_HALF_UP))
    _quantity = validator("quantity", pre=True, allow_reuse=True)(_as_count)


class OrderDates(BaseModel):
    """The date fields of an order, in both forms, as given."""

    paid_at: Optional[datetime] = Field(None, problem=NOT_MOMENT)
    paid_days_ago: Optional[_Count] = Field(None, problem=NOT_DAYS)
    placed_at: Optional[datetime] = Field(None, problem=NOT_MOMENT)
    placed_days_ago: Optional[_Count] = Field(None, problem=NOT_DAYS)
    shipped_at: Optional[datetime] = Field(None, problem=NOT_MOMENT)
    shipped_days_ago: Optional[_Count] = Field(None, problem=NOT_DAYS)
    delivered_at: Optional[datetime] = Field(None, problem=NOT_MOMENT)
    delivered_days_ago: Optional[_Count] = Field(None, problem=NOT_DAYS)

    _moments = validator("paid_at", "placed_at", "shipped_at", "delivered_at", pre=True, allow_reuse=True)(_as_moment)
    _days = validator(
        "paid_days_ago", "placed_days_ago", "shipped_days_ago", "delivered_days_ago", pre=True, allow_reuse=True
    )(_as_count)


class InterchangeOrder(OrderDates):
    """An interchange order. Made by `read_order`, which also resolves the dates: `paid_at` (taken from
    `placed_*` when no `paid_*` is given), `shipped_at`, `delivered_at` and the events' `at` are then aware UTC
    datetimes, whichever form the file used."""

    order_id: str = Field(...)
    buyer_name: Optional[str] = Field(None, max_length=100)
    buyer_phone: Optional[str] = Field(None, problem=NOT_PHONE)
    address: Optional[str] = None
    customer_id: Optional[str] = Field(None, max_length=128)
    cross_border: StrictBool = Field(False, problem=NOT_BOOLEAN)
    origin_country: Optional[str] = Field(None, max_length=8)
    payment_method: PaymentMethod = Field(PaymentMethod.ONLINE, problem=_choice(PaymentMethod))
    status: OrderStatus = Field(..., problem=_choice(OrderStatus))
    promised_delivery_days: Optional[_Count] = Field(None, problem=NOT_COUNT, limit_value=0)
    carrier: Optional[str] = Field(None, max_length=64)
    tracking_number: Optional[str] = Field(None, max_length=64)
    scenario: Optional[str] = None
    items: List[InterchangeItem] = Field(..., min_items=1, problem=NO_ITEMS, missing=NO_ITEMS)
    tracking_events: Optional[List[TrackingEventRecord]] = Field(None, problem=NOT_A_LIST)
    total: Optional[_Money] = Field(None, problem=NOT_MONEY)

    _texts = validator(
        "order_id",
        "buyer_name",
        "buyer_phone",
        "address",
        "customer_id",
        "origin_country",
        "carrier",
        "tracking_number",
        "scenario",
        pre=True,
        allow_reuse=True,
    )(_as_text)
    _cross_border = validator("cross_border", pre=True, allow_reuse=True)(
        lambda value: False if value is None else value
    )
    _payment = validator("payment_method", pre=True, allow_reuse=True)(
        lambda value: PaymentMethod.ONLINE if _blank(value) else value
    )
    _status = validator("status", pre=True, allow_reuse=True)(lambda value: None if value == "" else value)
    _count = validator("promised_delivery_days", pre=True, allow_reuse=True)(_as_count)
    _total = validator("total", pre=True, allow_reuse=True)(_as_money)
    _rounded = validator("total", allow_reuse=True)(lambda value: value.quantize(CENT, rounding=ROUND_HALF_UP))

    @validator("buyer_phone")
    def _phone(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        compact = re.sub(r"[\s\-()]", "", value)
        if not PHONE_PATTERN.fullmatch(compact):
            raise _PhoneError()
        return compact

    @property
    def amount(self) -> Decimal:
        """The order's total: `total`, or the items' prices times their quantities (one when not given)."""
        if self.total is not None:
            return self.total
        return sum((item.unit_price * (item.quantity or 1) for item in self.items), Decimal(0))


# --- reading -----------------------------------------------------------------------------------------------------


def order_records(document: Any) -> List[Any]:
    """The orders of a document: `{"orders": [...]}` or a plain list."""
    if isinstance(document, Mapping):
        if "orders" not in document:
            raise InterchangeError('数据中没有 "orders" 列表：应为 {"orders": [...]} 或订单数组。')
        document = document["orders"]
    if not isinstance(document, list):
        raise InterchangeError('"orders" 必须是订单数组。')
    return document


def order_ref(record: Any, position: int = 0) -> str:
    """How messages name an order: its number, or its place in the file when it has none."""
    number = record.get("order_id") if isinstance(record, Mapping) else None
    readable = isinstance(number, (str, int)) and not isinstance(number, bool) and str(number).strip()
    return str(number).strip() if readable else f"第 {position + 1} 条"


def read_order(
    record: Any, today: date, zone: ZoneInfo, *, position: int = 0, require: Iterable[str] = ()
) -> InterchangeOrder:
    """The order of `record`, its dates resolved (relative ones counted back from `today`, in `zone`).

    `require` names optional fields a caller needs too (`buyer_phone`, `items.sku`). Every problem of the
    order is collected before `InterchangeError` is raised, so a shop can fix them all in one go."""
    ref = order_ref(record, position)
    if not isinstance(record, Mapping):
        raise _invalid([problem(ref, "订单", NOT_OBJECT)])
    values, _, error = validate_model(InterchangeOrder, dict(record))
    problems = _translate(error, InterchangeOrder, record, ref)
    problems += _missing_required(record, require, ref, {p.field for p in problems})
    given = {name for name, value in record.items() if not _blank(value)}
    moments: Dict[str, Optional[datetime]] = {}
    for column, sources in ORDER_MOMENTS.items():
        absolute, relative = next((pair for pair in sources if given & set(pair)), sources[0])
        moments[column] = _moment(values, absolute, relative, today, zone, ref, "", problems)
    problems += _timeline_problems(moments, values.get("status"), given, zone, ref)
    events = []
    for index, event in enumerate(values.get("tracking_events") or []):
        where = f"tracking_events[{index}]."
        at = _moment(event.dict(), "at", "days_ago", today, zone, ref, where, problems, required=True)
        events.append(event.copy(update={"at": at}))
    problems += _duplicate_skus(values.get("items") or [], ref)
    if problems:
        raise _invalid(problems)
    return InterchangeOrder.construct(**{**values, **moments, "tracking_events": events})


def read_moment(record: Mapping[str, Any], name: str, today: date, zone: ZoneInfo) -> Optional[datetime]:
    """The moment of `name` (`shipped`, `delivered`, `paid`, `placed`) from `<name>_at` or `<name>_days_ago`,
    as aware UTC; None when neither is given."""
    ref = order_ref(record)
    values, _, error = validate_model(OrderDates, dict(record))
    fields = (f"{name}_at", f"{name}_days_ago")
    problems = [found for found in _translate(error, OrderDates, record, ref) if found.field in fields]
    moment = _moment(values, f"{name}_at", f"{name}_days_ago", today, zone, ref, "", problems)
    if problems:
        raise _invalid(problems)
    return moment


def shop_day(moment: Optional[datetime], zone: ZoneInfo) -> Optional[date]:
    return None if moment is None else moment.astimezone(zone).date()


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _invalid(problems: List[OrderProblem]) -> InterchangeError:
    return InterchangeError("\n".join(p.message for p in problems), problems)


def _moment(
    values: Mapping[str, Any],
    absolute: str,
    relative: str,
    today: date,
    zone: ZoneInfo,
    ref: str,
    prefix: str,
    problems: List[OrderProblem],
    *,
    required: bool = False,
) -> Optional[datetime]:
    given: Optional[datetime] = values.get(absolute)
    days_ago: Optional[int] = values.get(relative)
    from_iso = (
        None if given is None else (given if given.tzinfo else given.replace(tzinfo=zone)).astimezone(timezone.utc)
    )
    from_days = None if days_ago is None else _start_of_day(today - timedelta(days=days_ago), zone)
    if from_iso is not None and from_days is not None:
        iso_day, relative_day = shop_day(from_iso, zone), shop_day(from_days, zone)
        if iso_day != relative_day:
            text = f"为 {iso_day}，与 {relative}（{days_ago} 天前，即 {relative_day}）不一致。"
            problems.append(problem(ref, prefix + absolute, text))
            return None
    if required and from_iso is None and from_days is None:
        problems.append(
            problem(ref, prefix + absolute, f"缺失：需要 {absolute}（ISO-8601 时间）或 {relative}（几天前）。")
        )
    return from_iso or from_days


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(timezone.utc)


def _timeline_problems(
    moments: Mapping[str, Optional[datetime]], status: Any, given: Iterable[str], zone: ZoneInfo, ref: str
) -> List[OrderProblem]:
    paid, shipped, delivered = (shop_day(moments[column], zone) for column in ORDER_MOMENTS)
    found = []
    if paid and shipped and shipped < paid:
        found.append(problem(ref, "shipped_at", f"为 {shipped}，早于付款时间 {paid}。"))
    if shipped and delivered and delivered < shipped:
        found.append(problem(ref, "delivered_at", f"为 {delivered}，早于发货时间 {shipped}。"))
    if delivered and not shipped:
        found.append(problem(ref, "shipped_at", "缺失：已有签收时间的订单必须有发货时间。"))
    if status is OrderStatus.DELIVERED and not set(given) & {"delivered_at", "delivered_days_ago"}:
        found.append(problem(ref, "delivered_at", "缺失：订单状态为已签收（delivered）时必须给出签收时间。"))
    return found


def _duplicate_skus(items: Sequence[InterchangeItem], ref: str) -> List[OrderProblem]:
    seen: set = set()
    found = []
    for position, item in enumerate(items):
        if item.sku is not None and item.sku in seen:
            found.append(problem(ref, f"items[{position}].sku", f"「{item.sku}」在同一订单中重复。"))
        seen.add(item.sku)
    return found


def _missing_required(record: Mapping[str, Any], require: Iterable[str], ref: str, reported: set) -> List[OrderProblem]:
    found = []
    for name in require:
        container, _, leaf = name.rpartition(".")
        records: List[Tuple[str, Any]] = [("", record)]
        if container:
            listed = record.get(container)
            records = [(f"{container}[{i}].", r) for i, r in enumerate(listed)] if isinstance(listed, list) else []
        for prefix, each in records:
            path = prefix + leaf
            if isinstance(each, Mapping) and _blank(each.get(leaf)) and path not in reported:
                found.append(problem(ref, path, MISSING))
    return found


# --- Pydantic's errors in the shop's words ------------------------------------------------------------------------


def _translate(
    error: Optional[ValidationError], model: Type[BaseModel], record: Mapping[str, Any], ref: str
) -> List[OrderProblem]:
    if error is None:
        return []
    found = []
    for detail in error.errors():
        loc = detail["loc"]
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        found.append(problem(ref, path, _problem_text(detail, _field_info(model, loc), _raw_value(record, loc))))
    return found


def _problem_text(detail: Mapping[str, Any], info: Optional[FieldInfo], value: Any) -> str:
    kind = detail["type"]
    extra = info.extra if info is not None else {}
    if kind in ("value_error.missing", "type_error.none.not_allowed"):
        return extra.get("missing", MISSING)
    if kind == "type_error.dict":
        return NOT_OBJECT
    if kind == "type_error.str":
        return NOT_TEXT
    context = dict(detail.get("ctx") or {})
    if kind == "value_error.any_str.max_length":
        return TOO_LONG.format(length=len(str(value).strip()), **context)
    template = extra.get("problem", "的值无效：{value!r}。")
    return template.format(value=value, **{**extra, **context})


def _field_info(model: Type[BaseModel], loc: Sequence[Union[int, str]]) -> Optional[FieldInfo]:
    current: Any = model
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.__fields__.get(part) if current is not None else None
        if field is None:
            return None
        info = field.field_info
        current = field.type_ if isinstance(field.type_, type) and issubclass(field.type_, BaseModel) else None
    return info


def _raw_value(record: Any, loc: Sequence[Union[int, str]]) -> Any:
    value = record
    for part in loc:
        if isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value
