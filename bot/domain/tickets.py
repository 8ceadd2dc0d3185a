"""The ticket life cycle: THE place where a ticket changes state.

Every allowed status change is in `TICKET_TRANSITIONS` (drawn in docs/database.md), and every
move a ticket makes is a method of `TicketLifecycle`: evidence arrives, the buyer or the bot
chooses a remedy, a hand-over is asked for, an agent claims or returns the chat, an agent or
the CLI sets a status, the conversation is finished by an agent, a wrong ticket is withdrawn,
a tracking number is added. Each method checks the move against the rules, changes the
model and records what happened as domain events (bot/domain/events.py); a refused move
raises the services' error types, whose messages are Chinese and safe to show to staff.

Plain Python: no database, no Rasa. bot/services/ticket_store.py loads a `TicketLifecycle`
from a ticket row and saves it back (status, timestamps, remedy) with one `TicketEvent` audit
row per status or field change; no other code assigns a ticket's status
(tests/unit/test_ticket_lifecycle.py fails if some does).

In short: awaiting_evidence → open → (pending_buyer | with_agent) → resolved → closed, with
resolved → open to reopen and closed as the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from bot.domain.events import (
    DomainEvent,
    HandoffRequested,
    RemedyChosen,
    TicketChanged,
    TicketResolved,
    TicketStatusChanged,
    TicketStatusSet,
    TrackingNumberAdded,
)
from bot.domain.vocabulary import LABELS_ZH, Remedy, TicketStatus
from bot.services.errors import InvalidChange, InvalidTransition

TICKET_TRANSITIONS: Mapping[TicketStatus, frozenset] = {
    TicketStatus.AWAITING_EVIDENCE: frozenset({TicketStatus.OPEN, TicketStatus.WITH_AGENT, TicketStatus.CLOSED}),
    TicketStatus.OPEN: frozenset({TicketStatus.PENDING_BUYER, TicketStatus.WITH_AGENT, TicketStatus.RESOLVED}),
    TicketStatus.PENDING_BUYER: frozenset(
        {TicketStatus.OPEN, TicketStatus.WITH_AGENT, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.WITH_AGENT: frozenset({TicketStatus.OPEN, TicketStatus.PENDING_BUYER, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.OPEN}),
    TicketStatus.CLOSED: frozenset(),
}

# remedies that wait for the buyer to send the item back: choosing one moves an open ticket on
RETURNED_ITEM_REMEDIES = (Remedy.RETURN_REFUND.value, Remedy.EXCHANGE.value)
# a remedy that waits for the buyer (the item to come back, evidence to arrive) is still under way
UNDER_WAY_STATUSES = (TicketStatus.PENDING_BUYER.value, TicketStatus.AWAITING_EVIDENCE.value)
# the hand-over request moves a ticket the bot is working on to the agent
HANDED_OVER_FROM = (TicketStatus.OPEN, TicketStatus.PENDING_BUYER)
# a ticket nobody has touched yet (no agent, no return under way) may be withdrawn by the bot
WITHDRAWABLE = (TicketStatus.AWAITING_EVIDENCE, TicketStatus.OPEN, TicketStatus.PENDING_BUYER)

KEPT_OPEN = "kept_open"
CLOSED = "closed"


def allowed_transitions(status: Any) -> frozenset:
    return TICKET_TRANSITIONS[TicketStatus(_text(status))]


def opening_status(evidence_required: bool, evidence_given: bool) -> TicketStatus:
    """A ticket waits for evidence when the decision requires it and none came with it."""
    return TicketStatus.AWAITING_EVIDENCE if evidence_required and not evidence_given else TicketStatus.OPEN


def is_agent(actor: str) -> bool:
    return actor.startswith("agent:")


def rating_wanted(ticket_number: Optional[str], *, rated: bool, already_asked: bool = False) -> bool:
    """Whether to ask the buyer for the 1–5 score: the conversation was about a ticket, that
    ticket has no score yet, and the question is not already waiting for an answer. The bot's
    goodbye and an agent's "resolved" ask by this same rule."""
    return bool(ticket_number) and not rated and not already_asked


@dataclass
class TicketLifecycle:
    """One ticket's life-cycle state; the methods are the moves it may make."""

    ticket_number: str
    status: TicketStatus
    offered_remedies: Tuple[str, ...] = ()
    chosen_remedy: Optional[str] = None
    resolved_at: Optional[datetime] = None
    closed_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    events: List[DomainEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.status = TicketStatus(_text(self.status))
        self.offered_remedies = tuple(self.offered_remedies or ())

    # ---- the status ------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED

    def may_become(self, target: Any) -> bool:
        return TicketStatus(_text(target)) in TICKET_TRANSITIONS[self.status]

    def set_status(self, target: Any, actor: str, now: datetime, note: Optional[str] = None) -> bool:
        """Any allowed change (an agent in the console, the CLI, the bot's own moves); False when
        the ticket is already there. Anything else raises `InvalidTransition`."""
        target = TicketStatus(_text(target))
        if target == self.status:
            return False
        if target not in TICKET_TRANSITIONS[self.status]:
            allowed = tuple(
                _status_text(status) for status in TicketStatus if status in TICKET_TRANSITIONS[self.status]
            )
            raise InvalidTransition(self.ticket_number, _status_text(self.status), _status_text(target), allowed)
        current = self.status
        self.status = target
        self.updated_at = now
        if target == TicketStatus.RESOLVED:
            self.resolved_at = now
        elif target == TicketStatus.CLOSED:
            self.closed_at = now
        elif current == TicketStatus.RESOLVED:
            self.resolved_at = None  # reopened
        self._record(TicketStatusChanged(self.ticket_number, actor, now, current.value, target.value, note))
        if target == TicketStatus.RESOLVED:
            self._record(TicketResolved(self.ticket_number, actor, now))
        return True

    def set_status_by_person(self, target: Any, actor: str, now: datetime, note: Optional[str] = None) -> bool:
        """`set_status` asked for by a person (the console's status field, the CLI), which the
        buyer is promised to hear of (`TicketStatusSet`)."""
        if not self.set_status(target, actor, now, note):
            return False
        self._record(TicketStatusSet(self.ticket_number, actor, now, self.status.value))
        return True

    def _move_if_allowed(self, target: TicketStatus, actor: str, now: datetime, note: str) -> bool:
        return self.may_become(target) and self.set_status(target, actor, now, note)

    # ---- the moves -------------------------------------------------------------------------

    def evidence_added(self, actor: str, now: datetime) -> None:
        """A photo or video arrived: a ticket waiting for it opens, as the decision was only
        waiting for the evidence. A closed ticket takes no more evidence."""
        if self.is_closed:
            raise InvalidChange(f"工单 {self.ticket_number} 已关闭，不能再补充凭证。")
        if self.status == TicketStatus.AWAITING_EVIDENCE:
            self.set_status(TicketStatus.OPEN, actor, now, "已收到凭证")

    def require_changeable(self) -> None:
        if self.is_closed:
            raise InvalidChange(f"工单 {self.ticket_number} 已关闭，不能再修改。")

    def check_remedy(self, remedy: str, actor: str) -> str:
        """The bot may only pick a remedy the decision offered; an agent may pick any."""
        if remedy not in self.offered_remedies and not is_agent(actor):
            offered = "、".join(self.offered_remedies) or "无"
            raise InvalidChange(f"「{remedy}」不在工单 {self.ticket_number} 提供的方案中（可选：{offered}）。")
        return remedy

    def record_change(self, actor: str, now: datetime, details: Mapping[str, Any], note: Optional[str] = None) -> bool:
        """Fields changed (`{name: {"from": old, "to": new}}`) or a note alone; False when there is
        neither. Remedy changes must have passed `check_remedy`."""
        self.require_changeable()
        if not details and not note:
            return False
        if "chosen_remedy" in details:
            self.chosen_remedy = details["chosen_remedy"]["to"]
            self._record(RemedyChosen(self.ticket_number, actor, now, self.chosen_remedy))
        if "offered_remedies" in details:
            self.offered_remedies = tuple(details["offered_remedies"]["to"] or ())
        self.updated_at = now
        self._record(TicketChanged(self.ticket_number, actor, now, dict(details), note))
        return True

    def choose_remedy(self, remedy: str, actor: str, now: datetime) -> None:
        """The remedy is settled (the buyer picked it, or it was the only one): a return or an
        exchange on an open ticket then waits for the buyer to send the item back."""
        self.require_changeable()
        self.check_remedy(remedy, actor)
        if remedy != self.chosen_remedy:
            self.record_change(actor, now, {"chosen_remedy": {"from": self.chosen_remedy, "to": remedy}})
        if remedy in RETURNED_ITEM_REMEDIES and self.status == TicketStatus.OPEN:
            self.set_status(TicketStatus.PENDING_BUYER, actor, now, "等待买家寄回商品")

    def handoff_requested(self, reason: str, actor: str, now: datetime) -> None:
        """The chat is queued for a person: a ticket the bot was working on goes to the agent."""
        self._record(HandoffRequested(self.ticket_number, actor, now, reason))
        if self.status in HANDED_OVER_FROM:
            self.set_status(TicketStatus.WITH_AGENT, actor, now, f"转人工：{reason}")

    def claimed(self, actor: str, now: datetime) -> None:
        """An agent took the chat: the ticket is with them, if it may be."""
        self._move_if_allowed(TicketStatus.WITH_AGENT, actor, now, "人工客服接手")

    def returned_to_bot(self, actor: str, now: datetime) -> None:
        """The chat went back to the bot: a ticket that was with the agent is open again."""
        if self.status == TicketStatus.WITH_AGENT:
            self.set_status(TicketStatus.OPEN, actor, now, "人工客服交还机器人")

    def withdraw(self, reason: str, actor: str, now: datetime) -> bool:
        """A ticket opened on what the buyer then said was the wrong order: closed, if nobody has
        touched it yet. False when it may not be withdrawn."""
        if self.status not in WITHDRAWABLE:
            return False
        if self.status == TicketStatus.OPEN:
            self.set_status(TicketStatus.RESOLVED, actor, now, reason)
        self.set_status(TicketStatus.CLOSED, actor, now, reason)
        return True

    def finish_with_agent(self, actor: str, now: datetime, *, under_way: bool, keep_under_way: bool) -> Optional[str]:
        """An agent ends the conversation: the ticket is resolved and closed. A remedy still under
        way (`under_way`: waiting for the buyer now, or when the agent took the chat) is kept open
        if the agent chose so, else closed as unfinished. Returns KEPT_OPEN, CLOSED, or None for
        a ticket that was closed already."""
        if under_way and keep_under_way:
            if self.status == TicketStatus.WITH_AGENT:
                self.set_status(TicketStatus.PENDING_BUYER, actor, now, "人工客服结束接待，方案继续进行")
            return KEPT_OPEN
        if self.status.value in UNDER_WAY_STATUSES:
            self.set_status(TicketStatus.CLOSED, actor, now, "人工客服确认后关闭（方案未完成）")
            return CLOSED
        if self.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            self.set_status(
                TicketStatus.RESOLVED, actor, now, "人工客服确认后关闭（方案未完成）" if under_way else "人工客服已解决"
            )
        if self.status == TicketStatus.RESOLVED:
            self.set_status(TicketStatus.CLOSED, actor, now, "人工客服结束会话")
            return CLOSED
        return None

    def tracking_number_added(
        self, carrier: str, tracking_number: str, previous: str, actor: str, now: datetime
    ) -> None:
        """A new parcel for the ticket (a reship, an exchange sent out)."""
        self.require_changeable()
        self._record(TrackingNumberAdded(self.ticket_number, actor, now, carrier, tracking_number))
        self.record_change(actor, now, {}, f"新物流单号：{carrier} {tracking_number}（原：{previous}）")

    # ---- events ----------------------------------------------------------------------------

    def _record(self, event: DomainEvent) -> None:
        self.events.append(event)

    def collect_events(self) -> Sequence[DomainEvent]:
        """The events recorded since the last call, oldest first."""
        events, self.events = list(self.events), []
        return events


def _status_text(status: TicketStatus) -> str:
    return f"{LABELS_ZH['ticket_status'][status]} {status.value}"


def _text(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)
