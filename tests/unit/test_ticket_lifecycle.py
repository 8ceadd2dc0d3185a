"""The ticket model (bot/domain/tickets.py): the life cycle's moves, refusals and events, and the
rules that keep it the one place where a ticket changes state."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.domain.events import (
    HandoffRequested,
    RemedyChosen,
    TicketChanged,
    TicketResolved,
    TicketStatusChanged,
    TrackingNumberAdded,
)
from bot.domain.tickets import (
    CLOSED,
    KEPT_OPEN,
    TICKET_TRANSITIONS,
    TicketLifecycle,
    opening_status,
    rating_wanted,
)
from bot.domain.vocabulary import Remedy, TicketStatus
from bot.services.errors import InvalidChange, InvalidTransition

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=3)
S = TicketStatus


def ticket(status=S.OPEN, offered=(Remedy.RETURN_REFUND.value, Remedy.EXCHANGE.value), chosen=None) -> TicketLifecycle:
    return TicketLifecycle("AS202611210001", status, offered_remedies=offered, chosen_remedy=chosen)


def status_changes(model: TicketLifecycle):
    return [(e.from_status, e.to_status, e.actor, e.note) for e in model.events if isinstance(e, TicketStatusChanged)]


# ---- transitions ----------------------------------------------------------------------------


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_status_change_follows_the_table(current, target):
    model = ticket(current)
    if target == current:
        assert model.set_status(target, "cli", NOW) is False and model.events == []
    elif target in TICKET_TRANSITIONS[current]:
        assert model.set_status(target, "cli", NOW, "说明") is True
        assert model.status == target and model.updated_at == NOW
        assert status_changes(model) == [(current.value, target.value, "cli", "说明")]
    else:
        with pytest.raises(InvalidTransition) as refused:
            model.set_status(target, "cli", NOW)
        assert model.status == current and model.events == []
        assert "不能从「" in refused.value.message and current.value in refused.value.message


def test_a_refusal_names_both_states_and_the_allowed_ones_in_chinese():
    with pytest.raises(InvalidTransition) as refused:
        ticket(S.RESOLVED).set_status(S.WITH_AGENT, "cli", NOW)
    assert refused.value.message == (
        "工单 AS202611210001 不能从「已解决 resolved」变为「人工处理中 with_agent」；当前只能变为：处理中 open、已关闭 closed。"
    )
    with pytest.raises(InvalidTransition, match="终态"):
        ticket(S.CLOSED).set_status(S.OPEN, "cli", NOW)


def test_resolving_records_the_time_and_a_resolved_event_and_reopening_clears_it():
    model = ticket(S.WITH_AGENT)
    model.set_status(S.RESOLVED, "agent:alice", NOW)
    assert model.resolved_at == NOW
    assert [type(e) for e in model.events] == [TicketStatusChanged, TicketResolved]
    assert model.events[1].actor == "agent:alice"
    model.set_status(S.OPEN, "bot", LATER)
    assert model.resolved_at is None and model.updated_at == LATER
    model.set_status(S.RESOLVED, "bot", LATER)
    model.set_status(S.CLOSED, "bot", LATER)
    assert model.closed_at == LATER and model.is_closed


def test_collecting_events_empties_the_list():
    model = ticket()
    model.set_status(S.PENDING_BUYER, "bot", NOW)
    assert len(model.collect_events()) == 1
    assert model.collect_events() == []


def test_a_ticket_starts_waiting_for_evidence_only_when_it_is_required_and_missing():
    assert opening_status(True, False) == S.AWAITING_EVIDENCE
    assert opening_status(True, True) == S.OPEN
    assert opening_status(False, False) == S.OPEN


# ---- the moves ------------------------------------------------------------------------------


def test_evidence_opens_a_ticket_that_waited_for_it_and_a_closed_one_takes_none():
    model = ticket(S.AWAITING_EVIDENCE)
    model.evidence_added("bot", NOW)
    assert status_changes(model) == [("awaiting_evidence", "open", "bot", "已收到凭证")]
    model = ticket(S.WITH_AGENT)
    model.evidence_added("bot", NOW)
    assert model.status == S.WITH_AGENT and model.events == []
    with pytest.raises(InvalidChange, match="已关闭，不能再补充凭证"):
        ticket(S.CLOSED).evidence_added("bot", NOW)


def test_the_bot_may_only_choose_an_offered_remedy_an_agent_any():
    with pytest.raises(InvalidChange, match="不在工单 AS202611210001 提供的方案中（可选：return_refund、exchange）"):
        ticket().choose_remedy(Remedy.RESHIP.value, "bot", NOW)
    model = ticket(S.WITH_AGENT)
    model.choose_remedy(Remedy.RESHIP.value, "agent:alice", NOW)
    assert model.chosen_remedy == "reship" and model.status == S.WITH_AGENT
    assert [type(e) for e in model.events] == [RemedyChosen, TicketChanged]
    assert model.events[1].details == {"chosen_remedy": {"from": None, "to": "reship"}}


def test_a_return_chosen_on_an_open_ticket_waits_for_the_item():
    model = ticket()
    model.choose_remedy(Remedy.RETURN_REFUND.value, "bot", NOW)
    assert status_changes(model) == [("open", "pending_buyer", "bot", "等待买家寄回商品")]
    model = ticket(offered=(Remedy.RESHIP.value,))
    model.choose_remedy(Remedy.RESHIP.value, "bot", NOW)
    assert model.status == S.OPEN
    with pytest.raises(InvalidChange, match="已关闭，不能再修改"):
        ticket(S.CLOSED).choose_remedy(Remedy.RETURN_REFUND.value, "bot", NOW)


def test_a_handoff_request_moves_only_a_ticket_the_bot_is_working_on():
    for status, after in (
        (S.OPEN, S.WITH_AGENT),
        (S.PENDING_BUYER, S.WITH_AGENT),
        (S.AWAITING_EVIDENCE, S.AWAITING_EVIDENCE),
    ):
        model = ticket(status)
        model.handoff_requested("buyer_request", "bot", NOW)
        assert model.status == after
        assert isinstance(model.events[0], HandoffRequested) and model.events[0].reason == "buyer_request"
    model = ticket(S.OPEN)
    model.handoff_requested("buyer_upset", "bot", NOW)
    assert status_changes(model) == [("open", "with_agent", "bot", "转人工：buyer_upset")]


def test_claiming_and_returning_the_chat():
    model = ticket(S.AWAITING_EVIDENCE)
    model.claimed("agent:alice", NOW)
    assert status_changes(model) == [("awaiting_evidence", "with_agent", "agent:alice", "人工客服接手")]
    model.returned_to_bot("agent:alice", LATER)
    assert model.status == S.OPEN and status_changes(model)[-1][3] == "人工客服交还机器人"
    for settled in (S.RESOLVED, S.CLOSED):
        model = ticket(settled)
        model.claimed("agent:alice", NOW)
        model.returned_to_bot("agent:alice", NOW)
        assert model.status == settled and model.events == []


def test_withdrawing_closes_only_an_untouched_ticket():
    model = ticket(S.OPEN)
    assert model.withdraw("买家说订单号错了", "bot", NOW) is True
    assert [change[:2] for change in status_changes(model)] == [("open", "resolved"), ("resolved", "closed")]
    model = ticket(S.AWAITING_EVIDENCE)
    assert model.withdraw("错单", "bot", NOW) and [c[:2] for c in status_changes(model)] == [
        ("awaiting_evidence", "closed")
    ]
    model = ticket(S.WITH_AGENT)
    assert model.withdraw("错单", "bot", NOW) is False and model.events == []


@pytest.mark.parametrize(
    "status, under_way, keep, outcome, path",
    [
        (
            S.OPEN,
            False,
            False,
            CLOSED,
            [("open", "resolved", "人工客服已解决"), ("resolved", "closed", "人工客服结束会话")],
        ),
        (S.WITH_AGENT, True, True, KEPT_OPEN, [("with_agent", "pending_buyer", "人工客服结束接待，方案继续进行")]),
        (S.PENDING_BUYER, True, True, KEPT_OPEN, []),
        (S.PENDING_BUYER, True, False, CLOSED, [("pending_buyer", "closed", "人工客服确认后关闭（方案未完成）")]),
        (
            S.WITH_AGENT,
            True,
            False,
            CLOSED,
            [
                ("with_agent", "resolved", "人工客服确认后关闭（方案未完成）"),
                ("resolved", "closed", "人工客服结束会话"),
            ],
        ),
        (S.RESOLVED, False, False, CLOSED, [("resolved", "closed", "人工客服结束会话")]),
        (S.CLOSED, False, False, None, []),
    ],
)
def test_an_agent_finishing_the_conversation(status, under_way, keep, outcome, path):
    model = ticket(status)
    assert model.finish_with_agent("agent:alice", NOW, under_way=under_way, keep_under_way=keep) == outcome
    assert [(f, t, note) for f, t, _, note in status_changes(model)] == path


def test_a_tracking_number_is_recorded_on_an_unclosed_ticket_only():
    model = ticket(S.PENDING_BUYER)
    model.tracking_number_added("顺丰速运", "SF1", "无", "agent:alice", NOW)
    assert isinstance(model.events[0], TrackingNumberAdded) and model.events[0].tracking_number == "SF1"
    assert model.events[1].note == "新物流单号：顺丰速运 SF1（原：无）"
    with pytest.raises(InvalidChange, match="已关闭"):
        ticket(S.CLOSED).tracking_number_added("顺丰速运", "SF1", "无", "cli", NOW)


def test_the_rating_question_is_asked_once_for_an_unrated_ticket():
    assert rating_wanted("AS1", rated=False) is True
    assert rating_wanted("AS1", rated=True) is False
    assert rating_wanted("AS1", rated=False, already_asked=True) is False
    assert rating_wanted(None, rated=False) is False


# ---- one place for the state ----------------------------------------------------------------

SCANNED = ("bot", "actions", "channels", "scripts")
# where a ticket's status is written: the model, and the store that saves it onto the row
STATUS_WRITERS = {"bot/domain/tickets.py": "self.status", "bot/services/ticket_store.py": "ticket.status"}
# `.status` assignments that are not tickets'
NOT_TICKETS = {
    ("bot/services/handoffs.py", "handoff.status"),
    ("bot/messaging/inbound.py", "self.status"),
    ("channels/dialogue_api.py", "self.status"),
    ("bot/services/order_import.py", "order.status"),
}
# a new ticket row gets the status the model chose (bot.domain.tickets.opening_status)
TICKET_CONSTRUCTORS = {"bot/services/tickets.py"}


def status_writes(source: str, path: str):
    """`(path, what)` of every place `source` writes a `status` that may be a ticket's."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr == "status":
                    found.append((path, ast.unparse(part)))
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if (
                name == "setattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == "status"
            ):
                found.append((path, f"setattr({ast.unparse(node.args[0])}, 'status')"))
            keywords = {keyword.arg for keyword in node.keywords}
            if name == "Ticket" and "status" in keywords:
                found.append((path, "Ticket(status=...)"))
            if name.endswith(".values") and "status" in keywords and re.search(r"update\(\s*Ticket\b", name):
                found.append((path, "update(Ticket).values(status=...)"))
    if re.search(r"update\s+tickets\s+set", source, re.IGNORECASE):
        found.append((path, "UPDATE tickets SET"))
    return found


def test_the_status_checker_finds_what_it_is_for():
    snippet = (
        "ticket.status = 'open'\n"
        "row.status, other = 'closed', 1\n"
        "setattr(ticket, 'status', 'open')\n"
        "Ticket(ticket_number='AS1', status='open')\n"
        "session.execute(update(Ticket).where(Ticket.id == 1).values(status='closed'))\n"
        "session.execute(text('UPDATE tickets SET status = 1'))\n"
        "ticket.assignee = 'alice'\n"
    )
    assert [what for _, what in status_writes(snippet, "x.py")] == [
        "ticket.status",
        "row.status",
        "setattr(ticket, 'status')",
        "Ticket(status=...)",
        "update(Ticket).values(status=...)",
        "UPDATE tickets SET",
    ]


def test_no_code_but_the_model_and_its_store_writes_a_ticket_status():
    offending = []
    for folder in SCANNED:
        for file in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            path = file.relative_to(PROJECT_ROOT).as_posix()
            for where, what in status_writes(file.read_text(encoding="utf-8"), path):
                if STATUS_WRITERS.get(where) == what or (where, what) in NOT_TICKETS:
                    continue
                if what == "Ticket(status=...)" and where in TICKET_CONSTRUCTORS:
                    continue
                offending.append(f"{where}: {what}")
    assert offending == [], (
        "a ticket's status changes only in bot/domain/tickets.py (saved by bot/services/ticket_store.py); "
        f"move it there, or list a non-ticket `.status` in NOT_TICKETS: {offending}"
    )


@pytest.mark.parametrize(
    "module, must_not_load",
    [
        ("bot.services.handoffs", "bot.services.tickets"),
        ("bot.services.tickets", "bot.services.handoffs"),
        ("bot.domain.tickets", "sqlalchemy"),
        ("bot.domain.tickets", "rasa_sdk"),
        ("bot.domain.tickets", "rasa"),
        ("bot.domain.interchange", "sqlalchemy"),
        ("bot.domain.interchange", "rasa"),
    ],
)
def test_module_stands_alone(module, must_not_load):
    """tickets and handoffs do not import each other; the ticket and interchange models need no database or Rasa."""
    check = f"import sys, {module}; sys.exit(1 if any(m == {must_not_load!r} or m.startswith({must_not_load!r} + '.') for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", check], cwd=PROJECT_ROOT).returncode == 0, (
        f"{module} loads {must_not_load}"
    )


def test_actions_read_ticket_states_from_the_report_not_by_comparing_status_strings():
    """A status comparison in an adapter is a life-cycle rule outside its home: actions use
    `cases.TicketReport` properties (awaits_evidence, waits_for_a_remedy ...)."""
    comparisons = []
    for file in sorted((PROJECT_ROOT / "actions").rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                if any(isinstance(part, ast.Attribute) and part.attr == "status" for part in parts):
                    comparisons.append(
                        f"{file.relative_to(PROJECT_ROOT).as_posix()}:{node.lineno}: {ast.unparse(node)}"
                    )
    assert comparisons == []


def test_the_report_actions_get_says_what_the_ticket_waits_for():
    from bot.services.cases import TicketReport

    def report(status, chosen=None, offered=("return_refund", "exchange")):
        return TicketReport("AS1", status, chosen, None, offered)

    assert report("awaiting_evidence").awaits_evidence and not report("open").awaits_evidence
    assert report("open").waits_for_a_remedy
    assert not report("open", chosen="exchange").waits_for_a_remedy
    assert not report("open", offered=("reject",)).waits_for_a_remedy
    assert not report("with_agent").waits_for_a_remedy
