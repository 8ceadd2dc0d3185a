"""What a message right after a decision means for that decision.

Once the assistant has stated a decision, the next message is first read against it: does the
buyer object, thank, correct the order number, give the new address the decision asked for,
raise a new problem, or only remark on it? The global intent alone misreads these ("不接受，东西
都没拆过凭什么不能退" reads as a return request). Cue phrases live in `reaction_lexicon.yml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Collection, Optional, Tuple

import yaml

from bot.nlu.normalization import normalize_case_and_width

DEFAULT_REACTION_LEXICON_PATH = Path(__file__).with_name("reaction_lexicon.yml")
# intents that the dialogue's own rules answer whatever was decided before
INTENTS_THE_RULES_ANSWER = frozenset(
    {
        "request_human",
        "ask_policy",
        "ask_ticket_status",
        "ask_order_status",
        "goodbye",
        "greet",
        "out_of_scope",
    }
)
ACKNOWLEDGING_INTENTS = frozenset({"thank", "affirm"})
# an address has at least this many address parts and some characters besides them
MIN_ADDRESS_PARTS = 2
MIN_ADDRESS_LENGTH = 8
_DIGITS_OR_HAN = re.compile(r"[\d\u4e00-\u9fff]")


class Reaction(str, Enum):
    OBJECTION = "objection"  # a person takes over with the buyer's words
    ACKNOWLEDGEMENT = "acknowledgement"  # thanks / okay: nothing more to decide
    NEW_ADDRESS = "new_address"  # the address an address change asked for
    ORDER_CORRECTION = "order_correction"  # the same case, on another order number
    NEW_TASK = "new_task"  # another order or another problem: a task of its own
    REMARK = "remark"  # about the decision, no new facts and no disagreement
    PERSON = "person"  # "给我找个真人": a person takes over
    OTHER = "other"  # a question or request the dialogue rules answer


@dataclass(frozen=True)
class ReactionLexicon:
    objection: Tuple[str, ...]
    acknowledgement: Tuple[str, ...]
    correction: Tuple[str, ...]
    address: Tuple[str, ...]
    withdrawal: Tuple[str, ...] = ()
    person: Tuple[str, ...] = ()
    # shapes of a withdrawal a phrase list cannot enumerate ("不麻烦你们了", "我自己想办法吧")
    withdrawal_patterns: Tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: Path = DEFAULT_REACTION_LEXICON_PATH) -> "ReactionLexicon":
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lexicon = cls(
            **{
                name: tuple(
                    _clean(term) if name != "withdrawal_patterns" else str(term) for term in data.get(name) or ()
                )
                for name in cls.__dataclass_fields__
            }
        )
        for pattern in lexicon.withdrawal_patterns:
            re.compile(pattern)  # a broken pattern fails at load, not on a buyer's message
        return lexicon


@lru_cache(maxsize=1)
def default_reaction_lexicon() -> ReactionLexicon:
    return ReactionLexicon.from_file()


@dataclass(frozen=True)
class DecisionContext:
    """What the message is read against."""

    decided_order: Optional[str]
    decided_sub_issues: Collection[str] = ()
    wants_address: bool = False  # the decision asked for a new address (L6)
    leaves_work: bool = True  # the decision opened a ticket (not info/reject)
    expects_order_correction: bool = False  # the assistant asked whether the order number is right
    rejected: bool = False  # the decision was a "no" (N2-N4, Q5/Q6 reject)


def withdraws(text: str, *, names_a_remedy: bool = False, lexicon: Optional[ReactionLexicon] = None) -> bool:
    """ "那不用弄了": the buyer drops the request ("不退了，换货吧" names a remedy: that is a choice)."""
    lexicon = lexicon or default_reaction_lexicon()
    normalized = _clean(text)
    if names_a_remedy:
        return False
    if _QUESTION.search(normalized):
        return False  # "你们不处理了吗？" asks, it does not withdraw
    return any(cue in normalized for cue in lexicon.withdrawal) or any(
        re.search(pattern, normalized) for pattern in lexicon.withdrawal_patterns
    )


_QUESTION = re.compile(r"[?？]|吗|怎么|为什么|为啥|凭什么|难道")


_NO_NEED = ("不用", "不要", "不需要", "没必要", "不必")


def asks_for_a_person(text: str, lexicon: Optional[ReactionLexicon] = None) -> bool:
    """ "给我找个真人", but not "不用转人工了"."""
    lexicon = lexicon or default_reaction_lexicon()
    normalized = _clean(text)
    for cue in lexicon.person:
        at = normalized.find(cue)
        if at >= 0 and not any(word in normalized[max(0, at - 4) : at] for word in _NO_NEED):
            return True
    return False


def says_order_was_wrong(text: str, lexicon: Optional[ReactionLexicon] = None) -> bool:
    lexicon = lexicon or default_reaction_lexicon()
    normalized = _clean(text)
    return any(cue in normalized for cue in lexicon.correction)


_ADDRESS_INTRO = re.compile(r"^.*(?:改成|改为|改到|换成|新地址是|新地址|地址是|地址[:：]|寄到|送到)[:：]?\s*")


def address_part(text: str) -> str:
    """The address itself, without "麻烦把地址改成" in front of it."""
    return _ADDRESS_INTRO.sub("", (text or "").strip()).strip(" 。.!！~～")


def looks_like_address(text: str, lexicon: Optional[ReactionLexicon] = None) -> bool:
    lexicon = lexicon or default_reaction_lexicon()
    normalized = _clean(text)
    parts = sum(1 for part in lexicon.address if part in normalized)
    return parts >= MIN_ADDRESS_PARTS and len(_DIGITS_OR_HAN.findall(normalized)) >= MIN_ADDRESS_LENGTH


def classify_reaction(
    text: str,
    *,
    intent: Optional[str],
    order_numbers: Collection[str] = (),
    sub_issues: Collection[str] = (),
    facts: Collection[str] = (),
    context: DecisionContext,
    lexicon: Optional[ReactionLexicon] = None,
    displeased: bool = False,
) -> Reaction:
    """`displeased`: the message shows displeasure (anger or insult words, below the hand-over
    threshold or not). Right after a "no", displeasure is disagreement with that "no", whatever
    else the words seem to name."""
    lexicon = lexicon or default_reaction_lexicon()
    normalized = _clean(text)
    said_facts = bool(order_numbers or sub_issues or facts)  # "已经用过了" is no "no" to the decision
    new_orders = [number for number in order_numbers if number != context.decided_order]
    if new_orders:
        corrects = context.expects_order_correction or says_order_was_wrong(text, lexicon)
        return Reaction.ORDER_CORRECTION if corrects else Reaction.NEW_TASK
    if intent == "request_human":
        return Reaction.OTHER  # the rules hand over
    if asks_for_a_person(text, lexicon):
        return Reaction.PERSON
    if context.wants_address and looks_like_address(text, lexicon):
        return Reaction.NEW_ADDRESS
    if any(cue in normalized for cue in lexicon.objection) or (intent == "deny" and not said_facts):
        return Reaction.OBJECTION
    if context.rejected and displeased and not withdraws(text, lexicon=lexicon):
        return Reaction.OBJECTION
    if any(value not in context.decided_sub_issues for value in sub_issues):
        return Reaction.NEW_TASK
    if intent in INTENTS_THE_RULES_ANSWER:
        return Reaction.OTHER
    if intent in ACKNOWLEDGING_INTENTS or any(cue in normalized for cue in lexicon.acknowledgement):
        return Reaction.ACKNOWLEDGEMENT
    if not normalized:
        return Reaction.OTHER
    if context.rejected and not said_facts and not withdraws(text, lexicon=lexicon):
        return Reaction.OBJECTION  # after a "no", words that neither accept it nor add facts dispute it
    return Reaction.REMARK


def _clean(text: object) -> str:
    return normalize_case_and_width(str(text or "")).text.strip()
