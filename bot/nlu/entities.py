"""All entities of one message: identifiers (regex) plus lexicon entities, in text order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional

from bot.nlu.identifiers import DEFAULT_ORDER_NUMBER_PATTERN, DEFAULT_TICKET_NUMBER_PATTERN, extract_identifiers
from bot.nlu.lexicon import Lexicon, load_lexicon, resolve_entities

ENTITY_NAMES = (
    "order_number",
    "phone_last4",
    "ticket_number",
    "sub_issue",
    "product",
    "remedy",
    "item_condition",
    "satisfaction_score",
)


# When one message names several problems, the most telling one is the case: "外箱压扁了，锅都变形了"
# is transit damage, "摔了一下屏幕碎了" is the buyer's own damage, "冒烟了还坏了" is a safety hazard.
SUB_ISSUE_PRECEDENCE = (
    "safety",
    "counterfeit",
    "human_damage",
    "spoiled",
    "damaged_in_transit",
    "address_change",
    "not_received",
    "lost",
    "delay",
    "not_shipped",
    "not_as_described",
    "size",
    "defect",
    "where_to_complain",
    "rude",
    "shirking",
    "no_reply",
    "slow",
    "no_reason",
)


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    text: str


def extract_entities(
    text: str,
    order_number_pattern: str = DEFAULT_ORDER_NUMBER_PATTERN,
    ticket_number_pattern: str = DEFAULT_TICKET_NUMBER_PATTERN,
    lexicon: Optional[Lexicon] = None,
) -> List[Entity]:
    lexicon = lexicon or load_lexicon()
    found = [
        Entity(i.entity, i.value, i.start, i.end, text[i.start : i.end])
        for i in extract_identifiers(text, order_number_pattern, ticket_number_pattern)
    ]
    identifier_spans = [(e.start, e.end) for e in found]
    for match in resolve_entities(lexicon.scan(text)):
        # "5分" inside an order number is not a score
        if any(match.start < end and start < match.end for start, end in identifier_spans):
            continue
        found.append(Entity(match.entity, match.value, match.start, match.end, match.text))
    return sorted(_most_telling_sub_issue(found), key=lambda entity: (entity.start, entity.end))


def most_telling_sub_issue(values: Iterable[str]) -> Optional[str]:
    """Of several problems named, the one that decides the case (SUB_ISSUE_PRECEDENCE)."""
    rank = {value: index for index, value in enumerate(SUB_ISSUE_PRECEDENCE)}
    named = [value for value in values if value]
    return min(named, key=lambda value: rank.get(value, len(rank))) if named else None


def _most_telling_sub_issue(entities: List[Entity]) -> List[Entity]:
    values = {e.value for e in entities if e.entity == "sub_issue"}
    if len(values) < 2:
        return entities
    best = most_telling_sub_issue(values)
    return [e for e in entities if e.entity != "sub_issue" or e.value == best]
