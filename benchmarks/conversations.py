"""The conversation harness: scripted Chinese buyers talk to the running assistant over REST.

Each scenario (conversation_scenarios.yml next to this module) is a buyer's turns plus what
must be true afterwards: phrases in the replies, phrases that must never appear (a full phone
number), and the ticket / hand-over rows in the database. The harness reports task success
and, for buyers who answer every question directly, how many turns it took to get a ticket.
"""

from __future__ import annotations

import json
import statistics
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import requests
import yaml
from sqlalchemy import select

from bot.db.engine import make_engine, session_scope
from bot.db.tables import CaseDecision, Evidence, Handoff, Order, SatisfactionScore, Ticket
from bot.services.evidence_store import store_evidence

SCENARIOS_PATH = Path(__file__).with_name("conversation_scenarios.yml")
TARGET_SUCCESS_RATE = 0.95
TARGET_MEDIAN_TURNS_TO_TICKET = 6
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PHOTO_SIZE = 51234


@dataclass(frozen=True)
class Turn:
    text: str
    photo: bool = False
    expect: Sequence[str] = ()


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    order: Optional[str]
    turns: Sequence[Turn]
    expect: Mapping[str, Any]
    rule: Optional[str] = None
    direct: bool = False  # answers every question directly: counts for the turns-to-ticket median
    before: Sequence[Sequence[Turn]] = ()  # earlier conversations of the same buyer


@dataclass
class Outcome:
    scenario: Scenario
    conversation_id: str
    failures: List[str] = field(default_factory=list)
    turns_to_ticket: Optional[int] = None
    transcript: List[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Report:
    outcomes: Sequence[Outcome]

    @property
    def success_rate(self) -> float:
        return sum(o.passed for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def direct_turns_to_ticket(self) -> List[int]:
        return [o.turns_to_ticket for o in self.outcomes if o.scenario.direct and o.turns_to_ticket is not None]

    @property
    def median_turns_to_ticket(self) -> Optional[float]:
        turns = self.direct_turns_to_ticket
        return statistics.median(turns) if turns else None

    @property
    def rules_covered(self) -> List[str]:
        return sorted({o.scenario.rule for o in self.outcomes if o.scenario.rule})


def _turn(raw: Any) -> Turn:
    if isinstance(raw, str):
        return Turn(raw)
    return Turn(str(raw["say"]), bool(raw.get("photo")), tuple(raw.get("expect") or ()))


def load_scenarios(path: Path = SCENARIOS_PATH) -> List[Scenario]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    scenarios = []
    for item in raw["scenarios"]:
        scenarios.append(
            Scenario(
                id=item["id"],
                title=item["title"],
                order=str(item["order"]) if item.get("order") else None,
                turns=tuple(_turn(turn) for turn in item["turns"]),
                expect=item.get("expect") or {},
                rule=item.get("rule"),
                direct=bool(item.get("direct")),
                before=tuple(tuple(_turn(turn) for turn in conversation) for conversation in item.get("before") or ()),
            )
        )
    ids = [s.id for s in scenarios]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"对话场景 id 重复：{', '.join(sorted(duplicates))}")
    return scenarios


def photo_metadata(evidence_dir: Path, conversation_id: str, turn_index: int) -> Dict[str, Any]:
    """A photo as a channel delivers it: stored in the servers' evidence store, then named in
    the message metadata. Each conversation and turn sends different bytes."""
    data = (JPEG_START + f"{conversation_id}/{turn_index}".encode()).ljust(PHOTO_SIZE, b"\0")
    return {"attachments": [store_evidence(data, evidence_dir=evidence_dir).attachment("问题照片.jpg")]}


class ConversationHarness:
    def __init__(self, rest_url: str, database_url: str, evidence_dir: Path, timeout: float = 120.0) -> None:
        self.rest_url = rest_url
        self.evidence_dir = evidence_dir
        self.engine = make_engine(database_url)
        self.timeout = timeout

    def run_all(
        self, scenarios: Sequence[Scenario], progress: Callable[[Outcome], None] = lambda outcome: None
    ) -> Report:
        outcomes = []
        for scenario in scenarios:
            outcome = self.run(scenario)
            progress(outcome)
            outcomes.append(outcome)
        return Report(outcomes)

    def run(self, scenario: Scenario) -> Outcome:
        run_id = uuid.uuid4().hex[:8]
        conversation_id = f"harness-{scenario.id}-{run_id}"
        outcome = Outcome(scenario, conversation_id)
        values = self._placeholders(scenario)
        for index, earlier in enumerate(scenario.before):
            self._converse(f"{conversation_id}-before{index}", earlier, values, Outcome(scenario, ""))
        self._converse(conversation_id, scenario.turns, values, outcome)
        self._check_expectations(outcome, values)
        return outcome

    def _placeholders(self, scenario: Scenario) -> Dict[str, str]:
        if not scenario.order:
            return {}
        with session_scope(self.engine) as session:
            order = session.execute(select(Order).where(Order.order_number == scenario.order)).scalar_one_or_none()
            if order is None:
                raise LookupError(f"场景 {scenario.id} 的订单 {scenario.order} 不在数据库里，请先导入订单。")
            return {"order": order.order_number, "phone4": order.buyer_phone[-4:], "phone": order.buyer_phone}

    def _converse(self, conversation_id: str, turns: Sequence[Turn], values: Dict[str, str], outcome: Outcome) -> None:
        for number, turn in enumerate(turns, start=1):
            text = turn.text.format(**values)
            body: Dict[str, Any] = {"sender": conversation_id, "message": text}
            if turn.photo:
                body["metadata"] = photo_metadata(self.evidence_dir, conversation_id, number)
            response = requests.post(self.rest_url, json=body, timeout=self.timeout)
            response.raise_for_status()
            replies = response.json()
            reply_text = "\n".join(_render(reply) for reply in replies)
            outcome.transcript.append(f"买家：{text}{' [照片]' if turn.photo else ''}")
            outcome.transcript.extend(f"助手：{line}" for line in reply_text.splitlines() if line.strip())
            for phrase in turn.expect:
                if phrase.format(**values) not in reply_text:
                    outcome.failures.append(f"第 {number} 轮回复里没有「{phrase.format(**values)}」")
            if outcome.turns_to_ticket is None and self._tickets(conversation_id):
                outcome.turns_to_ticket = number

    def _check_expectations(self, outcome: Outcome, values: Dict[str, str]) -> None:
        expect = outcome.scenario.expect
        bot_text = "\n".join(line for line in outcome.transcript if line.startswith("助手："))
        for phrase in expect.get("replies") or ():
            if str(phrase).format(**values) not in bot_text:
                outcome.failures.append(f"回复里没有「{str(phrase).format(**values)}」")
        for phrase in expect.get("never") or ():
            if str(phrase).format(**values) in bot_text:
                outcome.failures.append(f"回复里不该出现「{str(phrase).format(**values)}」")
        tickets = self._tickets(outcome.conversation_id)
        if "ticket" in expect:
            wanted = expect["ticket"]
            if wanted is None:
                if tickets:
                    outcome.failures.append(f"不该开工单，却开了 {[t['rule_id'] for t in tickets]}")
            elif len(tickets) != 1:
                outcome.failures.append(f"应有 1 张工单，实际 {len(tickets)} 张")
            else:
                _compare(outcome, "工单", tickets[0], wanted)
        if "decision" in expect:
            decision = self._decision(outcome.conversation_id)
            if decision is None:
                outcome.failures.append("没有记录任何处理决定")
            else:
                _compare(outcome, "处理决定", decision, expect["decision"])
        if "handoff" in expect:
            handoff = self._handoff(outcome.conversation_id)
            wanted = expect["handoff"]
            if wanted is None and handoff is not None:
                outcome.failures.append(f"不该转人工，却转了（{handoff['reason']}）")
            elif wanted is not None and handoff is None:
                outcome.failures.append("应转人工，但队列里没有")
            elif wanted is not None:
                _compare(outcome, "转人工", handoff, wanted)
        if "tickets_on_order" in expect:
            count = self._tickets_on_order(values["order"])
            if count != expect["tickets_on_order"]:
                outcome.failures.append(f"订单上应有 {expect['tickets_on_order']} 张工单，实际 {count} 张")

    def _tickets(self, conversation_id: str) -> List[Dict[str, Any]]:
        with session_scope(self.engine) as session:
            rows = session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id)).scalars().all()
            return [
                {
                    "rule_id": t.rule_id,
                    "category": t.category,
                    "status": t.status,
                    "priority": t.priority,
                    "sub_issue": t.sub_issue,
                    "chosen_remedy": t.chosen_remedy,
                    "evidence": len(session.execute(select(Evidence.id).where(Evidence.ticket_id == t.id)).all()),
                    "score": session.execute(
                        select(SatisfactionScore.score).where(SatisfactionScore.ticket_id == t.id)
                    ).scalar_one_or_none(),
                }
                for t in rows
            ]

    def _decision(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        with session_scope(self.engine) as session:
            row = (
                session.execute(
                    select(CaseDecision)
                    .where(CaseDecision.conversation_id == conversation_id)
                    .order_by(CaseDecision.id.desc())
                )
                .scalars()
                .first()
            )
            return None if row is None else {"rule_id": row.rule_id, "category": row.category, "remedies": row.remedies}

    def _tickets_on_order(self, order_number: str) -> int:
        with session_scope(self.engine) as session:
            order = session.execute(select(Order).where(Order.order_number == order_number)).scalar_one()
            return len(session.execute(select(Ticket.id).where(Ticket.order_id == order.id)).all())

    def _handoff(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        with session_scope(self.engine) as session:
            row = (
                session.execute(
                    select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc())
                )
                .scalars()
                .first()
            )
            return None if row is None else {"reason": row.reason, "priority": row.priority, "status": row.status}


# slots the dialogue policies see (influence_conversation) plus the form's requested slot
STORY_SLOTS = {
    "requested_slot",
    "order_verified",
    "verification_failed",
    "pending_task",
    "awaiting_reply",
    "files_went_to_ticket",
}


def recorded_story(api_url: str, outcome: Outcome, api_token: str = "") -> Dict[str, Any]:
    """The conversation as a Rasa test story (Rasa's own export), trimmed to what the
    dialogue policies see, named after its scenario."""
    response = requests.get(
        f"{api_url}/conversations/{outcome.conversation_id}/story", params={"token": api_token}, timeout=30
    )
    response.raise_for_status()
    [story] = yaml.safe_load(response.text)["stories"]
    steps = []
    for step in story["steps"]:
        if "intent" in step and any(earlier.get("action") == "action_handoff" for earlier in steps):
            break  # a person has the chat from here; the bot is paused and predicts nothing
        if "slot_was_set" in step:
            kept = [slot for slot in step["slot_was_set"] if next(iter(slot)) in STORY_SLOTS]
            if not kept:
                continue
            step = {"slot_was_set": kept}
        steps.append(step)
    title = f"{outcome.scenario.rule or ''} {outcome.scenario.title} (order {outcome.scenario.order})".strip()
    return {"story": title, "steps": steps}


def stories_yaml(stories: Sequence[Dict[str, Any]]) -> str:
    header = (
        "# Recorded by `python -m bot dialogue-eval --record-stories` from the conversation harness:\n"
        "# one conversation per policy rule, over the shared fixture orders. `rasa test core`\n"
        "# checks that the dialogue model still takes every step (tests/e2e/test_rasa_stories.py).\n"
    )
    return header + yaml.safe_dump(
        {"version": "3.1", "stories": list(stories)}, allow_unicode=True, sort_keys=False, width=120
    )


def _compare(outcome: Outcome, what: str, actual: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    for key, value in wanted.items():
        if actual.get(key) != value:
            outcome.failures.append(f"{what}.{key} 应为 {value!r}，实际 {actual.get(key)!r}")


def _render(reply: Mapping[str, Any]) -> str:
    text = reply.get("text") or ""
    buttons = [button.get("title", "") for button in reply.get("buttons") or []]
    return text + (f" [按钮：{' / '.join(buttons)}]" if buttons else "")


def report_markdown(report: Report, *, machine: str, date: str) -> str:
    lines = [
        "# 对话测评报告 (conversation harness)",
        "",
        f"- 日期：{date}",
        f"- 机器：{machine}",
        f"- 场景数：{len(report.outcomes)}；覆盖政策规则：{', '.join(report.rules_covered)}",
        f"- **任务成功率：{report.success_rate:.1%}**（目标 ≥ {TARGET_SUCCESS_RATE:.0%}）",
        f"- **直接作答时开单所需买家轮数中位数：{_format_median(report.median_turns_to_ticket)}**"
        f"（目标 ≤ {TARGET_MEDIAN_TURNS_TO_TICKET}；样本 {len(report.direct_turns_to_ticket)} 个）",
        "",
        "| 场景 | 规则 | 结果 | 开单轮数 | 说明 |",
        "|---|---|---|---|---|",
    ]
    for outcome in report.outcomes:
        lines.append(
            f"| {outcome.scenario.id} {outcome.scenario.title} | {outcome.scenario.rule or '—'} | "
            f"{'✅' if outcome.passed else '❌'} | {outcome.turns_to_ticket or '—'} | "
            f"{'；'.join(outcome.failures) or ''} |"
        )
    failed = [o for o in report.outcomes if not o.passed]
    for outcome in failed:
        lines += ["", f"## ❌ {outcome.scenario.id}", "", "```", *outcome.transcript, "```"]
    return "\n".join(lines) + "\n"


def _format_median(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:g}"


def report_json(report: Report) -> str:
    return json.dumps(
        {
            "success_rate": report.success_rate,
            "median_turns_to_ticket": report.median_turns_to_ticket,
            "scenarios": [
                {
                    "id": o.scenario.id,
                    "rule": o.scenario.rule,
                    "passed": o.passed,
                    "turns_to_ticket": o.turns_to_ticket,
                    "failures": o.failures,
                }
                for o in report.outcomes
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
