"""Named binary features a message's lexicon matches and identifiers switch on, with spans.

They give the intent classifier category knowledge that a few hundred training sentences
cannot teach on their own ("漏液" is about the goods, "驿站" about the delivery).
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, ProductCategory, SubIssue
from bot.nlu.identifiers import extract_identifiers
from bot.nlu.lexicon import CUE, AMBIGUOUS_REFUND, Lexicon, load_lexicon
from bot.nlu.normalization import normalize_for_classifier

CATEGORIES = ("quality", "logistics", "service", "return")
REMEDY_VALUES = ("return_refund", AMBIGUOUS_REFUND, "refund_only", "exchange", "repair", "reship")
IDENTIFIER_ENTITIES = ("order_number", "phone_last4", "ticket_number")
CLAUSE_BREAK = re.compile(r"[,.!?;，。！？；、\s~]")

FEATURE_NAMES: Tuple[str, ...] = (
    tuple(f"category:{c}" for c in CATEGORIES)
    + tuple(f"negated:{c}" for c in CATEGORIES)
    + tuple(f"praised:{c}" for c in CATEGORIES)
    + tuple(f"after_contrast:{c}" for c in CATEGORIES)
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


def _clause_after(text: str, end: int) -> str:
    return CLAUSE_BREAK.split(text[end:], maxsplit=1)[0]


def lexicon_feature_spans(text: str, lexicon: Optional[Lexicon] = None) -> List[Tuple[str, int, int]]:
    lexicon = lexicon or load_lexicon()
    lowered = text.lower()
    contrast_at = min((lowered.find(word) for word in lexicon.contrast if word in lowered), default=-1)
    spans: List[Tuple[str, int, int]] = []
    for match in lexicon.scan(text):
        category = _category_of(match.entity, match.value)
        if match.negated:
            if category:
                spans.append((f"negated:{category}", match.start, match.end))
            continue
        if (
            category
            and match.entity == CUE
            and any(word in _clause_after(lowered, match.end) for word in lexicon.praise)
        ):
            spans.append((f"praised:{category}", match.start, match.end))
            continue
        if category:
            spans.append((f"category:{category}", match.start, match.end))
            if 0 <= contrast_at < match.start:
                spans.append((f"after_contrast:{category}", match.start, match.end))
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
    # on the classifier view, so a redacted "[订单x]" counts like the order number it hides
    shaped = normalize_for_classifier(text)
    for identifier in extract_identifiers(shaped.text):
        start, end = shaped.span_in_original(identifier.start, identifier.end)
        spans.append((f"identifier:{identifier.entity}", start, end))
    return spans
