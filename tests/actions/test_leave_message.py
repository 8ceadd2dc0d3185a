"""Office hours and leaving a message: a buyer who asks for a person when nobody can answer
(outside the shop's office hours, or with no agent signed in) is told so with the hours and
no invented wait; what they write next becomes a ticket the console's workspace lists, and
later messages are added to it. Real actions, real migrated database, the real policy file
edited as a shop would edit it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from actions import runtime
from actions.handoff import ActionHandoff
from bot import bootstrap
from bot.config import PROJECT_ROOT
from bot.console import accounts, views, leave_message
from bot.policy import load_policy
from bot.services.clock import shop_zone
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_PHONE_LAST4, handoffs_of, template_values, tickets_of
from tests.actions.flows import decided_quality_case

pytestmark = pytest.mark.usefixtures("database_url")

ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]


def use_office_hours(tmp_path: Path, monkeypatch, hours) -> None:
    """The actions read a copy of shop/policy.yml with these office hours."""
    data = yaml.safe_load((PROJECT_ROOT / "shop" / "policy.yml").read_text(encoding="utf-8"))
    data["handoff"]["office_hours"] = hours
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    bootstrap.install(dataclasses.replace(bootstrap.current(), policy=load_policy(path)))


def closed_today(tmp_path, monkeypatch) -> str:
    """Office hours on every day but today (in the shop's zone): closed now, whatever the time."""
    today = datetime.now(shop_zone()).isoweekday()
    use_office_hours(
        tmp_path, monkeypatch, {"days": [d for d in ALL_DAYS if d != today], "open": "09:00", "close": "18:00"}
    )
    return runtime.policy().office_hours.describe()


def open_all_day(tmp_path, monkeypatch) -> None:
    use_office_hours(tmp_path, monkeypatch, {"days": ALL_DAYS, "open": "00:00", "close": "23:59"})


def test_out_of_hours_the_buyer_hears_the_hours_and_a_message_becomes_a_ticket(conversation, db, tmp_path, monkeypatch):
    hours = closed_today(tmp_path, monkeypatch)
    chat = conversation()
    chat.user("转人工", "request_human", channel="webchat")
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_handoff_out_of_hours"]
    values = template_values(turn.message("utter_handoff_out_of_hours"))
    assert values["office_hours"] == hours and "wait_minutes" not in values
    assert turn.events[-1]["event"] == "pause"

    with db() as session:
        left = leave_message.take_message(session, chat.sender_id, "耳机右边没声音，麻烦上班后联系我", runtime.policy())
        assert left.created
        [ticket] = tickets_of(session, chat.sender_id)
        assert (ticket.ticket_number, ticket.category, ticket.order_id) == (left.ticket_number, "message", None)
        assert ticket.description == "耳机右边没声音，麻烦上班后联系我" and ticket.channel == "webchat"
        assert ticket.first_response_due is not None and ticket.status == "open"
        [handoff] = handoffs_of(session, chat.sender_id)
        assert handoff.ticket_id == ticket.id and handoff.status == "waiting"  # agents find the chat when they come

    with db() as session:  # a second message goes onto the same ticket
        again = leave_message.take_message(session, chat.sender_id, "订单号是 6201458839270153", runtime.policy())
        assert (again.ticket_number, again.created) == (left.ticket_number, False)
        [ticket] = tickets_of(session, chat.sender_id)
        assert any("买家留言：订单号是 6201458839270153" in (event.note or "") for event in ticket.events)

    with db() as session:  # the console's workspace lists it, with its Chinese category and no order
        accounts.create_agent(session, "zhou", "zhou-password-1")
        zhou = accounts.SignedInAgent.of(
            session.execute(accounts.select(accounts.Agent).where(accounts.Agent.username == "zhou")).scalar_one()
        )
        listed = views.ticket_list(session, {"q": left.ticket_number}, zhou)
        [row] = listed["tickets"]
        assert (row["ticket_number"], row["category_label"], row["order_number"]) == (
            left.ticket_number,
            "买家留言",
            None,
        )
        page = views.ticket_page(session, left.ticket_number)
        assert page["order"] is None and page["description"] == "耳机右边没声音，麻烦上班后联系我"


def test_in_hours_with_nobody_online_the_buyer_may_leave_a_message(conversation, db, tmp_path, monkeypatch):
    open_all_day(tmp_path, monkeypatch)
    chat = conversation()
    chat.user("我要找人工", "request_human", channel="wechat")
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_handoff_nobody_online_leave_message"]
    assert (
        template_values(turn.message("utter_handoff_nobody_online_leave_message"))["office_hours"] == "每天 00:00–23:59"
    )
    with db() as session:
        left = leave_message.take_message(
            session, chat.sender_id, "快递一直没到", runtime.policy(), order_number=OWN_ORDER
        )
        [ticket] = tickets_of(session, chat.sender_id)
        assert ticket.ticket_number == left.ticket_number and ticket.order.order_number == OWN_ORDER
        assert ticket.channel == "wechat"  # the hand-over's channel


def test_an_agent_online_out_of_hours_takes_the_chat_with_an_honest_wait(
    conversation, db, agent_online, tmp_path, monkeypatch
):
    closed_today(tmp_path, monkeypatch)
    chat = conversation()
    chat.user("转人工", "request_human")
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_handoff"]
    assert template_values(turn.message("utter_handoff"))["wait_minutes"] == 3
    with db() as session:  # the agent reads what the buyer writes: it is not taken as a message
        assert leave_message.take_message(session, chat.sender_id, "耳机坏了", runtime.policy()) is None
        assert tickets_of(session, chat.sender_id) == []


def test_a_message_after_a_case_goes_onto_the_case_ticket(conversation, db, tmp_path, monkeypatch):
    closed_today(tmp_path, monkeypatch)
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4)
    chat.user("转人工", "request_human")
    assert chat.run(ActionHandoff()).responses == ["utter_handoff_out_of_hours"]
    with db() as session:
        [case_ticket] = tickets_of(session, chat.sender_id)
        left = leave_message.take_message(session, chat.sender_id, "我想换一个新的", runtime.policy())
        assert (left.ticket_number, left.created) == (case_ticket.ticket_number, False)
        assert len(tickets_of(session, chat.sender_id)) == 1


def test_nothing_is_taken_when_the_chat_is_not_waiting(conversation, db, tmp_path, monkeypatch):
    closed_today(tmp_path, monkeypatch)
    chat = conversation()
    with db() as session:
        assert leave_message.take_message(session, chat.sender_id, "你好", runtime.policy()) is None
        assert tickets_of(session, chat.sender_id) == []


@pytest.mark.parametrize("closed", [True, False])
def test_a_rest_buyer_is_told_the_answer_will_not_be_pushed_and_leaves_the_queue_with_the_message(
    conversation, db, tmp_path, monkeypatch, closed
):
    hours = closed_today(tmp_path, monkeypatch) if closed else open_all_day(tmp_path, monkeypatch)
    chat = conversation()
    chat.user("转人工", "request_human", channel="rest")
    turn = chat.run(ActionHandoff())
    response = "utter_handoff_out_of_hours_no_push" if closed else "utter_handoff_nobody_online_leave_message_no_push"
    assert turn.responses == [response]
    if closed:
        assert template_values(turn.message(response))["office_hours"] == hours
    with db() as session:
        left = leave_message.take_message(
            session, chat.sender_id, "快递没收到", runtime.policy(), channel="rest", can_push=False
        )
        [ticket] = tickets_of(session, chat.sender_id)
        assert ticket.ticket_number == left.ticket_number and ticket.channel == "rest" and ticket.status == "open"
        # nobody could answer in that chat: the ticket is what agents work; the bot may answer again
        [handoff] = handoffs_of(session, chat.sender_id)
        assert handoff.status == "returned" and handoff.ticket_id == ticket.id and left.ticket_number in handoff.note
