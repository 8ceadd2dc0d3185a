"""Reading a free-text answer in the context of the question it answers.

The intent classifier judges a message on its own; an answer to "请问具体遇到了什么问题？" is
better read knowing what was asked and what the case is about. A problem the lexicon has no word
for ("屏幕中间一条绿线") is still the usual problem of its category.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional, Sequence

from bot.domain.vocabulary import SUB_ISSUE_CATEGORY, ComplaintCategory, SubIssue
from bot.nlu.normalization import normalize_case_and_width

# the problem a case of this category is about when the buyer's words name no specific one
USUAL_SUB_ISSUE = {
    ComplaintCategory.QUALITY.value: SubIssue.DEFECT.value,
    ComplaintCategory.LOGISTICS.value: SubIssue.DELAY.value,
    ComplaintCategory.SERVICE.value: SubIssue.SLOW.value,
    ComplaintCategory.NO_REASON.value: SubIssue.NO_REASON.value,
}
CATEGORY_OF_INTENT = {
    "complain_quality": ComplaintCategory.QUALITY.value,
    "complain_logistics": ComplaintCategory.LOGISTICS.value,
    "complain_service": ComplaintCategory.SERVICE.value,
    "request_return": ComplaintCategory.NO_REASON.value,
    "request_exchange": ComplaintCategory.QUALITY.value,
    "request_repair": ComplaintCategory.QUALITY.value,
}
# messages that are not a description of a problem, whatever their length
NOT_A_DESCRIPTION = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "ask_policy", "request_human", "out_of_scope"}
)
RUNNER_UP_MIN_CONFIDENCE = 0.15
CONFIDENT = 0.6
MIN_DESCRIPTION_CHARACTERS = 4
_WORD_CHARACTER = re.compile(r"[^\W_\d]")


def describes_something(text: str) -> bool:
    return len(_WORD_CHARACTER.findall(text or "")) >= MIN_DESCRIPTION_CHARACTERS


def category_of_message(intent: Optional[str], ranking: Sequence[Mapping] = ()) -> Optional[str]:
    """The complaint category the message reads as: its intent, else a runner-up complaint intent."""
    if intent in CATEGORY_OF_INTENT:
        return CATEGORY_OF_INTENT[intent]
    for ranked in list(ranking)[1:3]:
        if ranked.get("name") in CATEGORY_OF_INTENT and ranked.get("confidence", 0) >= RUNNER_UP_MIN_CONFIDENCE:
            return CATEGORY_OF_INTENT[ranked["name"]]
    return None


def problem_from_answer(
    text: str,
    *,
    intent: Optional[str],
    ranking: Sequence[Mapping] = (),
    case_category: Optional[str] = None,
    intent_confidence: float = 0.0,
) -> Optional[str]:
    """The sub-issue a free-text answer to the problem question describes, when the lexicon found
    none: the usual problem of the category the answer clearly reads as (a confident intent),
    else of the case's category (the question asked about it), else of a runner-up reading.
    None when the answer describes nothing (too short, a greeting, a question ...)."""
    if intent in NOT_A_DESCRIPTION or not describes_something(text):
        return None
    own = CATEGORY_OF_INTENT.get(intent or "") if intent_confidence >= CONFIDENT else None
    category = own or case_category or category_of_message(intent, ranking)
    return USUAL_SUB_ISSUE.get(category) if category else None


def sub_issues_in(entities: Iterable[Mapping]) -> list:
    """The sub-issue values named in a message's entities, in order, without repeats."""
    found: list = []
    for entity in entities:
        if entity.get("entity") == "sub_issue" and entity.get("value") not in found:
            found.append(entity.get("value"))
    return found


def sub_issues_named_in_words(text: str) -> list:
    """Every sub-issue the lexicon finds in the text, not only the most telling one. Button
    payloads ("/inform{...}") are no words."""
    from bot.nlu.lexicon import load_lexicon, resolve_entities

    if not text or text.startswith("/"):
        return []
    return sub_issues_in(
        {"entity": match.entity, "value": match.value} for match in resolve_entities(load_lexicon().scan(text))
    )


_SCORE_WORDS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_SCORE = re.compile(r"^\s*([1-5一二两三四五])\s*(分|星|颗星)?\s*[。.!！]?\s*$")


def score_in_text(text: str) -> Optional[int]:
    """A satisfaction score typed alone ("5", "５", "5分", "五星"): the score itself, never the
    position of a button."""
    match = _SCORE.match(normalize_case_and_width(text or "").text)
    if not match:
        return None
    value = match.group(1)
    return int(value) if value.isdigit() else _SCORE_WORDS[value]


# "如果收到的是坏的能退吗", "一般几天能到": a question about a case that may come, not one that came
HYPOTHETICAL = re.compile(r"如果|假如|假设|万一|要是|的话|一般|通常|请问下?(?:你们)?(?:店|这边)")
# problems that are not a complaint of their own beside a question ("where do I complain" is the question)
NOT_A_CASE_OF_ITS_OWN = frozenset({SubIssue.WHERE_TO_COMPLAIN.value, SubIssue.ADDRESS_CHANGE.value})


def problem_beside_a_question(text: str, entities: Iterable[Mapping]) -> Optional[str]:
    """The problem a buyer reports in the same message as a policy question ("被套上有个破洞 另外
    想问下退款多久能到"): a complaint-category problem told of their own order or item (an order
    number or a product is named) and not as a supposition. None for a question alone."""
    entities = list(entities)
    named = [value for value in sub_issues_in(entities) if value not in NOT_A_CASE_OF_ITS_OWN]
    complaints = [
        value
        for value in named
        if value in set(SubIssue) and SUB_ISSUE_CATEGORY[SubIssue(value)] is not ComplaintCategory.NO_REASON
    ]
    concrete = any(entity.get("entity") in ("order_number", "product") for entity in entities)
    if not complaints or not concrete or HYPOTHETICAL.search(text or ""):
        return None
    from bot.nlu.entities import most_telling_sub_issue

    return most_telling_sub_issue(complaints)
