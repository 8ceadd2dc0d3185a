"""Promises kept: when a ticket moves on (a person sets its status in the console or with
`python -m bot tickets status`, or a new tracking number is set), the buyer is told through
their own channel, with the ticket number. This module says what to tell, records the new
tracking number, and makes the telling a handler of the ticket events (`notification_handlers`,
run once the change has committed); how a process reaches the buyer (`TellBuyer`) is chosen in
its composition root (bot/bootstrap.py): channels/agent_relay.py delivers it inside the Rasa
server (and marks it undelivered where the channel cannot push), bot/relay_client.py asks that
server over HTTP from the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

from sqlalchemy.orm import Session

from bot.db.tables import Ticket
from bot.domain.events import TicketStatusSet, TrackingNumberAdded
from bot.domain.vocabulary import TicketStatus
from bot.services import tickets
from bot.messagebus import Handlers
from bot.services.errors import InvalidChange

STATUS = "status"
TRACKING = "tracking"
UPDATES = (STATUS, TRACKING)
STATUS_RESPONSES = {status.value: f"utter_ticket_update_{status.value}" for status in TicketStatus}
TRACKING_RESPONSE = "utter_ticket_update_tracking"
MAX_TRACKING_CHARS = 64
MIN_TRACKING_NUMBER, MAX_TRACKING_NUMBER = 6, 40
# carriers' numbers: SF1234567890, 75312345678901, EA123456789CN, JDVA01234567890-1-1-
TRACKING_NUMBER = re.compile(rf"[A-Za-z0-9](?:[A-Za-z0-9-]{{{MIN_TRACKING_NUMBER - 1},{MAX_TRACKING_NUMBER - 1}}})")
CARRIER_NAME = re.compile(r"[\w\u4e00-\u9fff][\w\u4e00-\u9fff ()（）·&.-]*")

# (ticket number, STATUS or TRACKING) -> what came of it, for whoever made the change
TellBuyer = Callable[[str, str], Any]


@dataclass(frozen=True)
class Notice:
    """A domain.yml response for the buyer of one ticket's conversation."""

    ticket_number: str
    conversation_id: Optional[str]  # None: the ticket has no chat to write to
    response: str
    values: Dict[str, Any] = field(default_factory=dict)


def notice_for(ticket: Ticket, update: str) -> Notice:
    """What the buyer is told about `update` (STATUS: the ticket's current status; TRACKING:
    the order's current tracking number)."""
    values: Dict[str, Any] = {"ticket_number": ticket.ticket_number}
    if update == STATUS:
        response = STATUS_RESPONSES[ticket.status]
    elif update == TRACKING:
        order = ticket.order
        if order is None or not order.tracking_number:
            raise InvalidChange(f"工单 {ticket.ticket_number} 没有物流单号可以通知买家。")
        response = TRACKING_RESPONSE
        values.update(carrier=order.carrier or "", tracking_number=order.tracking_number)
    else:
        raise InvalidChange(f"未知的通知类型：{update}（可选：{'、'.join(UPDATES)}）。")
    return Notice(ticket.ticket_number, ticket.conversation_id, response, values)


def set_tracking(session: Session, ticket_number: str, carrier: str, tracking_number: str, actor: str) -> Ticket:
    """The new parcel of a ticket (a reship, an exchange sent out): the order's carrier and
    tracking number become these, and the ticket's audit trail says so."""
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidChange("请同时填写承运商和物流单号。")
    if len(carrier) > MAX_TRACKING_CHARS or len(tracking_number) > MAX_TRACKING_CHARS:
        raise InvalidChange(f"承运商和物流单号最多 {MAX_TRACKING_CHARS} 个字符。")
    if not CARRIER_NAME.fullmatch(carrier):
        raise InvalidChange(
            f"承运商「{carrier}」不像快递公司的名字：请填写如“顺丰速运”“中通快递”“EMS”，不要带换行或特殊符号。"
        )
    if not TRACKING_NUMBER.fullmatch(tracking_number):
        raise InvalidChange(
            f"物流单号「{tracking_number}」格式不对：只能包含字母、数字和短横线（-），"
            f"长度 {MIN_TRACKING_NUMBER}–{MAX_TRACKING_NUMBER} 位，中间不要有空格。请核对后重新输入。"
        )
    ticket = tickets.require_ticket(session, ticket_number)
    if ticket.order is None:
        raise InvalidChange(f"工单 {ticket.ticket_number} 没有关联订单，不能设置物流单号。")
    if (ticket.order.carrier, ticket.order.tracking_number) == (carrier, tracking_number):
        raise InvalidChange(f"订单的物流单号已经是 {carrier} {tracking_number}，没有变化，不会重复通知买家。")
    old = f"{ticket.order.carrier or ''} {ticket.order.tracking_number or ''}".strip() or "无"
    tickets.add_tracking_number(session, ticket, carrier, tracking_number, old, actor)
    ticket.order.carrier, ticket.order.tracking_number = carrier, tracking_number
    return ticket


def notification_handlers(tell_buyer: TellBuyer) -> Handlers:
    """The promises as handlers of the ticket events: a status a person set, a new tracking
    number. The moves the conversation makes itself are not announced again."""
    return {
        TicketStatusSet: [lambda event: tell_buyer(event.ticket_number, STATUS)],
        TrackingNumberAdded: [lambda event: tell_buyer(event.ticket_number, TRACKING)],
    }
