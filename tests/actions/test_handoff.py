"""action_handoff (the queue for human agents) and action_clarify (asking again)."""

from __future__ import annotations

import pytest

from actions.handoff import ActionClarify, ActionHandoff
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_PHONE_LAST4, handoffs_of, template_values, tickets_of
from tests.actions.flows import decided_quality_case

# an agent is online: the hand-over quotes a wait (without one: tests/actions/test_leave_message.py)
pytestmark = pytest.mark.usefixtures("database_url", "agent_online")

ANGRY = "气死我了，我要去12315投诉你们！！！"


def ends_paused(turn) -> None:
    assert turn.events[-1]["event"] == "pause"
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in turn.events]
    slots = turn.slots_set()
    assert slots["requested_slot"] is None and slots["pending_task"] is None and slots["awaiting_reply"] is None


def test_an_angry_buyer_is_queued_with_high_priority_and_an_apology(conversation, db):
    chat = conversation()
    chat.user(ANGRY, "complain_service", channel="telegram")
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_sorry_for_the_trouble", "utter_handoff"]
    assert template_values(turn.message("utter_handoff"))["wait_minutes"] == 3  # 1 waiting chat × 3 min
    ends_paused(turn)
    with db() as session:
        [handoff] = handoffs_of(session, chat.sender_id)
        assert (handoff.reason, handoff.priority, handoff.status) == ("buyer_upset", "high", "waiting")
        assert handoff.channel == "telegram"
        assert handoff.ticket_id is None


def test_an_abusive_buyer_is_queued_as_abusive(conversation, db):
    chat = conversation()
    chat.user("你们这群骗子，垃圾店", "complain_service")
    turn = chat.run(ActionHandoff())
    assert turn.responses[0] == "utter_sorry_for_the_trouble"
    with db() as session:
        [handoff] = handoffs_of(session, chat.sender_id)
        assert (handoff.reason, handoff.priority) == ("buyer_abusive", "high")


def test_rejecting_the_decision_hands_over_with_the_ticket(conversation, db):
    chat = conversation()
    decided = decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4)
    assert decided.slots_set()["awaiting_reply"] == "remedy_choice"
    chat.user("不行，我都不要", "deny")
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_decision_rejected_by_buyer", "utter_handoff"]
    ends_paused(turn)
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        [handoff] = handoffs_of(session, chat.sender_id)
        assert handoff.reason == "buyer_rejected_decision"
        assert handoff.ticket_id == ticket.id
        assert handoff.priority == ticket.priority == "normal"
        assert ticket.status == "with_agent"


def test_a_plain_no_outside_the_remedy_choice_is_not_a_rejection(conversation, db):
    chat = conversation()
    chat.user("不是", "deny")
    chat.run(ActionHandoff())
    with db() as session:
        assert handoffs_of(session, chat.sender_id)[0].reason == "other"


def test_an_escalating_decision_hands_over_as_policy_escalation(conversation, db):
    chat = conversation()
    decided = decided_quality_case(chat, "6632904718832147", "4428", "counterfeit", text="这是假货")
    assert decided.slots_set()["pending_task"] == "handoff"
    turn = chat.run(ActionHandoff())
    assert turn.responses == ["utter_handoff"]
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        [handoff] = handoffs_of(session, chat.sender_id)
        assert (handoff.reason, handoff.priority, handoff.ticket_id) == ("policy_escalation", "urgent", ticket.id)
        assert ticket.status == "with_agent"


def test_asking_for_a_person_twice_queues_once(conversation, db):
    chat = conversation()
    chat.user("我要转人工", "request_human", channel="wechat")
    first = chat.run(ActionHandoff())
    assert first.responses == ["utter_handoff"]
    chat.user("人呢？转人工", "request_human", channel="wechat")
    again = chat.run(ActionHandoff())
    assert again.responses == ["utter_handoff_already"]
    ends_paused(again)
    with db() as session:
        [handoff] = handoffs_of(session, chat.sender_id)
        assert (handoff.reason, handoff.priority, handoff.channel) == ("buyer_request", "normal", "wechat")


def test_the_wait_grows_with_the_queue(conversation):
    waits = []
    for _ in range(3):
        chat = conversation()
        chat.user("转人工", "request_human")
        waits.append(template_values(chat.run(ActionHandoff()).message("utter_handoff"))["wait_minutes"])
    assert waits == [3, 6, 9]


def test_first_miss_asks_again_and_second_miss_in_a_row_hands_over(conversation, db):
    chat = conversation()
    chat.user("嗯嗯那个啥", "nlu_fallback", confidence=0.2)
    first = chat.run(ActionClarify())
    assert first.responses == ["utter_clarify"]
    assert first.events == []

    chat.user("就是那个东西啊", "nlu_fallback", confidence=0.2)
    second = chat.run(ActionClarify())
    assert second.messages == []
    assert [(event["event"], event["name"]) for event in second.events] == [("followup", "action_handoff")]
    handed = chat.run(ActionHandoff())
    assert handed.responses == ["utter_handoff"]
    with db() as session:
        assert handoffs_of(session, chat.sender_id)[0].reason == "not_understood"


def test_a_miss_after_an_understood_message_only_asks_again(conversation):
    chat = conversation()
    chat.user("嗯嗯那个啥", "nlu_fallback", confidence=0.2)
    chat.run(ActionClarify())
    chat.user("你好", "greet")
    chat.action("utter_greet")
    chat.user("啊吧啊吧", "nlu_fallback", confidence=0.2)
    assert chat.run(ActionClarify()).responses == ["utter_clarify"]


@pytest.mark.parametrize(
    "form, requested",
    [("verify_order_form", "phone_last4"), ("case_form", "evidence"), ("verify_order_form", "item_sku")],
)
def test_inside_a_form_only_the_misunderstanding_is_said(conversation, form, requested):
    """The form asks its open question again itself, right after: asking it here too put the
    same question twice into one reply."""
    chat = conversation()
    chat.action(form).loop(form).slot("requested_slot", requested)
    chat.user("啊吧啊吧", "nlu_fallback", confidence=0.2)
    turn = chat.run(ActionClarify())
    assert turn.responses == ["utter_clarify_in_form"]
    assert turn.events == []  # the form goes on with the next answer


def test_the_second_misunderstanding_in_a_row_goes_to_a_person_also_inside_a_form(conversation):
    chat = conversation()
    chat.action("case_form").loop("case_form").slot("requested_slot", "sub_issue")
    chat.user("嗯嗯", "inform", confidence=0.5)
    chat.run(ActionClarify())
    chat.action("action_listen")
    chat.user("啊", "inform", confidence=0.5)  # no fallback intent: the form just could not use it
    turn = chat.run(ActionClarify())
    assert [event.get("name") for event in turn.events if event.get("event") == "followup"] == ["action_handoff"]


def test_decided_this_turn_is_only_the_current_turn(conversation, db):
    chat = conversation()
    decided_quality_case(chat, "6632904718832147", "4428", "counterfeit", text="这是假货")
    chat.user("我要找人工", "request_human")
    chat.run(ActionHandoff())
    with db() as session:
        assert handoffs_of(session, chat.sender_id)[0].reason == "buyer_request"
