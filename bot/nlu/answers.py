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


# A short typed answer to the condition question, which is asked in the negative ("请问商品还没用
# 过吗？"): "没" / "没有" / "对" / "嗯" agree that it is unused, "用过" / "不是" say it was used. The
# intent classifier reads "没有" as a plain "no" (used) and "没" as nothing at all.
_ANSWER_FILLER = r"(?:的|呢|啊|呀|哦|喔|哈|吧|了|滴)*"
_UNUSED_ANSWER = re.compile(
    r"(?:还|都|真|确实|肯定|绝对)?(?:没有?(?:用过?|穿过?|拆过?|动过?|开过?|碰过?)?|没呢|对|是|没错|嗯+|恩+|yes|yep|ok)"
    + _ANSWER_FILLER
)
_USED_ANSWER = re.compile(r"(?:已经)?(?:用|穿|拆|开|洗|戴)(?:过|了)+" + _ANSWER_FILLER + r"|不是(?:的|呢|啊|呀)*")
_ANSWER_EDGES = re.compile(r"^[\s,.!~，。！～…、]+|[\s,.!~，。！～…、]+$")


def condition_from_short_answer(text: str) -> Optional[str]:
    """ "unused" / "used" for a short typed answer to "还没用过吗？", None for anything longer or
    else (those are read by the lexicon and the intent)."""
    answer = _ANSWER_EDGES.sub("", normalize_case_and_width(text or "").text)
    answer = re.sub(r"([^\W\d_]+?)\1+$", r"\1", answer)  # "没没没", "嗯嗯"
    if _UNUSED_ANSWER.fullmatch(answer):
        return "unused"
    if _USED_ANSWER.fullmatch(answer):
        return "used"
    return None


# a word that makes the remedy after it the one picked: "还是直接退钱吧", "那就退货退款吧", "算了给我修吧"
_CHOICE_CUE = re.compile(
    r"(?:还是|那就|那|就|干脆|索性|算了|我选|选|要|改成|改为|换成|改|给我|帮我|直接)[^,.!?;，。！？；、\s]{0,3}$"
)
_CHOICE_CUE_WINDOW = 8
# an offered remedy the buyer's word stands for, when that word's own remedy is not offered: "退钱"
# is a refund of either kind, "修" free or paid repair
_ALSO_MEANS = {
    "refund": ("refund_only", "return_refund"),
    "return_refund": ("refund_only",),
    "repair": ("paid_repair",),
}
_QUESTION_WORDS = re.compile(r"[?？]|吗|多久|几天|怎么|为什么|什么时候|谁出|谁付|对吧|是吧")


def remedy_choice_in(text: str, offered: Sequence[str]) -> Optional[str]:
    """The offered remedy a typed message picks among the buttons, in the buyer's own words and
    with words around it ("算了算了，补发又是半个月，还是直接退钱吧"): the one remedy it names, or of
    several the last one said as the pick (after 还是 / 那就 / 给我 ...). A question about a remedy
    ("退款要多久？") picks nothing unless it says the pick too. None when no pick is clear."""
    from bot.nlu.lexicon import load_lexicon

    if not text or text.startswith("/") or not offered:
        return None
    normalized = normalize_case_and_width(text).text
    named = []  # (offered remedy, said as the pick)
    for match in load_lexicon().scan(text):
        if match.entity != "remedy" or match.negated:
            continue
        remedy = _offered_reading(match.value, offered)
        if remedy is None:
            continue
        before = normalize_case_and_width(text[max(0, match.start - _CHOICE_CUE_WINDOW) : match.start]).text
        named.append((remedy, bool(_CHOICE_CUE.search(before))))
    picks = [remedy for remedy, cued in named if cued]
    if _QUESTION_WORDS.search(normalized):
        return picks[-1] if picks else None
    if len({remedy for remedy, _ in named}) == 1:
        return named[0][0]
    return picks[-1] if picks else None


def _offered_reading(value: str, offered: Sequence[str]) -> Optional[str]:
    if value in offered:
        return value
    return next((remedy for remedy in _ALSO_MEANS.get(value, ()) if remedy in offered), None)
