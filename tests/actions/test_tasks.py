"""action_start_task, action_continue_task and action_cancel_task."""

from __future__ import annotations

import pytest

from actions.tasks import CASE_SLOTS, ActionCancelTask, ActionContinueTask, ActionStartTask
from tests.actions.conftest import IN_TRANSIT_ORDER, OWN_ORDER, OWN_ORDER_PHONE_LAST4, template_values
from tests.actions.flows import decided_quality_case

pytestmark = pytest.mark.usefixtures("database_url")

LOST_ORDER = "8806142957731308"
NOT_SHIPPED_ORDER = "7065291384470285"


@pytest.mark.parametrize(
    "intent, task, category",
    [
        ("complain_quality", "case", "quality"),
        ("complain_logistics", "case", "logistics"),
        ("complain_service", "case", "service"),
        ("request_return", "case", "no_reason"),
        ("request_repair", "case", "quality"),
        ("request_exchange", "case", None),
        ("ask_order_status", "order_status", None),
        ("change_address", "change_address", None),
        ("ask_ticket_status", "ticket_status", None),
    ],
)
def test_the_intent_names_the_task(conversation, intent, task, category):
    chat = conversation()
    chat.user("……", intent)
    turn = chat.run(ActionStartTask())
    assert turn.slots_set()["pending_task"] == task
    slots = chat.current_slots()
    assert slots.get("complaint_category") == category
    if task == "case":
        assert all(slots.get(name) is None for name in CASE_SLOTS if name != "complaint_category")
    assert not slots.get("order_verified") and slots.get("order_number") is None


def test_a_new_task_forgets_the_category_of_the_previous_case(conversation):
    chat = conversation()
    chat.slots(complaint_category="service")
    chat.user("我想换货", "request_exchange")
    chat.run(ActionStartTask())
    assert chat.current_slots().get("complaint_category") is None  # asked afresh, not a service case


def test_a_fresh_task_clears_only_what_was_set(conversation):
    """Clearing a slot that is empty would hand the order form a 'value' nobody typed."""
    chat = conversation()
    chat.user("查物流", "ask_order_status")
    turn = chat.run(ActionStartTask())
    assert turn.slots_set() == {"pending_task": "order_status"}


def test_a_new_case_forgets_the_previous_case_but_keeps_what_this_message_said(conversation):
    chat = conversation()
    chat.slots(
        sub_issue="delay",
        case_ticket_number="AS202611200001",
        offered_remedies=["reship"],
        awaiting_reply="remedy_choice",
        order_number=OWN_ORDER,
        order_verified=True,
        verified_order_number=OWN_ORDER,
        verified_orders=[OWN_ORDER],
    )
    chat.user(
        f"订单{OWN_ORDER}的耳机坏了",
        "complain_quality",
        entities=[{"entity": "order_number", "value": OWN_ORDER}, {"entity": "sub_issue", "value": "defect"}],
        slots={"order_number": OWN_ORDER, "sub_issue": "defect"},
    )
    turn = chat.run(ActionStartTask())
    slots = turn.slots_set()
    assert "sub_issue" not in slots and "order_number" not in slots  # said in this very message
    assert slots["case_ticket_number"] is None and slots["awaiting_reply"] is None and slots["offered_remedies"] is None
    assert slots["order_verified"] is False  # a task always names its order again
    current = chat.current_slots()
    assert current["sub_issue"] == "defect" and current["order_number"] == OWN_ORDER
    assert current["verified_orders"] == [OWN_ORDER]  # so the phone question is skipped for it


def test_an_inform_with_a_runner_up_intent_starts_that_task(conversation):
    chat = conversation()
    chat.user(
        IN_TRANSIT_ORDER,
        "inform",
        ranking=[("ask_order_status", 0.31), ("greet", 0.05)],
        entities=[{"entity": "order_number", "value": IN_TRANSIT_ORDER}],
        slots={"order_number": IN_TRANSIT_ORDER},
    )
    assert chat.run(ActionStartTask()).slots_set()["pending_task"] == "order_status"

    weak = conversation()
    weak.user(IN_TRANSIT_ORDER, "inform", ranking=[("ask_order_status", 0.05)])
    assert weak.run(ActionStartTask()).slots_set()["pending_task"] == "case"


def test_a_ticket_number_alone_asks_about_that_ticket(conversation):
    chat = conversation()
    chat.user("AS202611200001", "inform", slots={"ticket_number": "AS202611200001"})
    assert chat.run(ActionStartTask()).slots_set()["pending_task"] == "ticket_status"


def continued(conversation, task, order_number, **slots):
    chat = conversation()
    chat.slots(
        pending_task=task, order_number=order_number, order_verified=True, verified_order_number=order_number, **slots
    )
    chat.action("verify_order_form").loop(None).slot("requested_slot", None)
    return chat, chat.run(ActionContinueTask())


def test_where_is_my_parcel_shows_the_tracking_and_follows_up_a_late_parcel(conversation):
    chat, turn = continued(conversation, "order_status", IN_TRANSIT_ORDER)
    assert turn.responses == ["utter_tracking_status"]
    values = template_values(turn.messages[0])
    assert values["order_number_masked"] == "3390****6108"
    assert values["carrier"] and values["tracking_number"]
    assert values["tracking_lines"].count("\n") >= 1
    assert turn.slots_set() == {
        "pending_task": "case",
        "complaint_category": "logistics",
        "sub_issue": "delay",
        "last_task": "order_status",
    }


@pytest.mark.parametrize("order_number, sub_issue", [(LOST_ORDER, "lost"), (NOT_SHIPPED_ORDER, "not_shipped")])
def test_parcels_not_delivered_lead_to_the_logistics_rules(conversation, order_number, sub_issue):
    chat, turn = continued(conversation, "order_status", order_number)
    assert turn.responses[0] in ("utter_tracking_status", "utter_tracking_none")
    assert turn.slots_set()["sub_issue"] == sub_issue


def test_a_delivered_parcel_ends_the_task(conversation):
    chat, turn = continued(conversation, "order_status", OWN_ORDER)
    assert turn.responses == ["utter_tracking_status"]
    assert turn.slots_set() == {"pending_task": None, "last_task": "order_status"}


def test_an_address_change_becomes_a_logistics_case(conversation):
    chat, turn = continued(conversation, "change_address", NOT_SHIPPED_ORDER)
    assert turn.messages == []
    assert turn.slots_set() == {
        "pending_task": "case",
        "sub_issue": "address_change",
        "complaint_category": "logistics",
        "last_task": "case",
    }


def test_a_case_goes_on_to_the_case_form(conversation):
    chat, turn = continued(conversation, "case", OWN_ORDER)
    assert turn.slots_set() == {"last_task": "case"} and turn.messages == []


def test_ticket_status_of_an_order_without_tickets(conversation):
    chat, turn = continued(conversation, "ticket_status", OWN_ORDER)
    assert turn.responses == ["utter_no_tickets_for_order"]
    assert turn.slots_set() == {"pending_task": None, "last_task": "ticket_status"}


def test_asked_again_about_an_order_without_tickets_the_buyer_is_offered_a_person(conversation):
    """The same answer twice helps nobody: the ticket may be in another channel or under another order."""
    chat, first = continued(conversation, "ticket_status", OWN_ORDER)
    # what Rasa records for the response the action sent (BotUttered with the response's name)
    chat.events.append({"event": "bot", "text": "…", "metadata": {"utter_action": first.responses[0]}})
    chat.user("我之前反馈的问题处理得怎么样了", "ask_ticket_status")
    chat.slots(pending_task="ticket_status")
    again = chat.run(ActionContinueTask())
    assert again.responses == ["utter_no_tickets_offer_person"]
    assert again.messages[0]["response"] == "utter_no_tickets_offer_person"


def test_ticket_status_by_order_and_by_ticket_number(conversation, domain):
    opened = conversation()
    number = decided_quality_case(opened, OWN_ORDER, OWN_ORDER_PHONE_LAST4).slots_set()["case_ticket_number"]

    chat, by_order = continued(conversation, "ticket_status", OWN_ORDER)
    assert by_order.responses == ["utter_ticket_status_open"]
    values = template_values(by_order.messages[0])
    assert values["ticket_number"] == number
    assert values["remedy_label"] == domain["responses"]["utter_label_remedy_none"][0]["text"]
    assert "月" in values["resolution_due"]

    chat = conversation()
    chat.slots(
        pending_task="ticket_status",
        ticket_number=number,
        order_verified=True,
        verified_order_number=OWN_ORDER,
        verified_orders=[OWN_ORDER],
    )
    by_number = chat.run(ActionContinueTask())
    assert by_number.responses == ["utter_ticket_status_open"]
    assert template_values(by_number.messages[0])["ticket_number"] == number

    # the same number in a chat that proved another order (or none) is answered as unknown
    for proven in ([], ["6209990000000001"]):
        chat = conversation()
        chat.slots(pending_task="ticket_status", ticket_number=number, verified_orders=proven)
        assert chat.run(ActionContinueTask()).responses == ["utter_ticket_not_found"]


def test_an_unknown_ticket_number_is_said_so(conversation):
    chat = conversation()
    chat.slots(pending_task="ticket_status", ticket_number="AS209901010001")
    turn = chat.run(ActionContinueTask())
    assert turn.responses == ["utter_ticket_not_found"]
    assert template_values(turn.messages[0])["ticket_number"] == "AS209901010001"
    assert turn.slots_set() == {"ticket_number": None, "pending_task": None, "last_task": "ticket_status"}


def test_nothing_pending_asks_what_else(conversation):
    chat = conversation()
    turn = chat.run(ActionContinueTask())
    assert turn.responses == ["utter_anything_else"]


def test_cancel_stops_the_form_and_forgets_the_case(conversation):
    chat = conversation()
    chat.user("耳机坏了", "complain_quality")
    chat.run(ActionStartTask())
    chat.loop("case_form").slots(requested_slot="evidence", sub_issue="defect", description="左耳没声音")
    chat.user("算了不弄了", "deny")
    turn = chat.run(ActionCancelTask())
    assert turn.responses == ["utter_cancelled"]
    assert {"event": "active_loop", "name": None} in [
        {key: event.get(key) for key in ("event", "name")} for event in turn.events
    ]
    slots = turn.slots_set()
    assert slots["requested_slot"] is None and slots["pending_task"] is None
    assert all(slots[name] is None for name in CASE_SLOTS)
    assert chat.active_loop_name() is None


def test_a_message_naming_a_ticket_asks_about_that_ticket_whatever_it_reads_like(conversation):
    chat = conversation()
    chat.user(
        "售后单AS202612070001补发安排了没",
        "complain_logistics",
        entities=[{"entity": "ticket_number", "value": "AS202612070001"}],
        slots={"ticket_number": "AS202612070001"},
    )
    assert chat.run(ActionStartTask()).slots_set()["pending_task"] == "ticket_status"
