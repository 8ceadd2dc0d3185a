"""Named binary features a message's lexicon matches and identifiers switch on, with spans.

They give the intent classifier category knowledge that a few hundred training sentences
cannot teach on their own ("漏液" is about the goods, "驿站" about the delivery).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, ProductCategory, SubIssue
from bot.nlu.identifiers import extract_identifiers
from bot.nlu.lexicon import CUE, AMBIGUOUS_REFUND, Lexicon, load_lexicon

CATEGORIES = ("quality", "logistics", "service", "return")
REMEDY_VALUES = ("return_refund", AMBIGUOUS_REFUND, "refund_only", "exchange", "repair", "reship")
IDENTIFIER_ENTITIES = ("order_number", "phone_last4", "ticket_number")

FEATURE_NAMES: Tuple[str, ...] = (
    tuple(f"category:{c}" for c in CATEGORIES)
    + tuple(f"negated:{c}" for c in CATEGORIES)
    + tuple(f"sub_issue:{s.value}" for s in SubIssue)
    + tuple(f"remedy:{r}" for r in REMEDY_VALUES)
    + ("item_condition:unused", "item_condition:used", "satisfaction_score")
    + tuple(f"product:{p.value}" for p in ProductCategory)
    + tuple(f"identifier:{i}" for i in IDENTIFIER_ENTITIES)
)


def _category_of(entity: str, value: str) -> Optional[str]:
    if entity == "sub_issue":
        category = SUB_ISSUE_CATEGORY[SubIssue(value)].value
        return "return" if category == "no_reason" else category
    if entity == CUE:
        return value
    if entity == "remedy":
        return "return"
    return None


def lexicon_feature_spans(text: str, lexicon: Optional[Lexicon] = None) -> List[Tuple[str, int, int]]:
    lexicon = lexicon or load_lexicon()
    spans: List[Tuple[str, int, int]] = []
    for match in lexicon.scan(text):
        category = _category_of(match.entity, match.value)
        if match.negated:
            if category:
                spans.append((f"negated:{category}", match.start, match.end))
            continue
        if category:
            spans.append((f"category:{category}", match.start, match.end))
        if match.entity == "sub_issue":
            spans.append((f"sub_issue:{match.value}", match.start, match.end))
        elif match.entity == "remedy":
            spans.append((f"remedy:{match.value}", match.start, match.end))
        elif match.entity == "item_condition":
            spans.append((f"item_condition:{match.value}", match.start, match.end))
        elif match.entity == "satisfaction_score":
            spans.append(("satisfaction_score", match.start, match.end))
        elif match.entity == "product" and match.category:
            spans.append((f"product:{match.category}", match.start, match.end))
    for identifier in extract_identifiers(text):
        spans.append((f"identifier:{identifier.entity}", identifier.start, identifier.end))
    return spans
