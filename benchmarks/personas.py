"""The adaptive buyer harness: simulated Chinese buyers (personas) talk to the running assistant.

A persona file (YAML) describes buyers by what they know, not by what they say turn by turn:
an opening line, facts (order number, phone digits, the problem, used or not, a photo or not,
which item), the remedy they want, behaviours injected at fixed moments, and what the policy
says must be true in the database when the chat ends (`expect`). The file's `about` text is
the format's definition; `personas_own.yaml` next to this module is the project's own set.

The simulated buyer types the opening, then reads every reply of the assistant (texts and
buttons), works out what it is asked from a small table of Chinese cue words per kind of
question, and answers only that, from its facts. It knows nothing about the assistant's exact
sentences and nothing about any persona id. When it cannot tell what is asked it repeats its
problem, as a confused buyer would, and that counts as a misunderstanding.

Each persona chain (a persona and those that depend on it) starts from a database reset to the
test day (`reset_database`). When a chat ends, the database is checked against `expect`
(`check_expect`) and every reply against general quality rules (`reply_problems`).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import requests
import yaml
from sqlalchemy import Integer, MetaData, Table, delete, inspect, or_, select
from sqlalchemy.engine import Engine

from benchmarks.conversations import photo_metadata
from benchmarks.order_number_cases import FULL_WIDTH_DIGITS
from bot.db.engine import session_scope
from bot.db.tables import Evidence, Handoff, Order, OrderContact, SatisfactionScore, Ticket, TicketEvent
from bot.domain.vocabulary import Remedy, label_zh

OWN_PERSONAS_PATH = Path(__file__).with_name("personas_own.yaml")


def project_persona_files() -> List[Path]:
    """The project's own persona files (benchmarks/personas_*.yaml)."""
    return sorted(Path(__file__).parent.glob("personas_*.yaml"))


TARGET_SUCCESS_RATE = 0.95
TARGET_MEDIAN_TURNS_TO_TICKET = 5
TURN_CAP = 16  # buyer messages per conversation, the opening included
CONVERSATION_PREFIX = "persona-"
DECISIONS_TABLE = "case_decisions"

# ---------------------------------------------------------------------------------------------
# The format
# ---------------------------------------------------------------------------------------------

STYLE_BEHAVIOURS = {"typo_heavy", "long_rant", "voice_style", "angry", "all_in_first_message"}
VERIFICATION_BEHAVIOURS = {"wrong_order_first", "wrong_phone_first", "asks_policy_midway"}
AFTER_VERIFICATION_BEHAVIOURS = {"cancels", "switches_order", "gives_new_address"}
AFTER_DECISION_BEHAVIOURS = {"rejects_decision", "asks_human", "thanks_after_decision", "asks_ticket_status_later"}
# a policy question instead of the answer while the assistant waits for the photo or the used-or-not answer
CASE_QUESTION_BEHAVIOURS = {"asks_policy_in_case"}
KNOWN_BEHAVIOURS = (
    STYLE_BEHAVIOURS
    | VERIFICATION_BEHAVIOURS
    | AFTER_VERIFICATION_BEHAVIOURS
    | AFTER_DECISION_BEHAVIOURS
    | CASE_QUESTION_BEHAVIOURS
    | {"greets_midway"}
)
# the fact line each behaviour types (besides the opening)
BEHAVIOUR_LINES = {
    "wrong_order_first": ("wrong_order_id", "correction_line"),
    "wrong_phone_first": ("wrong_phone_last4", "correction_line"),
    "asks_policy_midway": ("midway_question",),
    "asks_policy_in_case": ("case_question",),
    "greets_midway": ("midway_greeting",),
    "cancels": ("cancel_line",),
    "switches_order": ("correction_line",),
    "rejects_decision": ("objection",),
    "asks_human": ("human_request",),
    "thanks_after_decision": ("thanks_line",),
    "gives_new_address": ("new_address",),
}
EXPECT_KEYS = ("category", "rule", "ticket", "remedy", "handoff")
# optional facts: the buyer's own typed words instead of a click or the harness's default wording
# (used_answer: whether the item was used; no_photo_answer: there is no photo; confirm_answer:
# agreeing to the first remedy offered, typed instead of clicking it)
TYPED_ANSWER_FACTS = ("used_answer", "no_photo_answer", "confirm_answer")


class PersonaFormatError(ValueError):
    """A persona file that does not follow the format; the message is Chinese."""


@dataclass(frozen=True)
class Persona:
    id: str
    order_id: str
    phone_last4: str
    opening: str
    facts: Mapping[str, Any]
    wants: Optional[str]
    behaviour: Tuple[str, ...]
    expect: Mapping[str, Any]
    why: str = ""
    depends_on: Optional[str] = None
    second_order_id: Optional[str] = None
    second_phone_last4: Optional[str] = None  # the second order's phone, when not the same
    source: str = ""

    @property
    def answers_directly(self) -> bool:
        """No behaviour besides giving everything at once: counts for the turns-to-ticket median."""
        return set(self.behaviour) <= {"all_in_first_message"}


def load_personas(path: Path) -> List[Persona]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PersonaFormatError(f"读不了买家画像文件 {path}：{error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("personas"), list):
        raise PersonaFormatError(f"{path}：应有 personas 列表（以及说明格式的 about）。")
    personas = [_persona(item, path) for item in raw["personas"]]
    ids = [p.id for p in personas]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise PersonaFormatError(f"{path}：买家 id 重复：{', '.join(duplicated)}")
    for persona in personas:
        if persona.depends_on and persona.depends_on not in ids:
            raise PersonaFormatError(f"{path}：{persona.id} 依赖的 {persona.depends_on} 不在文件里。")
    return personas


def _persona(item: Any, path: Path) -> Persona:
    if not isinstance(item, dict) or not item.get("id"):
        raise PersonaFormatError(f"{path}：每个买家都要有 id。")
    pid = str(item["id"])
    for key in ("order_id", "phone_last4", "opening", "facts", "expect"):
        if item.get(key) in (None, ""):
            raise PersonaFormatError(f"{path}：买家 {pid} 缺少 {key}。")
    behaviour = tuple(item.get("behaviour") or ())
    unknown = sorted(set(behaviour) - KNOWN_BEHAVIOURS)
    if unknown:
        raise PersonaFormatError(f"{path}：买家 {pid} 有不认识的行为：{', '.join(unknown)}")
    facts = dict(item["facts"])
    for name in behaviour:
        for line in BEHAVIOUR_LINES.get(name, ()):
            if not facts.get(line):
                raise PersonaFormatError(f"{path}：买家 {pid} 有行为 {name}，facts 里却没有 {line}。")
    if "switches_order" in behaviour and not item.get("second_order_id"):
        raise PersonaFormatError(f"{path}：买家 {pid} 有行为 switches_order，却没有 second_order_id。")
    for key in TYPED_ANSWER_FACTS:
        if key in facts and not isinstance(facts[key], str):
            raise PersonaFormatError(f"{path}：买家 {pid} 的 {key} 应是买家打的一句话。")
    expect = dict(item["expect"])
    missing = [key for key in EXPECT_KEYS if key not in expect]
    if missing:
        raise PersonaFormatError(f"{path}：买家 {pid} 的 expect 缺少 {', '.join(missing)}。")
    return Persona(
        id=pid,
        order_id=str(item["order_id"]),
        phone_last4=str(item["phone_last4"]),
        opening=str(item["opening"]),
        facts=facts,
        wants=item.get("wants"),
        behaviour=behaviour,
        expect=expect,
        why=str(item.get("why") or ""),
        depends_on=str(item["depends_on"]) if item.get("depends_on") else None,
        second_order_id=str(item["second_order_id"]) if item.get("second_order_id") else None,
        second_phone_last4=str(item["second_phone_last4"]) if item.get("second_phone_last4") else None,
        source=Path(path).name,
    )


def chains(personas: Sequence[Persona]) -> List[List[Persona]]:
    """Each persona without depends_on, followed by those that depend on it (depth first, in
    file order): one chain runs in one freshly reset database."""
    children: Dict[str, List[Persona]] = {}
    for persona in personas:
        if persona.depends_on:
            children.setdefault(persona.depends_on, []).append(persona)

    def walk(persona: Persona, seen: Tuple[str, ...]) -> List[Persona]:
        if persona.id in seen:
            raise PersonaFormatError(f"买家依赖成环：{' → '.join(seen + (persona.id,))}")
        result = [persona]
        for child in children.get(persona.id, ()):
            result += walk(child, seen + (persona.id,))
        return result

    return [walk(persona, ()) for persona in personas if not persona.depends_on]


# ---------------------------------------------------------------------------------------------
# How the buyer types numbers
# ---------------------------------------------------------------------------------------------

_NUMBER_RUN = re.compile(r"[0-9０-９]+(?:[ \-－—–][0-9０-９]+)*")


@dataclass(frozen=True)
class NumberStyle:
    full_width: bool = False
    separator: str = ""
    group: int = 0

    def order_number(self, digits: str) -> str:
        text = digits
        if self.separator and self.group:
            text = self.separator.join(digits[i : i + self.group] for i in range(0, len(digits), self.group))
        return text.translate(FULL_WIDTH_DIGITS) if self.full_width else text

    def short_number(self, digits: str) -> str:
        return digits.translate(FULL_WIDTH_DIGITS) if self.full_width else digits


def number_style(text: str) -> NumberStyle:
    """How the buyer wrote the longest number (8+ digits) of `text`: full-width digits, and
    groups joined by spaces or dashes. Plain digits when the text has no long number."""
    best = ""
    for match in _NUMBER_RUN.finditer(text):
        run = match.group(0)
        if sum(ch.isdigit() for ch in run) >= 8 and len(run) > len(best):
            best = run
    if not best:
        return NumberStyle()
    full_width = any(ch in "０１２３４５６７８９" for ch in best)
    groups = re.split(r"[ \-－—–]", best)
    if len(groups) > 1:
        separator = best[len(groups[0])]
        return NumberStyle(full_width, separator, len(groups[0]))
    return NumberStyle(full_width)


# ---------------------------------------------------------------------------------------------
# Reading the assistant's replies
# ---------------------------------------------------------------------------------------------

# what kind of answer a question asks for, by cue words; checked in this order, the first kind
# with a cue in the question wins (a photo request that also says "describe the problem" asks
# for the photo)
QUESTION_CUES: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("score", ("打分", "打个分", "评分", "评价一下", "满意度", "几分", "几星")),
    ("ticket", ("工单号", "工单编号", "售后单号")),
    ("phone", ("手机号", "手机尾号", "后4位", "后四位", "尾号", "后４位")),
    ("which_order", ("哪一笔", "哪笔", "哪个订单", "哪一单", "哪一个订单")),
    ("order_number", ("订单号", "订单编号", "单号")),
    ("item", ("哪一件", "哪件", "哪个商品", "哪一个商品", "哪款", "多件商品")),
    ("used", ("用过", "使用过", "未使用", "没使用", "拆封", "开封", "吊牌", "穿过", "激活", "安装过", "拆过")),
    ("evidence", ("照片", "图片", "视频", "拍张", "拍一", "拍个", "上传", "凭证", "截图")),
    ("address", ("地址",)),
    ("remedy", ("怎么处理", "如何处理", "处理方式", "哪种方案", "选择")),
    (
        "problem",
        ("什么问题", "哪种", "哪类", "什么情况", "具体", "发生了什么", "原因", "怎么了", "描述", "哪里不", "什么毛病"),
    ),
)
# a sentence that asks the buyer for something: a question mark, or a request word together
# with a cue of the table above (a bare 请 is no request: "请在…前寄回至…" is an instruction)
REQUEST_CUES = (
    "请问",
    "请为",
    "请提供",
    "请上传",
    "请输入",
    "请选择",
    "请告诉",
    "告诉我",
    "麻烦提供",
    "麻烦上传",
    "麻烦发",
    "麻烦告诉",
    "提供一下",
    "发给我",
    "发我",
    "回复",
    "说说",
    "说一下",
    "核对一下",
    "确认一下",
)
# questions that only offer more help: nothing is asked
CLOSING_CUES = ("还有其他", "还有什么", "其他问题", "其他需要", "别的问题", "其他可以")
# the assistant did not accept the order number / the phone digits just given
NOT_FOUND_CUES = ("没有查到", "没查到", "查不到", "找不到", "没找到", "不存在", "不像订单号", "有误")
MISMATCH_CUES = ("对不上", "不一致", "不匹配", "不正确", "有误", "不对")
VERIFIED_CUES = ("已核实", "核实了", "验证通过", "已确认订单", "已找到", "查到了您的订单", "核对成功", "核实成功")
# button payloads that only offer a person or close the topic
OFFER_INTENTS = {"request_human", "thank", "deny", "affirm", "goodbye"}
# entity of a button payload -> the kind of question the buttons answer
BUTTON_ENTITY_KINDS = {
    "remedy": "remedy",
    "item_sku": "item",
    "order_number": "which_order",
    "satisfaction_score": "score",
    "sub_issue": "problem",
    "item_condition": "used",
}
# typed answers that are no fact of the persona: how a buyer says them
UNUSED_ANSWER = "没用过，包装和吊牌都还在"
USED_ANSWER = "已经用过了，拆开用了"
NO_EVIDENCE_ANSWER = "现在没法拍，手上没有照片也没有视频"
EVIDENCE_AGAIN_ANSWER = "照片刚才已经发过了"
SCORE_ANSWER = "5"
PHOTO_SHOWN_TEXT = "这是照片"  # what the web chat shows for a photo sent on its own
# a persona that wants a remedy types its catalogue name
REMEDY_WORDS = {
    remedy.value: label_zh("remedy", remedy)
    for remedy in (
        Remedy.RETURN_REFUND,
        Remedy.EXCHANGE,
        Remedy.REPAIR,
        Remedy.PAID_REPAIR,
        Remedy.RESHIP,
        Remedy.REFUND_ONLY,
    )
}

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
# a clause that only says what the buyer may do if something holds ("如果…，请告诉我们") asks nothing now
CONDITIONAL_STARTS = ("如果", "如需", "如有", "若", "要是", "假如", "万一")
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.S)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    @property
    def intent(self) -> Optional[str]:
        match = _PAYLOAD.match(self.payload.strip())
        return match.group(1) if match else None

    @property
    def entities(self) -> Dict[str, Any]:
        match = _PAYLOAD.match(self.payload.strip())
        if not match or not match.group(2):
            return {}
        try:
            value = json.loads(match.group(2))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class BotTurn:
    """What the assistant sent back for one buyer message."""

    texts: Tuple[str, ...]
    buttons: Tuple[Tuple[Button, ...], ...]  # per message, aligned with texts

    @classmethod
    def from_replies(cls, replies: Sequence[Mapping[str, Any]]) -> "BotTurn":
        texts, buttons = [], []
        for reply in replies:
            texts.append(str(reply.get("text") or ""))
            buttons.append(
                tuple(
                    Button(str(b.get("title") or ""), str(b.get("payload") or "")) for b in reply.get("buttons") or ()
                )
            )
        return cls(tuple(texts), tuple(buttons))

    @property
    def all_buttons(self) -> List[Button]:
        return [button for group in self.buttons for button in group]

    @property
    def text(self) -> str:
        return "\n".join(t for t in self.texts if t)


@dataclass(frozen=True)
class Question:
    kind: str  # a key of QUESTION_CUES, "unknown" (asks, but what?) or "none" (asks nothing)
    sentence: str = ""
    buttons: Tuple[Button, ...] = ()
    conditional: bool = False  # "如果…，请告诉我…": an invitation, not a question


def is_conditional(sentence: str) -> bool:
    return sentence.startswith(CONDITIONAL_STARTS) and "？" not in sentence and "?" not in sentence


def sentences(text: str) -> List[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _cue_kind(sentence: str) -> Optional[str]:
    for kind, cues in QUESTION_CUES:
        if any(cue in sentence for cue in cues):
            return kind
    return None


def sentence_question(sentence: str) -> Optional[str]:
    """The kind of answer `sentence` asks for, "unknown" when it asks but the kind is unclear,
    None when it asks nothing."""
    if any(cue in sentence for cue in CLOSING_CUES):
        return None
    asks = "？" in sentence or "?" in sentence
    kind = _cue_kind(sentence)
    if kind and (asks or any(cue in sentence for cue in REQUEST_CUES)):
        return kind
    return "unknown" if asks else None


def button_kind(buttons: Sequence[Button]) -> Optional[str]:
    """What a row of buttons answers ("offer" for a person/thanks offer), None without buttons."""
    if not buttons:
        return None
    for button in buttons:
        for entity in button.entities:
            if entity in BUTTON_ENTITY_KINDS:
                return BUTTON_ENTITY_KINDS[entity]
    if all(button.intent in OFFER_INTENTS for button in buttons):
        return "offer"
    if any((button.intent or "").startswith(("complain_", "request_", "ask_")) for button in buttons):
        return "problem"  # "which kind of problem is it?" as topic buttons
    return "unknown"


def understand(turn: BotTurn) -> Question:
    """The last thing the assistant asked in this turn."""
    found = Question("none")
    for text, buttons in zip(turn.texts, turn.buttons):
        asked_here: Optional[Question] = None
        for sentence in sentences(text):
            kind = sentence_question(sentence)
            if kind:
                asked_here = Question(kind, sentence, conditional=is_conditional(sentence))
        kind = button_kind(buttons)
        if kind and kind != "offer":
            asked_here = Question(kind, asked_here.sentence if asked_here else text.strip(), tuple(buttons))
        if asked_here is not None:
            found = asked_here
    return found


def says_any(turn: BotTurn, cues: Iterable[str]) -> bool:
    text = turn.text
    return any(cue in text for cue in cues)


# ---------------------------------------------------------------------------------------------
# The simulated buyer
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """What the buyer sends: typed text, or a clicked button's payload; maybe a photo."""

    text: str
    photo: bool = False
    shown: Optional[str] = None  # the clicked button's title
    note: str = ""  # why the buyer sent it (for the transcript)


@dataclass
class BuyerView:
    """What the buyer can see besides the replies: whether the chat went to a person and
    whether the assistant has recorded a decision (from the database, after every turn)."""

    handed_over: bool = False
    decided: bool = False


class SimulatedBuyer:
    def __init__(self, persona: Persona, values: Optional[Mapping[str, str]] = None, turn_cap: int = TURN_CAP) -> None:
        self.persona = persona
        self.values = dict(values or {})
        self.turn_cap = turn_cap
        self.style = number_style(self._line(persona.opening))
        self.pending: List[str] = [b for b in persona.behaviour if b not in STYLE_BEHAVIOURS]
        self.played: List[str] = []
        self.skipped: List[str] = []
        self.turns = 0
        self.misunderstandings = 0
        self.order = persona.order_id
        self.phone = persona.phone_last4
        self.gave_order = False
        self.gave_phone = False
        self.verified = False
        self.decided = False
        self.photo_sent = False
        self.refused_evidence = False
        self.waiting_correction: Optional[str] = None  # "order" / "phone" after a wrong one
        self.finished = False
        self.last_question = Question("none")
        if "all_in_first_message" in persona.behaviour:
            self.gave_order = self.gave_phone = True
        elif self.style != NumberStyle() or _has_long_number(persona.opening):
            self.gave_order = True  # the opening names the order
        if "asks_ticket_status_later" in self.pending and "{ticket}" in persona.opening:
            self._play("asks_ticket_status_later")  # a later conversation opens with the question

    # -- helpers ------------------------------------------------------------------------------

    @property
    def facts(self) -> Mapping[str, Any]:
        return self.persona.facts

    def _line(self, text: str) -> str:
        for key, value in self.values.items():
            text = text.replace("{" + key + "}", str(value))
        return text

    def _fact(self, key: str) -> str:
        return self._line(str(self.facts.get(key) or ""))

    def _play(self, behaviour: str) -> None:
        if behaviour in self.pending:
            self.pending.remove(behaviour)
            self.played.append(behaviour)

    def _skip(self, behaviours: Iterable[str]) -> None:
        for behaviour in list(behaviours):
            if behaviour in self.pending:
                self.pending.remove(behaviour)
                self.skipped.append(behaviour)

    def _send(self, move: Move) -> Move:
        self.turns += 1
        if move.photo:
            self.photo_sent = True
        return move

    def problem_again(self, note: str) -> Move:
        return Move(self._fact("problem") or self._line(self.persona.opening), note=note)

    # -- the conversation ---------------------------------------------------------------------

    def opening(self) -> Move:
        photo = "all_in_first_message" in self.persona.behaviour and bool(self.facts.get("has_evidence"))
        return self._send(Move(self._line(self.persona.opening), photo=photo, note="开场"))

    def respond(self, turn: BotTurn, view: BuyerView) -> Optional[Move]:
        """The buyer's next message, or None when the buyer is done."""
        question = understand(turn)
        self.last_question = question
        if self.finished or self.turns >= self.turn_cap:
            return None
        self._observe(turn, question, view)
        if (
            question.kind == "evidence"
            and self.decided
            and self.refused_evidence
            and not self.facts.get("has_evidence")
        ):
            question = Question("none")  # a reminder to send photos later: the buyer said it has none
        if question.conditional and self.decided:
            question = Question("none")  # "if …, tell us": only a buyer still waiting for a decision takes it up
        if view.handed_over:
            self._skip(
                VERIFICATION_BEHAVIOURS | AFTER_VERIFICATION_BEHAVIOURS | CASE_QUESTION_BEHAVIOURS | {"greets_midway"}
            )
            if not self.decided:
                self._skip(AFTER_DECISION_BEHAVIOURS)
        move = self._behaviour_move(turn, question, view)
        if move is None:
            if view.handed_over:
                return None
            move = self._answer(question)
        if move is None:
            return None
        return self._send(move)

    def _observe(self, turn: BotTurn, question: Question, view: BuyerView) -> None:
        post_verification = question.kind in ("problem", "used", "evidence", "item", "remedy")
        verifying = question.kind in ("order_number", "which_order", "phone")
        if (
            not self.verified
            and self.gave_order
            and not verifying
            and (says_any(turn, VERIFIED_CUES) or (self.gave_phone and (post_verification or view.decided)))
        ):
            self.verified = True
            self.waiting_correction = None
            self._skip(VERIFICATION_BEHAVIOURS)
        if view.decided or any(b.entities.get("remedy") for b in turn.all_buttons):
            self.decided = True

    def _behaviour_move(self, turn: BotTurn, question: Question, view: BuyerView) -> Optional[Move]:
        pending = self.pending
        # a wrong number was typed: correct it once the assistant turns it down or asks again
        if self.waiting_correction == "order" and (question.kind == "order_number" or says_any(turn, NOT_FOUND_CUES)):
            self.waiting_correction = None
            return Move(self._fact("correction_line"), note="行为 wrong_order_first：更正订单号")
        if self.waiting_correction == "phone" and (question.kind == "phone" or says_any(turn, MISMATCH_CUES)):
            self.waiting_correction = None
            self.gave_phone = True
            return Move(self._fact("correction_line"), note="行为 wrong_phone_first：更正手机尾号")
        if question.kind in ("order_number", "phone") and "asks_policy_midway" in pending and not self.verified:
            self._play("asks_policy_midway")
            return Move(self._fact("midway_question"), note="行为 asks_policy_midway：核实订单时插问政策")
        if question.kind in ("evidence", "used") and "asks_policy_in_case" in pending and not self.decided:
            self._play("asks_policy_in_case")
            return Move(self._fact("case_question"), note="行为 asks_policy_in_case：被问照片/用没用过时插问政策")
        if "greets_midway" in pending and self.turns == 2:  # instead of the second answer
            self._play("greets_midway")
            return Move(self._fact("midway_greeting"), note="行为 greets_midway")
        if question.kind == "order_number" and "wrong_order_first" in pending:
            self._play("wrong_order_first")
            self.waiting_correction = "order"
            self.gave_order = True
            return Move(
                self.style.order_number(self._fact("wrong_order_id")), note="行为 wrong_order_first：先报错订单号"
            )
        if question.kind == "phone" and "wrong_phone_first" in pending:
            self._play("wrong_phone_first")
            self.waiting_correction = "phone"
            return Move(
                self.style.short_number(self._fact("wrong_phone_last4")), note="行为 wrong_phone_first：先报错尾号"
            )
        if self.verified:
            if "cancels" in pending:
                self._play("cancels")
                self.finished = True
                return Move(self._fact("cancel_line"), note="行为 cancels")
            if "switches_order" in pending:
                self._play("switches_order")
                self.order = self.persona.second_order_id or self.order
                self.phone = self.persona.second_phone_last4 or self.phone
                return Move(self._fact("correction_line"), note="行为 switches_order：换成另一单")
            if "gives_new_address" in pending:
                self._play("gives_new_address")
                return Move(self._fact("new_address"), note="行为 gives_new_address")
        elif question.kind == "address" and "gives_new_address" in pending:
            self._play("gives_new_address")
            return Move(self._fact("new_address"), note="行为 gives_new_address")
        choosing = question.kind == "remedy" and bool(question.buttons)
        bot_done = question.kind == "none"
        if self.decided or bot_done:
            if "rejects_decision" in pending:
                self._play("rejects_decision")
                return Move(self._fact("objection"), note="行为 rejects_decision：不接受决定")
            if "asks_human" in pending:
                self._play("asks_human")
                return Move(self._fact("human_request"), note="行为 asks_human")
            if not choosing and question.kind in ("none", "score"):
                if "thanks_after_decision" in pending:
                    self._play("thanks_after_decision")
                    return Move(self._fact("thanks_line"), note="行为 thanks_after_decision")
                if "asks_ticket_status_later" in pending and self.facts.get("followup"):
                    self._play("asks_ticket_status_later")
                    return Move(self._fact("followup"), note="行为 asks_ticket_status_later：追问工单进度")
        return None

    def _answer(self, question: Question) -> Optional[Move]:
        kind = question.kind
        if kind == "none":
            return None
        if kind == "order_number":
            self.gave_order = True
            return Move(self.style.order_number(self.order), note="答：订单号")
        if kind == "which_order":
            self.gave_order = True
            for button in question.buttons:
                if str(button.entities.get("order_number") or "") == self.order:
                    return Move(button.payload, shown=button.title, note="点选：订单")
            return Move(self.style.order_number(self.order), note="答：订单号")
        if kind == "phone":
            self.gave_phone = True
            return Move(self.style.short_number(self.phone), note="答：手机尾号")
        if kind == "problem":
            return self.problem_again("答：问题")
        if kind == "used":
            unused = self.facts.get("unused")
            if unused is None:
                return self.problem_again("答：用没用过（买家觉得问得奇怪，重复问题）")
            if self.facts.get("used_answer"):
                return Move(self._fact("used_answer"), note="答：用没用过（自己打字）")
            return Move(UNUSED_ANSWER if unused else USED_ANSWER, note="答：用没用过")
        if kind == "evidence":
            if not self.facts.get("has_evidence"):
                self.refused_evidence = True
                return Move(self._fact("no_photo_answer") or NO_EVIDENCE_ANSWER, note="答：没有照片")
            if self.photo_sent:
                return Move(EVIDENCE_AGAIN_ANSWER, note="答：照片已发过")
            return Move("/inform", photo=True, shown=PHOTO_SHOWN_TEXT, note="发照片")
        if kind == "item":
            return self._choose_item(question)
        if kind == "remedy":
            return self._choose_remedy(question)
        if kind == "score":
            return Move(SCORE_ANSWER, note="答：评分")
        if kind == "address":
            if self.facts.get("new_address"):
                return Move(self._fact("new_address"), note="答：地址")
        if kind == "ticket":
            if self.values.get("ticket"):
                return Move(self.values["ticket"], note="答：工单号")
            return Move(self.style.order_number(self.order), note="答：订单号（没有工单号）")
        self.misunderstandings += 1
        return self.problem_again("没看懂在问什么，重复问题")

    def _choose_item(self, question: Question) -> Move:
        hint = self._fact("item_hint")
        options = [b for b in question.buttons if "item_sku" in b.entities]
        if not options:
            return Move(hint or self._fact("problem"), note="答：哪件商品")
        wanted = _without_negated(hint) if hint else f"{self._line(self.persona.opening)} {self._fact('problem')}"
        best = max(options, key=lambda b: _overlap(wanted, b.title))
        return Move(best.payload, shown=best.title, note="点选：商品")

    def _choose_remedy(self, question: Question) -> Move:
        options = [b for b in question.buttons if b.entities.get("remedy")]
        confirm = self._fact("confirm_answer")
        if (
            options
            and confirm
            and options[0].entities.get("remedy") == (self.persona.wants or options[0].entities.get("remedy"))
        ):
            return Move(confirm, note="答：同意第一个处理方式（自己打字）")
        if options:
            for button in options:
                if button.entities.get("remedy") == self.persona.wants:
                    return Move(button.payload, shown=button.title, note="点选：处理方式（想要的）")
            return Move(options[0].payload, shown=options[0].title, note="点选：处理方式（第一个）")
        if self.persona.wants in REMEDY_WORDS:
            return Move(REMEDY_WORDS[self.persona.wants], note="答：处理方式")
        if question.buttons:
            return Move(question.buttons[0].payload, shown=question.buttons[0].title, note="点选：第一个按钮")
        self.misunderstandings += 1
        return self.problem_again("没看懂在问什么，重复问题")

    def remaining(self) -> List[str]:
        return list(self.pending)


def _has_long_number(text: str) -> bool:
    return any(sum(ch.isdigit() for ch in m.group(0)) >= 8 for m in _NUMBER_RUN.finditer(text))


def _without_negated(text: str) -> str:
    """ "Switch 本体（不是收纳包）" -> "Switch 本体": what the buyer says it is NOT does not count."""
    return re.sub(r"[（(]?\s*(?:不是|并非|而不是|非)[^）)，,。；;]*[）)]?", "", text).strip() or text


def _overlap(wanted: str, title: str) -> float:
    wanted_l, title_l = wanted.lower(), title.lower()
    words = set(re.findall(r"[a-z0-9]{2,}", wanted_l))
    score = sum(2.0 for word in words if word in title_l)
    pairs = {wanted_l[i : i + 2] for i in range(len(wanted_l) - 1)}
    score += sum(1.0 for pair in pairs if pair.strip() and len(pair.strip()) == 2 and pair in title_l)
    return score


# ---------------------------------------------------------------------------------------------
# Quality of the replies
# ---------------------------------------------------------------------------------------------

# a value left blank or unfilled in a reply: a template brace, None/null, a deadline with no
# date ("最晚前", "在前给您答复", "—前"), empty brackets
BLANK_VALUE = re.compile(
    r"\{[^{}]*\}|\{|\}|(?<![A-Za-z])(?:None|null|nan|undefined)(?![A-Za-z])|(?:最晚|在|于)前(?![面台往端])|[—–-]前"
    r"|（\s*）|\(\s*\)|：\s*[。，]"
)


def reply_problems(turn: BotTurn) -> List[str]:
    """Blank values and repeated lines in one reply."""
    problems = []
    lines = [line.strip() for text in turn.texts for line in text.splitlines() if line.strip()]
    for line in lines:
        match = BLANK_VALUE.search(line)
        if match:
            problems.append(f"回复里有空白/未填的值「{match.group(0)}」：{line}")
    seen = set()
    for line in lines:
        if line in seen:
            problems.append(f"同一条回复里重复了一行：{line}")
        seen.add(line)
    return problems


def normalised_question(question: Question) -> str:
    return re.sub(r"[\s\W_]+", "", question.sentence)


# ---------------------------------------------------------------------------------------------
# The database: state after a chat, the expect checker, the reset
# ---------------------------------------------------------------------------------------------


@dataclass
class ConversationRows:
    """The rows one conversation left in the database."""

    tickets: List[Dict[str, Any]] = field(default_factory=list)  # this conversation's, oldest first
    decisions: Optional[List[Dict[str, Any]]] = None  # newest first; None: no decisions table yet
    decision_ticket: Optional[Dict[str, Any]] = None  # the ticket the newest decision names
    handoff: bool = False

    @property
    def has_ticket(self) -> bool:
        return bool(self.tickets) or bool(self.decisions and self.decisions[0].get("ticket_id") is not None)

    @property
    def ticket(self) -> Optional[Dict[str, Any]]:
        return self.tickets[-1] if self.tickets else self.decision_ticket

    @property
    def decided(self) -> bool:
        return bool(self.tickets) or bool(self.decisions)

    @property
    def stated_rule(self) -> Optional[str]:
        if self.decisions is not None:
            return self.decisions[0].get("rule_id") if self.decisions else None
        return self.tickets[-1].get("rule_id") if self.tickets else None


def _ticket_row(ticket: Ticket) -> Dict[str, Any]:
    return {
        "id": ticket.id,
        "ticket_number": ticket.ticket_number,
        "rule_id": ticket.rule_id,
        "category": ticket.category,
        "status": ticket.status,
        "chosen_remedy": ticket.chosen_remedy,
        "offered_remedies": list(ticket.offered_remedies or []),
    }


def decisions_table(engine: Engine) -> Optional[Table]:
    """The table of every decision (added by a later migration); None while it does not exist."""
    if not inspect(engine).has_table(DECISIONS_TABLE):
        return None
    return Table(DECISIONS_TABLE, MetaData(), autoload_with=engine)


def conversation_rows(engine: Engine, conversation_id: str) -> ConversationRows:
    table = decisions_table(engine)
    with session_scope(engine) as session:
        tickets = (
            session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id))
            .scalars()
            .all()
        )
        rows = ConversationRows(tickets=[_ticket_row(t) for t in tickets])
        if table is not None:
            found = (
                session.execute(
                    select(table).where(table.c.conversation_id == conversation_id).order_by(table.c.id.desc())
                )
                .mappings()
                .all()
            )
            rows.decisions = [dict(row) for row in found]
            if rows.decisions and rows.decisions[0].get("ticket_id") is not None:
                ticket = session.get(Ticket, rows.decisions[0]["ticket_id"])
                rows.decision_ticket = _ticket_row(ticket) if ticket is not None else None
        rows.handoff = (
            session.execute(select(Handoff.id).where(Handoff.conversation_id == conversation_id).limit(1)).first()
            is not None
        )
    return rows


def check_expect(expect: Mapping[str, Any], rows: ConversationRows) -> List[str]:
    """What differs between the persona's `expect` and the database, in Chinese."""
    failures = []
    if "rule" in expect:
        actual = rows.stated_rule
        if rows.decisions is None and expect["rule"] is not None and not rows.tickets:
            failures.append(
                f"规则应为 {expect['rule']}，但数据库里没有记录（没有工单，决定表 {DECISIONS_TABLE} 尚未建立）"
            )
        elif actual != expect["rule"]:
            failures.append(f"规则应为 {expect['rule'] or '无（不该做决定）'}，实际 {actual or '无'}")
    if "ticket" in expect and bool(expect["ticket"]) != rows.has_ticket:
        if expect["ticket"]:
            failures.append("应开工单（或记到订单已有的工单上），实际没有")
        else:
            numbers = [t["ticket_number"] for t in rows.tickets] or [(rows.ticket or {}).get("ticket_number")]
            failures.append(f"不该开工单，实际有 {', '.join(str(n) for n in numbers)}（规则 {rows.stated_rule}）")
    ticket = rows.ticket if rows.has_ticket else None
    if expect.get("category") is not None and (ticket or rows.decisions):  # nothing to compare without either
        actual = ticket["category"] if ticket else rows.decisions[0].get("category")
        if actual != expect["category"]:
            failures.append(f"类别应为 {expect['category']}，实际 {actual or '无'}")
    if "remedy" in expect:
        actual = ticket["chosen_remedy"] if ticket else None
        if actual != expect["remedy"]:
            failures.append(f"工单选定的处理方式应为 {expect['remedy'] or '无'}，实际 {actual or '无'}")
    if "handoff" in expect and bool(expect["handoff"]) != rows.handoff:
        failures.append("应转人工，实际没有" if expect["handoff"] else "不该转人工，实际转了")
    return failures


def reset_database(
    engine: Engine,
    order_files: Sequence[Path],
    *,
    orders: Optional[Iterable[str]] = None,
    today: Optional[date] = None,
) -> None:
    """Back to the test day: delete tickets and what hangs on them (events, evidence,
    satisfaction), decisions, hand-overs and contacts, and re-import the orders from
    `order_files`, so every order is as its file describes it today.

    With `orders` (order numbers) only the rows tied to those orders (and to persona
    conversations) are removed and only those orders re-imported: the rest of a shared
    database is left as it is."""
    from bot.services.clock import shop_today
    from bot.services.order_import import import_orders

    wanted = None if orders is None else {str(number) for number in orders}
    table = decisions_table(engine)
    with session_scope(engine) as session:
        session = _NoSync(session)
        if wanted is None:
            if table is not None:
                session.execute(delete(table))
            for model in (Handoff, SatisfactionScore, Evidence, TicketEvent, Ticket, OrderContact):
                session.execute(delete(model))
        else:
            order_ids = session.execute(select(Order.id).where(Order.order_number.in_(wanted))).scalars().all()
            ticket_ids = session.execute(select(Ticket.id).where(Ticket.order_id.in_(order_ids))).scalars().all()
            conversations = set(
                session.execute(select(OrderContact.conversation_id).where(OrderContact.order_id.in_(order_ids)))
                .scalars()
                .all()
            )
            conversations |= {
                c
                for c in session.execute(select(Ticket.conversation_id).where(Ticket.id.in_(ticket_ids)))
                .scalars()
                .all()
                if c
            }
            if table is not None:
                by_id = isinstance(table.c.order_id.type, Integer)  # orders.id, or the order number
                session.execute(
                    delete(table).where(
                        or_(
                            table.c.order_id.in_(list(order_ids) if by_id else sorted(wanted)),
                            table.c.ticket_id.in_(ticket_ids),
                            table.c.conversation_id.like(f"{CONVERSATION_PREFIX}%"),
                        )
                    )
                )
            session.execute(
                delete(Handoff).where(
                    or_(
                        Handoff.ticket_id.in_(ticket_ids),
                        Handoff.conversation_id.in_(sorted(conversations)),
                        Handoff.conversation_id.like(f"{CONVERSATION_PREFIX}%"),
                    )
                )
            )
            for model in (SatisfactionScore, Evidence, TicketEvent):
                session.execute(delete(model).where(model.ticket_id.in_(ticket_ids)))
            session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))
            session.execute(delete(OrderContact).where(OrderContact.order_id.in_(order_ids)))
        day = today or shop_today()
        for path in order_files:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            records = data["orders"] if isinstance(data, dict) else data
            if wanted is not None:
                records = [r for r in records if str(r.get("order_id")) in wanted]
            if records:
                report = import_orders(session, {"orders": records}, day)
                if not report.ok:
                    raise RuntimeError(f"{path}：重新导入订单失败：{'；'.join(str(e) for e in report.errors)}")


class _NoSync:
    """A session whose bulk deletes do not try to update objects in memory (there are none)."""

    def __init__(self, session) -> None:
        self._session = session

    def execute(self, statement, *args, **kwargs):
        return self._session.execute(statement.execution_options(synchronize_session=False), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._session, name)


def chain_orders(chain: Sequence[Persona]) -> List[str]:
    numbers = []
    for persona in chain:
        numbers += [persona.order_id] + ([persona.second_order_id] if persona.second_order_id else [])
    return sorted(set(numbers))


# ---------------------------------------------------------------------------------------------
# Running personas
# ---------------------------------------------------------------------------------------------

Say = Callable[[str, str, Optional[Dict[str, Any]]], List[Dict[str, Any]]]


def rest_sender(rest_url: str, timeout: float = 120.0) -> Say:
    """Talk to the REST channel as `python -m bot chat` and the tests do."""

    def say(sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(rest_url, json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    return say


@dataclass
class PersonaOutcome:
    persona: Persona
    conversation_id: str
    failures: List[str] = field(default_factory=list)
    transcript: List[str] = field(default_factory=list)
    turns: int = 0
    turns_to_ticket: Optional[int] = None
    misunderstandings: int = 0
    unplayed: List[str] = field(default_factory=list)
    ticket_number: Optional[str] = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class PersonaReport:
    outcomes: Sequence[PersonaOutcome]

    @property
    def success_rate(self) -> float:
        return sum(o.passed for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def by_source(self) -> Dict[str, List[PersonaOutcome]]:
        groups: Dict[str, List[PersonaOutcome]] = {}
        for outcome in self.outcomes:
            groups.setdefault(outcome.persona.source, []).append(outcome)
        return groups

    @property
    def direct_turns_to_ticket(self) -> List[int]:
        return [
            o.turns_to_ticket for o in self.outcomes if o.persona.answers_directly and o.turns_to_ticket is not None
        ]

    @property
    def median_turns_to_ticket(self) -> Optional[float]:
        turns = self.direct_turns_to_ticket
        return statistics.median(turns) if turns else None


class PersonaRunner:
    """Plays persona chains against running servers. `say` sends one buyer message over REST;
    `order_files` are the files the servers' orders came from (for the reset); `scoped_reset`
    resets only the orders a chain uses (for a database other tests share)."""

    def __init__(
        self,
        say: Say,
        engine: Engine,
        evidence_dir: Path,
        order_files: Sequence[Path],
        *,
        scoped_reset: bool = False,
        turn_cap: int = TURN_CAP,
    ) -> None:
        self.say = say
        self.engine = engine
        self.evidence_dir = Path(evidence_dir)
        self.order_files = list(order_files)
        self.scoped_reset = scoped_reset
        self.turn_cap = turn_cap
        self.touched_orders: set = set()

    def run_all(
        self, personas: Sequence[Persona], progress: Callable[[PersonaOutcome], None] = lambda outcome: None
    ) -> PersonaReport:
        outcomes = []
        for chain in chains(personas):
            for outcome in self.run_chain(chain):
                progress(outcome)
                outcomes.append(outcome)
        return PersonaReport(outcomes)

    def reset(self, orders: Optional[Sequence[str]] = None) -> None:
        reset_database(self.engine, self.order_files, orders=orders if self.scoped_reset else None)

    def run_chain(self, chain: Sequence[Persona]) -> List[PersonaOutcome]:
        orders = chain_orders(chain)
        self.touched_orders |= set(orders)
        self.reset(orders)
        outcomes: Dict[str, PersonaOutcome] = {}
        for persona in chain:
            parent = outcomes.get(persona.depends_on or "")
            values = {"ticket": parent.ticket_number} if parent and parent.ticket_number else {}
            outcomes[persona.id] = self.play(persona, values)
        return list(outcomes.values())

    def play(self, persona: Persona, values: Optional[Mapping[str, str]] = None) -> PersonaOutcome:
        started = time.monotonic()
        conversation_id = f"{CONVERSATION_PREFIX}{persona.id}-{uuid.uuid4().hex[:8]}"
        outcome = PersonaOutcome(persona, conversation_id)
        buyer = SimulatedBuyer(persona, values, self.turn_cap)
        if persona.depends_on and "{ticket}" in persona.opening and not (values or {}).get("ticket"):
            outcome.failures.append(f"依赖的对话 {persona.depends_on} 没有产生工单号，开场里的 {{ticket}} 无法填写")
        questions: List[str] = []
        seen_problems: set = set()
        move: Optional[Move] = buyer.opening()
        rows = ConversationRows()
        while move is not None:
            metadata: Dict[str, Any] = {}
            if move.photo:
                metadata.update(photo_metadata(self.evidence_dir, conversation_id, buyer.turns))
            if move.shown:
                metadata["shown_text"] = move.shown
            try:
                replies = self.say(conversation_id, move.text, metadata or None)
            except requests.RequestException as error:
                outcome.failures.append(f"第 {buyer.turns} 轮请求失败：{error}")
                break
            turn = BotTurn.from_replies(replies)
            outcome.transcript.append(_buyer_line(move))
            outcome.transcript.extend(_bot_lines(turn))
            for problem in reply_problems(turn):
                if problem not in seen_problems:  # each distinct problem once, at its first turn
                    seen_problems.add(problem)
                    outcome.failures.append(f"第 {buyer.turns} 轮：{problem}")
            rows = conversation_rows(self.engine, conversation_id)
            if outcome.turns_to_ticket is None and rows.has_ticket:
                outcome.turns_to_ticket = buyer.turns
            move = buyer.respond(turn, BuyerView(handed_over=rows.handoff, decided=rows.decided))
            asked = normalised_question(buyer.last_question) if buyer.last_question.kind != "none" else ""
            questions.append(asked)
            loop = f"同一个问题连续问了 3 次：{buyer.last_question.sentence}"
            if asked and questions[-3:] == [asked] * 3 and loop not in outcome.failures:
                outcome.failures.append(loop)
        if buyer.turns >= self.turn_cap and move is None and not buyer.finished:
            outcome.transcript.append(f"（买家达到 {self.turn_cap} 轮上限，停止）")
        outcome.turns = buyer.turns
        outcome.misunderstandings = buyer.misunderstandings
        outcome.unplayed = buyer.remaining() + buyer.skipped
        if outcome.unplayed:
            outcome.transcript.append(f"（没有机会表现的行为：{', '.join(outcome.unplayed)}）")
        rows = conversation_rows(self.engine, conversation_id)
        outcome.failures += check_expect(persona.expect, rows)
        ticket = rows.ticket if rows.has_ticket else None
        outcome.ticket_number = ticket["ticket_number"] if ticket else None
        outcome.seconds = time.monotonic() - started
        return outcome


def _buyer_line(move: Move) -> str:
    if move.shown and move.photo:
        shown = f"[发送照片]（{move.shown}）"
    elif move.shown:
        shown = f"[点选「{move.shown}」] {move.text}"
    else:
        shown = move.text + (" [附照片]" if move.photo else "")
    return f"买家：{shown}    〔{move.note}〕" if move.note else f"买家：{shown}"


def _bot_lines(turn: BotTurn) -> List[str]:
    lines = []
    for text, buttons in zip(turn.texts, turn.buttons):
        lines += [f"助手：{line}" for line in text.splitlines() if line.strip()]
        if buttons:
            lines.append("助手：  [按钮] " + " / ".join(b.title for b in buttons))
    if not lines:
        lines.append("助手：（没有回复）")
    return lines


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def _median_text(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:g}"


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "—"


def report_markdown(report: PersonaReport, *, machine: str, date: str, load: str, model: str = "") -> str:
    groups = report.by_source()
    passed = sum(o.passed for o in report.outcomes)
    lines = [
        "# 模拟买家测评报告 (adaptive persona harness)",
        "",
        f"- 日期：{date}",
        f"- 机器：{machine}",
        f"- 负载（1/5/15 分钟平均）：{load}",
        *([f"- 模型：{model}"] if model else []),
        f"- **任务成功：{passed}/{len(report.outcomes)}（{report.success_rate:.1%}，目标 ≥ {TARGET_SUCCESS_RATE:.0%}）**",
        f"- **直接作答的买家开单所需轮数中位数：{_median_text(report.median_turns_to_ticket)}**"
        f"（目标 ≤ {TARGET_MEDIAN_TURNS_TO_TICKET}；样本 {len(report.direct_turns_to_ticket)} 个）",
        "",
        "任务成功 = expect 的每一项（规则、是否开单、类别、处理方式、是否转人工）都与数据库一致，且没有一条回复"
        "含空白值、重复行或连续 3 次同一个问题。",
        "",
        "| 文件 | 通过 | 成功率 |",
        "|---|---|---|",
    ]
    for source, outcomes in groups.items():
        ok = sum(o.passed for o in outcomes)
        lines.append(f"| {source} | {ok}/{len(outcomes)} | {ok / len(outcomes):.1%} |")
    for source, outcomes in groups.items():
        lines += [
            "",
            f"## {source}",
            "",
            "| 买家 | 期望规则 | 结果 | 买家轮数 | 开单轮数 | 没看懂 | 原因 |",
            "|---|---|---|---|---|---|---|",
        ]
        for o in outcomes:
            reasons = "；".join(o.failures).replace("|", "\\|")
            lines.append(
                f"| {o.persona.id} | {o.persona.expect.get('rule') or '—'} | {'✅' if o.passed else '❌'} | {o.turns} | "
                f"{o.turns_to_ticket or '—'} | {o.misunderstandings} | {reasons} |"
            )
    failed = [o for o in report.outcomes if not o.passed]
    if failed:
        lines += ["", "## 失败的对话（完整记录）"]
    own_files = {path.name for path in project_persona_files()}
    for o in failed:
        lines += [
            "",
            f"### ❌ {o.persona.source} · {o.persona.id}（期望 {o.persona.expect.get('rule') or '无决定'}）",
            "",
            *[f"- {reason}" for reason in o.failures],
            "",
            "```",
            *(o.transcript if o.persona.source in own_files else withheld_buyer_lines(o.transcript)),
            "```",
        ]
    return "\n".join(lines) + "\n"


WITHHELD = "买家：（测评集的原话，不收入项目）"


def withheld_buyer_lines(transcript: Sequence[str]) -> List[str]:
    """A transcript of a buyer from a file outside the project (../shared/eval): the bot's side
    and what the buyer was doing stay, the buyer's own words do not enter the project's files."""
    shown = []
    for line in transcript:
        if line.startswith("买家："):
            note = line.rsplit("〔", 1)[1] if "〔" in line else ""
            line = f"{WITHHELD}    〔{note}" if note else WITHHELD
        shown.append(line)
    return shown


def report_json(report: PersonaReport) -> str:
    return json.dumps(
        {
            "success_rate": report.success_rate,
            "median_turns_to_ticket": report.median_turns_to_ticket,
            "personas": [
                {
                    "source": o.persona.source,
                    "id": o.persona.id,
                    "passed": o.passed,
                    "failures": o.failures,
                    "turns": o.turns,
                    "turns_to_ticket": o.turns_to_ticket,
                    "misunderstandings": o.misunderstandings,
                    "unplayed": o.unplayed,
                    "conversation_id": o.conversation_id,
                    "transcript": o.transcript,
                }
                for o in report.outcomes
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
