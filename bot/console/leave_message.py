"""When nobody can take a chat: outside the shop's office hours, or with no agent signed in to
the console. The buyer who asks for a person is told so (with the hours) and may leave a
message; the message becomes a ticket in the console's workspace, and later messages are
added to it, so nothing the buyer says in the meantime is lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy.orm import Session

from bot.console import waiting
from bot.db.types import utcnow
from bot.domain.vocabulary import ComplaintCategory
from bot.policy import PolicyConfig
from bot.services import handoffs, orders, tickets
from bot.services.clock import shop_zone

OUT_OF_HOURS = "out_of_hours"
NOBODY_ONLINE = "nobody_online"
MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class Availability:
    agents_online: int
    in_office_hours: bool
    office_hours: str  # as buyers read it: 「每天 09:00–21:00」

    @property
    def unavailable(self) -> Optional[str]:
        """None when someone can take the chat, else why not. An agent signed in outside the
        hours does take it: telling the buyer that nobody is there would be untrue."""
        if self.agents_online:
            return None
        return NOBODY_ONLINE if self.in_office_hours else OUT_OF_HOURS


def availability(session: Session, policy: PolicyConfig, *, now: Optional[datetime] = None) -> Availability:
    now = now or utcnow()
    return Availability(
        agents_online=waiting.agents_online(session, now),
        in_office_hours=policy.office_hours.is_open(now, shop_zone()),
        office_hours=policy.office_hours.describe(),
    )


@dataclass(frozen=True)
class LeftMessage:
    ticket_number: str
    created: bool  # a new ticket (False: added to the ticket the chat already had)


def take_message(
    session: Session,
    conversation_id: str,
    text: str,
    policy: PolicyConfig,
    *,
    channel: Optional[str] = None,
    order_number: Optional[str] = None,
    now: Optional[datetime] = None,
    can_push: bool = True,
) -> Optional[LeftMessage]:
    """What a buyer writes while waiting in the queue with nobody to answer becomes a ticket
    (or is added to the chat's ticket). None when this is not such a message: the chat is not
    waiting, or an agent is online (the agent reads it in the console). A buyer whose channel
    cannot be written to later (`can_push=False`) leaves the queue with the message: the
    ticket is what agents work, and the buyer asks the bot for its progress."""
    now = now or utcnow()
    text = (text or "").strip()[:MAX_MESSAGE_CHARS]
    handoff = handoffs.active_handoff(session, conversation_id)
    if not text or handoff is None or handoff.status != handoffs.HandoffStatus.WAITING.value:
        return None
    if availability(session, policy, now=now).unavailable is None:
        return None
    ticket = handoff.ticket
    if ticket is not None and tickets.is_active(ticket):
        tickets.update_ticket(session, ticket, "bot", note=f"买家留言：{text}", now=now)
        left = LeftMessage(ticket.ticket_number, created=False)
    else:
        left = _new_ticket(session, handoff, conversation_id, text, policy, channel, order_number, now)
    if not can_push:
        handoffs.return_handoff(
            session, handoff.id, note=f"买家的渠道收不到主动回复，留言已记入工单 {left.ticket_number}", now=now
        )
    return left


def _new_ticket(
    session: Session,
    handoff,
    conversation_id: str,
    text: str,
    policy: PolicyConfig,
    channel: Optional[str],
    order_number: Optional[str],
    now: datetime,
) -> LeftMessage:
    order = orders.find_order(session, order_number) if order_number else None
    ticket, created = tickets.open_ticket(
        session,
        order=order,
        category=ComplaintCategory.MESSAGE.value,
        conversation_id=conversation_id,
        channel=channel or handoff.channel,
        description=text,
        decision=tickets.TicketDecision(
            priority=handoff.priority,
            first_response_due=now + timedelta(hours=policy.first_response_hours),
            resolution_due=now + timedelta(days=policy.resolution_days),
        ),
        now=now,
        zone=shop_zone(),
    )
    if not created:
        tickets.update_ticket(session, ticket, "bot", note=f"买家留言：{text}", now=now)
    handoff.ticket = ticket
    return LeftMessage(ticket.ticket_number, created=created)
