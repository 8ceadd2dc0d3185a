"""What happened to a ticket, as the ticket model (bot/domain/tickets.py) records it.

The services persist these: a status change or a field change becomes one `TicketEvent` audit
row; the others say what the change means (a hand-over was asked for, a ticket was resolved)
for whoever reacts to it. Once the transaction that saved them commits, the process's message
bus (bot/messagebus.py, its handlers chosen in bot/bootstrap.py) hands them to those handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class DomainEvent:
    ticket_number: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class TicketStatusChanged(DomainEvent):
    from_status: str
    to_status: str
    note: Optional[str] = None


@dataclass(frozen=True)
class TicketStatusSet(DomainEvent):
    """A person set the status (an agent in the console, staff with `python -m bot tickets
    status`): the buyer is told of it. The moves the conversation makes (a hand-over, the
    evidence arriving) record only `TicketStatusChanged`; the bot says those itself."""

    to_status: str


@dataclass(frozen=True)
class TicketChanged(DomainEvent):
    """Fields changed (`{name: {"from": old, "to": new}}`), or a note alone."""

    details: Mapping[str, Any] = field(default_factory=dict)
    note: Optional[str] = None


@dataclass(frozen=True)
class RemedyChosen(DomainEvent):
    remedy: Optional[str]


@dataclass(frozen=True)
class HandoffRequested(DomainEvent):
    reason: str


@dataclass(frozen=True)
class TicketResolved(DomainEvent):
    pass


@dataclass(frozen=True)
class TrackingNumberAdded(DomainEvent):
    carrier: str
    tracking_number: str
