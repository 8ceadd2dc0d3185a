"""Buyer-facing Chinese explanations, rendered from `explanations.zh.yml` next to this module."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping

import yaml

from bot.domain.vocabulary import REMEDY_LABELS_ZH, Remedy

TEMPLATE_FILE = Path(__file__).with_name("explanations.zh.yml")


@lru_cache(maxsize=1)
def templates() -> Dict[str, Any]:
    with TEMPLATE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def render(template_key: str, context: Mapping[str, Any]) -> str:
    """The rule text for `template_key` (e.g. "Q1", "L1_in_transit"), led by the rule tag."""
    data = templates()
    tag = data["rule_tag"].format_map(context)
    return tag + data["rules"][template_key].format_map(context)


def fragment(name: str, context: Mapping[str, Any]) -> str:
    return templates()["fragments"][name].format_map(context)


def rule_template_keys() -> Iterable[str]:
    return templates()["rules"].keys()


def category_label(category: str) -> str:
    return templates()["category_labels"][category]


def warranty_start_label(start: str) -> str:
    return templates()["warranty_start_labels"][start]


def default_item_name() -> str:
    return templates()["default_item_name"]


def join_remedies(remedies: Iterable[Remedy]) -> str:
    labels = [REMEDY_LABELS_ZH[r] for r in remedies if r not in (Remedy.INVESTIGATE, Remedy.INFO, Remedy.REJECT)]
    return templates()["remedy_joiner"].join(labels)


def join_list(items: Iterable[str]) -> str:
    return templates()["list_separator"].join(items)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
