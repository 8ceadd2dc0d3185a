"""verify_order_form: order number, last 4 phone digits, the item; signed identities; asking."""

from __future__ import annotations

import json

import pytest

from actions.evidence import ValidateSlotMappings
from actions.tasks import ActionContinueTask, ActionStartTask
from actions.verification import ActionAskItemSku, ActionAskOrderNumber, ValidateVerifyOrderForm
from tests.actions.conftest import (
    OWN_ORDER,
    OWN_ORDER_CUSTOMER,
    OWN_ORDER_PHONE_LAST4,
    TWO_ITEM_ORDER,
    TWO_ITEM_ORDER_PHONE_LAST4,
    template_values,
)

pytestmark = pytest.mark.usefixtures("database_url")

OWN_ORDER_PHONE = "13957214086"


def complaint_started(conversation, *, channel="webchat", metadata=None, customer_id=None):
    """The buyer complained ("耳机坏了"), the task started and the form asks for the order number."""
    chat = conversation()
    chat.user("我买的耳机坏了", "complain_quality", channel=channel, metadata=metadata)
    if customer_id:
        chat.slot("customer_id", customer_id)
    chat.run(ActionStartTask())
    chat.action("verify_order_form").loop("verify_order_form").slot("requested_slot", "order_number")
    return chat


def give_order_number(chat, number, *, channel="webchat"):
    chat.user(
        number,
        "inform",
        entities=[{"entity": "order_number", "value": number}],
        channel=channel,
        slots={"order_number": number},
    )
    return chat.run(ValidateVerifyOrderForm())


def give_phone(chat, digits, *, text=None):
    chat.user(
        text or digits, "inform", entities=[{"entity": "phone_last4", "value": digits}], slots={"phone_last4": digits}
    )
    return chat.run(ValidateVerifyOrderForm())


def all_text_sent(turn) -> str:
    return json.dumps(turn.messages, ensure_ascii=False)


def test_order_number_then_phone_verifies_the_order_without_echoing_the_phone(conversation):
    chat = complaint_started(conversation)

    asked = give_order_number(chat, OWN_ORDER)
    assert asked.slots_set()["order_number"] == OWN_ORDER
    assert asked.slots_set()["order_verified"] is False
    assert "requested_slot" not in asked.slots_set()  # the domain's order: Rasa asks phone_last4 next
    assert asked.requested_slot == "phone_last4"
    assert chat.current_slots()["phone_last4"] is None
    assert asked.messages == []  # nothing about the order before the phone matches

    verified = give_phone(chat, OWN_ORDER_PHONE_LAST4, text=f"手机尾号{OWN_ORDER_PHONE_LAST4}")
    slots = verified.slots_set()
    assert slots["phone_last4"] == OWN_ORDER_PHONE_LAST4
    assert slots["order_verified"] is True
    assert slots["verified_order_number"] == OWN_ORDER
    assert slots["verified_orders"] == [OWN_ORDER]
    assert slots["item_sku"] == "AT-M50X-BK"  # a single item needs no choice
    assert slots["requested_slot"] is None  # the form is complete
    message = verified.message("utter_order_verified")
    assert template_values(message)["order_number_masked"] == "6201****0153"
    assert "ATH-M50x" in template_values(message)["item_name"]
    sent = all_text_sent(verified)
    assert OWN_ORDER_PHONE_LAST4 not in sent and OWN_ORDER_PHONE not in sent and OWN_ORDER not in sent


def test_full_width_and_spaced_order_numbers_are_read_as_digits(conversation):
    chat = complaint_started(conversation)
    written = "６２０１ ４５８８ ３９２７ ０１５３"
    chat.user(written, "inform", slots={"order_number": written})
    turn = chat.run(ValidateVerifyOrderForm())
    assert turn.slots_set()["order_number"] == OWN_ORDER


def test_a_wrong_phone_three_times_ends_the_check_and_says_why(conversation):
    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)

    for attempt, wrong in enumerate(["1234", "5678", "0000"], start=1):
        turn = give_phone(chat, wrong)
        assert turn.responses == ["utter_phone_mismatch"]
        assert wrong not in all_text_sent(turn)
        slots = turn.slots_set()
        assert slots["phone_last4"] is None
        assert slots["verification_attempts"] == attempt
        assert "order_verified" not in slots
        if attempt < 3:
            assert "requested_slot" not in slots  # Rasa asks phone_last4 again
            assert turn.requested_slot == "phone_last4"
            assert not chat.current_slots()["verification_failed"]
    assert slots["verification_failed"] is True
    assert slots["requested_slot"] is None  # the form stops
    assert chat.active_loop_name() is None

    after = chat.run(ActionContinueTask())
    assert after.responses == ["utter_verification_failed"]
    reset = after.slots_set()
    assert reset["pending_task"] is None
    assert reset["order_number"] is None and reset["phone_last4"] is None
    assert reset["verification_attempts"] == 0 and reset["verification_failed"] is None
    assert reset["order_verified"] is False


def test_a_right_phone_after_a_wrong_one_still_verifies(conversation):
    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)
    assert give_phone(chat, "1111").slots_set()["verification_attempts"] == 1
    turn = give_phone(chat, OWN_ORDER_PHONE_LAST4)
    assert turn.slots_set()["order_verified"] is True
    assert "verification_failed" not in turn.slots_set()


@pytest.mark.parametrize(
    "typed, response",
    [("12345", "utter_order_number_invalid"), ("9999888877776666", "utter_order_not_found")],
)
def test_bad_order_numbers_are_re_asked_with_the_reason(conversation, typed, response):
    chat = complaint_started(conversation)
    turn = give_order_number(chat, typed)
    assert turn.responses == [response]
    assert turn.slots_set()["order_number"] is None
    assert "requested_slot" not in turn.slots_set()  # Rasa asks order_number again
    assert turn.requested_slot == "order_number"
    assert turn.slots_set()["verification_attempts"] == 1


def test_a_phone_number_that_is_not_four_digits_is_asked_again(conversation):
    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)
    turn = give_phone(chat, "40", text="40")
    assert turn.responses == ["utter_ask_phone_last4"]
    assert turn.slots_set()["phone_last4"] is None


def test_a_signed_customer_from_the_web_chat_skips_the_phone_for_own_order(conversation):
    chat = conversation()
    chat.user("耳机坏了", "complain_quality", channel="webchat", metadata={"customer_id": OWN_ORDER_CUSTOMER})
    mapped = chat.run(ValidateSlotMappings())
    assert mapped.slots_set() == {"customer_id": OWN_ORDER_CUSTOMER}
    chat.run(ActionStartTask())
    chat.action("verify_order_form").loop("verify_order_form").slot("requested_slot", "order_number")

    asked = chat.run(ActionAskOrderNumber())
    assert asked.responses == ["utter_ask_which_order"]
    buttons = asked.messages[0]["buttons"]
    assert [button["payload"] for button in buttons] == [f'/inform{{"order_number":"{OWN_ORDER}"}}']
    assert buttons[0]["title"].startswith("6201****0153 ")

    turn = give_order_number(chat, OWN_ORDER)
    slots = turn.slots_set()
    assert slots["order_verified"] is True
    assert slots["verified_order_number"] == OWN_ORDER
    assert slots["requested_slot"] is None  # no phone question
    assert turn.responses == ["utter_order_verified"]


def test_a_signed_customer_still_proves_someone_elses_order_with_the_phone(conversation):
    chat = complaint_started(conversation, customer_id=OWN_ORDER_CUSTOMER)
    turn = give_order_number(chat, TWO_ITEM_ORDER)
    assert turn.slots_set()["order_verified"] is False
    assert turn.requested_slot == "phone_last4"
    assert turn.messages == []


@pytest.mark.parametrize("channel", ["telegram", "wechat", "rest"])
def test_customer_id_from_a_channel_that_cannot_vouch_is_ignored(conversation, channel):
    chat = conversation()
    chat.user("耳机坏了", "complain_quality", channel=channel, metadata={"customer_id": OWN_ORDER_CUSTOMER})
    assert chat.run(ValidateSlotMappings()).events == []
    chat.run(ActionStartTask())
    chat.action("verify_order_form").loop("verify_order_form").slot("requested_slot", "order_number")
    assert chat.run(ActionAskOrderNumber()).responses == ["utter_ask_order_number"]
    turn = give_order_number(chat, OWN_ORDER, channel=channel)
    assert turn.slots_set()["order_verified"] is False
    assert turn.requested_slot == "phone_last4"


def test_identity_channels_come_from_settings(conversation, monkeypatch):
    from bot.config import get_settings

    monkeypatch.setenv("AFTERSALES_IDENTITY_CHANNELS", "webchat, telegram")
    get_settings.cache_clear()
    try:
        chat = conversation()
        chat.user("耳机坏了", "complain_quality", channel="telegram", metadata={"customer_id": OWN_ORDER_CUSTOMER})
        assert chat.run(ValidateSlotMappings()).slots_set() == {"customer_id": OWN_ORDER_CUSTOMER}
    finally:
        monkeypatch.delenv("AFTERSALES_IDENTITY_CHANNELS")
        get_settings.cache_clear()


def test_an_order_with_two_items_asks_which_one_with_buttons(conversation):
    chat = complaint_started(conversation)
    give_order_number(chat, TWO_ITEM_ORDER)
    turn = give_phone(chat, TWO_ITEM_ORDER_PHONE_LAST4)
    slots = turn.slots_set()
    assert slots["order_verified"] is True
    assert "item_sku" not in slots
    assert slots["requested_slot"] == "item_sku"

    asked = chat.run(ActionAskItemSku())
    assert asked.responses == ["utter_ask_item_sku"]
    assert [button["payload"] for button in asked.messages[0]["buttons"]] == [
        '/inform{"item_sku":"PH-HX6730"}',
        '/inform{"item_sku":"PH-HX6013-3"}',
    ]
    assert asked.messages[0]["buttons"][0]["title"] == "飞利浦 声波电动牙刷 HX6730 粉色"

    chat.user("/inform", "inform", slots={"item_sku": "NOT-IN-ORDER"})
    refused = chat.run(ValidateVerifyOrderForm())
    assert refused.slots_set()["item_sku"] is None
    assert refused.slots_set()["requested_slot"] == "item_sku"

    chat.user('/inform{"item_sku":"PH-HX6013-3"}', "inform", slots={"item_sku": "PH-HX6013-3"})
    chosen = chat.run(ValidateVerifyOrderForm())
    assert chosen.slots_set()["item_sku"] == "PH-HX6013-3"
    assert chosen.slots_set()["requested_slot"] is None


def test_an_order_verified_earlier_in_the_chat_needs_no_phone_again(conversation):
    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)
    give_phone(chat, OWN_ORDER_PHONE_LAST4)
    assert chat.active_loop_name() is None

    chat.user("我还想查一下物流", "ask_order_status")
    chat.run(ActionStartTask())
    assert chat.current_slots()["order_verified"] is False  # every task names its order again
    chat.action("verify_order_form").loop("verify_order_form").slot("requested_slot", "order_number")
    offered = chat.run(ActionAskOrderNumber())
    assert offered.responses == ["utter_ask_which_order"]
    assert OWN_ORDER in offered.messages[0]["buttons"][0]["payload"]

    turn = give_order_number(chat, OWN_ORDER)
    assert turn.slots_set()["order_verified"] is True
    assert turn.slots_set()["verified_orders"] == [OWN_ORDER]
    assert turn.slots_set()["requested_slot"] is None


def test_phone_digits_given_before_the_order_number_are_still_checked(conversation):
    chat = conversation()
    chat.user(
        "我的快递到哪了，手机尾号1234",
        "ask_order_status",
        entities=[{"entity": "phone_last4", "value": "1234"}],
        slots={"phone_last4": "1234"},
    )
    chat.run(ActionStartTask())
    assert chat.current_slots()["phone_last4"] == "1234"  # kept: said in this very message
    chat.action("verify_order_form").loop("verify_order_form").slot("phone_last4", "1234")
    chat.run(ValidateVerifyOrderForm())  # Rasa validates the prefilled slot when the form starts
    chat.slot("requested_slot", "order_number")

    turn = give_order_number(chat, OWN_ORDER)  # not the buyer's: the phone ends in 4086
    assert turn.requested_slot == "phone_last4" or turn.slots_set().get("verification_attempts") == 1
    assert chat.active_loop_name() == "verify_order_form"


def test_a_ticket_number_alone_is_not_enough_to_ask_about_that_ticket(conversation):
    """Issue 13: a ticket number is no proof; the order is verified first, as for any question."""
    chat = conversation()
    chat.user(
        "AS202611200001 处理得怎么样了",
        "ask_ticket_status",
        entities=[{"entity": "ticket_number", "value": "AS202611200001"}],
        slots={"ticket_number": "AS202611200001"},
    )
    assert chat.run(ActionStartTask()).slots_set()["pending_task"] == "ticket_status"
    chat.loop("verify_order_form").slot("ticket_number", "AS202611200001")
    turn = chat.run(ValidateVerifyOrderForm())
    assert turn.requested_slot == "order_number" and chat.active_loop_name() == "verify_order_form"


def test_a_ticket_left_in_this_very_conversation_is_reported_without_an_order_check(conversation, db):
    """A buyer who left a message (a ticket with no order) over a channel the shop cannot write
    to is told to ask with the ticket number: in the chat that left it, that is enough. The
    same number asked from another conversation still needs the order."""
    from bot.services import tickets

    with db() as session:
        ticket, _ = tickets.open_ticket(
            session,
            order=None,
            category="message",
            conversation_id="rest-left-a-message",
            channel="rest",
            description="快递没收到",
        )
        number = ticket.ticket_number
    for sender, proven in (("rest-left-a-message", True), ("someone-else", False)):
        chat = conversation(sender)
        chat.user(
            f"查工单 {number}",
            "ask_ticket_status",
            entities=[{"entity": "ticket_number", "value": number}],
            slots={"ticket_number": number},
        )
        chat.run(ActionStartTask())
        chat.loop("verify_order_form").slot("pending_task", "ticket_status").slot("ticket_number", number)
        turn = chat.run(ValidateVerifyOrderForm())
        if proven:
            assert turn.requested_slot is None
            chat.loop(None)
            assert chat.run(ActionContinueTask()).responses == ["utter_ticket_status_open"]
        else:
            assert turn.requested_slot == "order_number"


def full_width(digits: str) -> str:
    return "".join(chr(ord(digit) + 0xFEE0) for digit in digits)


@pytest.mark.parametrize("written", [OWN_ORDER_PHONE_LAST4, full_width(OWN_ORDER_PHONE_LAST4)])
def test_a_corrected_phone_typed_in_a_sentence_is_read_when_the_phone_was_asked(conversation, written):
    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)
    give_phone(chat, "1111")
    chat.user(f"不对不对，手滑了，是{written}", "inform")  # no phone entity: no 尾号 before it
    turn = chat.run(ValidateVerifyOrderForm())
    assert turn.slots_set()["order_verified"] is True


def test_a_no_that_carries_the_answer_corrects_instead_of_cancelling(conversation):
    from actions.tasks import ActionCancelTask

    chat = complaint_started(conversation)
    give_order_number(chat, OWN_ORDER)
    chat.slot("requested_slot", "phone_last4")
    chat.user(f"不对，是{OWN_ORDER_PHONE_LAST4}", "deny")
    turn = chat.run(ActionCancelTask())
    assert turn.responses == [] and [e["name"] for e in turn.events if e["event"] == "followup"] == [
        "verify_order_form"
    ]
    chat.user("算了不弄了", "deny")
    assert chat.run(ActionCancelTask()).responses == ["utter_cancelled"]
