"""All entities of one message: identifiers (regex) plus lexicon entities, in text order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

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
    return sorted(found, key=lambda entity: (entity.start, entity.end))
