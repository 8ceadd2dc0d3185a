"""The shop's after-sales policy file (`shop/policy.yml`): loading and strict validation.

Every number and list of the policy lives in that file. Loading never falls back to a default:
a missing key, an unknown key (usually a typo), a wrong type, a negative number or an unknown
category or rule id raises `PolicyConfigError` with a Chinese message that names the file and
the key path, e.g. `shop/policy.yml: warranty_days.digital 必须是非负整数，实际是 "abc"`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Mapping, Tuple, Union

import yaml

from bot.domain.vocabulary import PaymentMethod, ProductCategory
from bot.policy.model import RULE_IDS
from bot.policy.office_hours import OfficeHours

WARRANTY_FROM_SHIPPED = "shipped"
WARRANTY_FROM_DELIVERED = "delivered"


class PolicyConfigError(ValueError):
    """The policy file is missing, unreadable or invalid; the message is Chinese."""


@dataclass(frozen=True)
class PolicyConfig:
    source: str
    no_reason_window_days: int
    no_reason_exempt_categories: FrozenSet[ProductCategory]
    no_reason_conditions: Mapping[ProductCategory, str]
    quality_return_window_days: int
    quality_exchange_window_days: int
    warranty_days: Mapping[ProductCategory, int]
    warranty_start_cross_border: str
    warranty_start_domestic: str
    repairable_categories: FrozenSet[ProductCategory]
    promised_delivery_days_cross_border: int
    promised_delivery_days_domestic: int
    ship_within_hours: int
    refund_working_days: Mapping[PaymentMethod, int]
    first_response_hours: int
    resolution_days: int
    return_processing_hours: int
    supervisor_reply_hours: int
    delivery_check_hours: int
    stockout_contact_hours: int
    high_value_threshold_cny: float
    urgent_rules: FrozenSet[str]
    high_rules: FrozenSet[str]
    escalate_rules: FrozenSet[str]
    evidence_required_rules: FrozenSet[str]
    urgent_contact_number: int
    complaint_channels: Tuple[str, ...]
    return_ship_within_days: int
    return_address: str
    handoff_minutes_per_waiting_chat: int
    office_hours: OfficeHours
    category_display_names: Mapping[ProductCategory, str]

    def allows_no_reason_return(self, category: ProductCategory) -> bool:
        return category not in self.no_reason_exempt_categories

    def is_repairable(self, category: ProductCategory) -> bool:
        return category in self.repairable_categories

    def default_promised_delivery_days(self, cross_border: bool) -> int:
        if cross_border:
            return self.promised_delivery_days_cross_border
        return self.promised_delivery_days_domestic

    def warranty_starts_from(self, cross_border: bool) -> str:
        return self.warranty_start_cross_border if cross_border else self.warranty_start_domestic


def load_policy(path: Union[str, Path, None] = None) -> PolicyConfig:
    """Read and validate a policy file; `None` means the configured `shop/policy.yml`."""
    if path is None:
        from bot.config import get_settings

        path = get_settings().policy_file
    path = Path(path)
    shown = _display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyConfigError(f"{shown}: 找不到售后政策文件") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyConfigError(f"{shown}: 无法读取售后政策文件（{error}）") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as error:
        raise PolicyConfigError(f"{shown}: 不是有效的 YAML：{_yaml_problem(error)}") from None
    try:
        checked = _check(raw, _SCHEMA, "")
        _check_consistency(checked)
    except _Invalid as problem:
        raise PolicyConfigError(f"{shown}: {problem.key_path} {problem.message}") from None
    return _build(checked, shown)


# --- validation --------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, key_path: str, message: str):
        super().__init__(f"{key_path} {message}")
        self.key_path = key_path or "（文件顶层）"
        self.message = message


Validator = Callable[[Any, str], Any]
CATEGORY_NAMES = tuple(c.value for c in ProductCategory)


def _shown(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _non_negative_int(value: Any, key_path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(key_path, f"必须是非负整数，实际是 {_shown(value)}")
    return value


def _positive_int(value: Any, key_path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(key_path, f"必须是正整数，实际是 {_shown(value)}")
    return value


def _non_negative_number(value: Any, key_path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _Invalid(key_path, f"必须是非负数，实际是 {_shown(value)}")
    return float(value)


def _text(value: Any, key_path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(key_path, f"必须是非空文字，实际是 {_shown(value)}")
    return value.strip()


def _list_of(item: Validator, what: str, allow_empty: bool = True) -> Validator:
    def check(value: Any, key_path: str) -> tuple:
        if not isinstance(value, list):
            raise _Invalid(key_path, f"必须是{what}的列表，实际是 {_shown(value)}")
        if not value and not allow_empty:
            raise _Invalid(key_path, f"至少要有一项{what}")
        items = tuple(item(v, f"{key_path}[{i}]") for i, v in enumerate(value))
        duplicates = sorted({str(v) for v in items if items.count(v) > 1})
        if duplicates:
            raise _Invalid(key_path, f"有重复项：{'、'.join(duplicates)}")
        return items

    return check


def _category(value: Any, key_path: str) -> ProductCategory:
    if value not in CATEGORY_NAMES:
        raise _Invalid(key_path, f"不是已知的商品类目（可用：{'、'.join(CATEGORY_NAMES)}），实际是 {_shown(value)}")
    return ProductCategory(value)


def _rule_id(value: Any, key_path: str) -> str:
    if value not in RULE_IDS:
        raise _Invalid(key_path, f"不是已知的规则编号（Q1–Q9、N1–N4、L1–L7、S1–S3），实际是 {_shown(value)}")
    return value


def _one_of(*choices: str) -> Validator:
    def check(value: Any, key_path: str) -> str:
        if value not in choices:
            raise _Invalid(key_path, f"必须是 {' 或 '.join(choices)} 之一，实际是 {_shown(value)}")
        return value

    return check


def _weekday(value: Any, key_path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        raise _Invalid(key_path, f"必须是 1–7 的整数（1 = 周一，7 = 周日），实际是 {_shown(value)}")
    return value


def _clock_time(value: Any, key_path: str) -> time:
    # unquoted 9:30 is read by YAML 1.1 as the number 570 (base 60), hence the hint about quotes
    text = value.strip() if isinstance(value, str) else ""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise _Invalid(key_path, f'必须是加引号的“时:分”，例如 "09:00"，实际是 {_shown(value)}') from None


def _office_hours(value: Any, key_path: str) -> OfficeHours:
    checked = _check(
        value,
        {"days": _list_of(_weekday, "星期几", allow_empty=False), "open": _clock_time, "close": _clock_time},
        key_path,
    )
    if checked["close"] <= checked["open"]:
        raise _Invalid(
            f"{key_path}.close", f"必须晚于 open（{checked['open']:%H:%M}），实际是 {checked['close']:%H:%M}"
        )
    return OfficeHours(days=frozenset(checked["days"]), opens=checked["open"], closes=checked["close"])


def _category_texts(value: Any, key_path: str) -> Dict[ProductCategory, str]:
    """A mapping from some categories to a text; which categories must appear is checked later."""
    _require_mapping(value, key_path)
    return {_category(name, f"{key_path}.{name}"): _text(text, f"{key_path}.{name}") for name, text in value.items()}


def _require_mapping(value: Any, key_path: str) -> None:
    if not isinstance(value, dict):
        raise _Invalid(key_path, f"必须是“键: 值”形式的映射，实际是 {_shown(value)}")


_CATEGORY_LIST = _list_of(_category, "商品类目")
_RULE_LIST = _list_of(_rule_id, "规则编号")

_SCHEMA: Dict[str, Any] = {
    "no_reason_return": {
        "window_days": _non_negative_int,
        "exempt_categories": _CATEGORY_LIST,
        "conditions": _category_texts,
    },
    "quality": {
        "return_window_days": _non_negative_int,
        "exchange_window_days": _non_negative_int,
    },
    "warranty_days": {name: _non_negative_int for name in CATEGORY_NAMES},
    "warranty_start": {
        "cross_border": _one_of(WARRANTY_FROM_SHIPPED, WARRANTY_FROM_DELIVERED),
        "domestic": _one_of(WARRANTY_FROM_SHIPPED, WARRANTY_FROM_DELIVERED),
    },
    "repairable_categories": _CATEGORY_LIST,
    "logistics": {
        "promised_delivery_days": {"cross_border": _non_negative_int, "domestic": _non_negative_int},
        "ship_within_hours": _non_negative_int,
    },
    "refund_working_days": {method.value: _non_negative_int for method in PaymentMethod},
    "deadlines": {
        "first_response_hours": _non_negative_int,
        "resolution_days": _non_negative_int,
        "return_processing_hours": _non_negative_int,
        "supervisor_reply_hours": _non_negative_int,
        "delivery_check_hours": _non_negative_int,
        "stockout_contact_hours": _non_negative_int,
    },
    "priority": {
        "high_value_threshold_cny": _non_negative_number,
        "urgent_rules": _RULE_LIST,
        "high_rules": _RULE_LIST,
    },
    "escalate_rules": _RULE_LIST,
    "evidence_required_rules": _RULE_LIST,
    "service": {
        "urgent_contact_number": _positive_int,
        "complaint_channels": _list_of(_text, "文字", allow_empty=False),
    },
    "returns": {
        "ship_back_within_days": _positive_int,
        "address": _text,
    },
    "handoff": {
        "minutes_per_waiting_chat": _positive_int,
        "office_hours": _office_hours,
    },
    "category_names": {name: _text for name in CATEGORY_NAMES},
}


def _check(value: Any, schema: Any, key_path: str) -> Any:
    if callable(schema):
        return schema(value, key_path)
    _require_mapping(value, key_path)
    prefix = f"{key_path}." if key_path else ""
    for key in value:
        if key not in schema:
            allowed = "、".join(schema)
            raise _Invalid(f"{prefix}{key}", f"是未知的配置项（这里可用的键：{allowed}）")
    for key in schema:
        if key not in value:
            raise _Invalid(f"{prefix}{key}", "缺失：这是必填项")
    return {key: _check(value[key], schema[key], f"{prefix}{key}") for key in schema}


def _check_consistency(checked: Dict[str, Any]) -> None:
    no_reason = checked["no_reason_return"]
    exempt = set(no_reason["exempt_categories"])
    conditions = no_reason["conditions"]
    for category in ProductCategory:
        key_path = f"no_reason_return.conditions.{category.value}"
        if category in exempt and category in conditions:
            raise _Invalid(key_path, "多余：该类目已列在 exempt_categories（不支持无理由退货）中")
        if category not in exempt and category not in conditions:
            raise _Invalid(key_path, "缺失：支持无理由退货的类目都要写明退货条件")
    quality = checked["quality"]
    if quality["exchange_window_days"] < quality["return_window_days"]:
        raise _Invalid(
            "quality.exchange_window_days",
            f"不能小于 quality.return_window_days（{quality['return_window_days']}），"
            f"实际是 {quality['exchange_window_days']}",
        )


def _build(checked: Dict[str, Any], source: str) -> PolicyConfig:
    no_reason = checked["no_reason_return"]
    logistics = checked["logistics"]
    deadlines = checked["deadlines"]
    priority = checked["priority"]
    service = checked["service"]
    return PolicyConfig(
        source=source,
        no_reason_window_days=no_reason["window_days"],
        no_reason_exempt_categories=frozenset(no_reason["exempt_categories"]),
        no_reason_conditions=no_reason["conditions"],
        quality_return_window_days=checked["quality"]["return_window_days"],
        quality_exchange_window_days=checked["quality"]["exchange_window_days"],
        warranty_days={ProductCategory(name): days for name, days in checked["warranty_days"].items()},
        warranty_start_cross_border=checked["warranty_start"]["cross_border"],
        warranty_start_domestic=checked["warranty_start"]["domestic"],
        repairable_categories=frozenset(checked["repairable_categories"]),
        promised_delivery_days_cross_border=logistics["promised_delivery_days"]["cross_border"],
        promised_delivery_days_domestic=logistics["promised_delivery_days"]["domestic"],
        ship_within_hours=logistics["ship_within_hours"],
        refund_working_days={PaymentMethod(name): days for name, days in checked["refund_working_days"].items()},
        first_response_hours=deadlines["first_response_hours"],
        resolution_days=deadlines["resolution_days"],
        return_processing_hours=deadlines["return_processing_hours"],
        supervisor_reply_hours=deadlines["supervisor_reply_hours"],
        delivery_check_hours=deadlines["delivery_check_hours"],
        stockout_contact_hours=deadlines["stockout_contact_hours"],
        high_value_threshold_cny=priority["high_value_threshold_cny"],
        urgent_rules=frozenset(priority["urgent_rules"]),
        high_rules=frozenset(priority["high_rules"]),
        escalate_rules=frozenset(checked["escalate_rules"]),
        evidence_required_rules=frozenset(checked["evidence_required_rules"]),
        urgent_contact_number=service["urgent_contact_number"],
        complaint_channels=service["complaint_channels"],
        return_ship_within_days=checked["returns"]["ship_back_within_days"],
        return_address=checked["returns"]["address"],
        handoff_minutes_per_waiting_chat=checked["handoff"]["minutes_per_waiting_chat"],
        office_hours=checked["handoff"]["office_hours"],
        category_display_names={ProductCategory(name): text for name, text in checked["category_names"].items()},
    )


# --- reading YAML ------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping (the second would win)."""


def _construct_mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> Dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: Dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"键 {_shown(key)} 写了两次", key_node.start_mark)
        seen[key] = True
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_without_duplicates)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"第 {mark.line + 1} 行第 {mark.column + 1} 列：{problem}"
    return problem


def _display_name(path: Path) -> str:
    from bot.config import PROJECT_ROOT

    for base in (Path.cwd(), PROJECT_ROOT):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)
