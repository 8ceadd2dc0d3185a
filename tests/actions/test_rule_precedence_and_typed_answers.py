"""Classes a seventh persona writer found: two rules in one complaint (the policy's precedence
decides), a question the answers leave open (the policy's count of misunderstandings ends it),
one-word answers to a question asked in the negative, and a remedy picked in words among the
buttons. Entities come from the real lexicon, the decisions from the real policy and database."""

from __future__ import annotations

import pytest

from actions.case import ActionChooseRemedy, ActionDecideCase, ValidateCaseForm
from actions.handoff import ActionClarify
from actions.tasks import ActionContinueTask, ActionStartTask
from actions.verification import ValidateVerifyOrderForm
from bot.nlu.entities import extract_entities
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_PHONE_LAST4, tickets_of
from tests.actions.flows import answer_case_form, decided_quality_case, photo, start_case_form, verified_case
from tests.actions.test_case import LATE_PARCEL_ORDER, LATE_PARCEL_PHONE, SHOES_ORDER, SHOES_PHONE, where_is_my_parcel
from tests.actions.test_conversation import selected

pytestmark = pytest.mark.usefixtures("database_url")


def heard(text):
    """The entities Rasa's extractor gives the text, and the slots its mappings fill from them."""
    entities = [{"entity": e.entity, "value": e.value, "start": e.start, "end": e.end} for e in extract_entities(text)]
    mapped = {"sub_issue": "sub_issue", "remedy": "requested_remedy", "item_condition": "item_condition"}
    slots = {}
    for entity in entities:
        if entity["entity"] in mapped:
            slots.setdefault(mapped[entity["entity"]], entity["value"])
    return entities, slots


def complaint(chat, order, phone, text, intent):
    entities, slots = heard(text)
    verified_case(chat, order, phone, text=text, intent=intent, entities=entities, slots=slots)
    return start_case_form(chat)


def answer(chat, text, intent="inform", **kwargs):
    entities, slots = heard(text)
    return answer_case_form(chat, text, intent, entities=entities, slots={**slots, **kwargs.pop("slots", {})}, **kwargs)


# ---- A: two rules in one complaint --------------------------------------------------------------


def test_smoke_after_a_drop_is_a_safety_hazard_before_human_damage(conversation, db):
    """Q8 comes before Q6: return and refund, urgent, a person at once (not paid repair)."""
    chat = conversation()
    asked = complaint(
        chat,
        OWN_ORDER,
        OWN_ORDER_PHONE_LAST4,
        "耳机前几天从床头柜上掉下来过，今天充电的时候冒出一股黑烟",
        "complain_quality",
    )
    assert asked.requested_slot == "evidence"
    answer(chat, "", metadata={"attachments": [photo("smoke.jpg")]})
    decided = chat.run(ActionDecideCase())
    assert decided.slots_set()["last_decision"]["rule"] == "Q8"
    assert decided.slots_set()["pending_task"] == "handoff"  # the rules hand over next
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert (ticket.rule_id, ticket.chosen_remedy, ticket.priority) == ("Q8", "return_refund", "urgent")


def test_a_fault_beside_a_size_remark_is_a_quality_case_with_a_photo(conversation, db):
    """Size is a no-reason matter "unless the buyer says the item itself is faulty": the unused
    question is not asked, the photo is, and the ticket is a quality ticket about the fault."""
    chat = conversation()
    asked = complaint(
        chat, SHOES_ORDER, SHOES_PHONE, "鞋码偏小一点倒还能凑合，主要是鞋帮的缝线都开了", "request_return"
    )
    assert asked.requested_slot == "evidence"
    answer(chat, "", metadata={"attachments": [photo("seam.jpg")]})
    decided = chat.run(ActionDecideCase())
    assert decided.slots_set()["offered_remedies"] == ["return_refund", "exchange"]
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert (ticket.rule_id, ticket.category, ticket.sub_issue) == ("Q1", "quality", "defect")
        assert ticket.shipping_payer == "seller"


# ---- A: a question the answers leave open -------------------------------------------------------


def test_an_answer_that_leaves_the_question_open_is_misunderstood_and_the_second_goes_to_a_person(conversation):
    chat = conversation()
    asked = complaint(chat, SHOES_ORDER, SHOES_PHONE, "鞋子小了一码，想退掉", "request_return")
    assert asked.requested_slot == "item_condition"

    first = answer(chat, "就是小了一码，穿着挤", "complain_quality")
    assert first.event_types()[-1] == "action_execution_rejected"  # not the same question again
    assert first.messages == []
    clarified = chat.run(ActionClarify())  # Rasa's core fallback, as for any answer no form could use
    assert clarified.responses == ["utter_clarify_in_form"]
    assert chat.current_slots()["requested_slot"] == "item_condition"

    second = answer(chat, "小了一码，挤脚", "complain_quality")
    assert second.event_types()[-1] == "action_execution_rejected"
    handed = chat.run(ActionClarify())
    assert [(event["event"], event.get("name")) for event in handed.events] == [("followup", "action_handoff")]


def test_coming_back_to_the_form_after_another_answer_asks_again_and_counts_nothing(conversation):
    """Rasa calls the validation again when it returns to the form after the rules answered a
    policy question (or asked again): that run reads no answer, it only picks the question."""
    chat = conversation()
    complaint(chat, SHOES_ORDER, SHOES_PHONE, "鞋子小了一码，想退掉", "request_return")
    chat.user("先问下，退回去的运费谁出？", "ask_policy", response_selector=selected("return_shipping"))
    chat.action("action_answer_policy_question")
    back = chat.run(ValidateCaseForm())
    assert "action_execution_rejected" not in back.event_types()
    assert back.requested_slot == "item_condition"


def test_an_answer_that_changes_the_case_is_taken_although_it_leaves_the_question_open(conversation):
    chat = conversation()
    complaint(chat, SHOES_ORDER, SHOES_PHONE, "鞋子小了一码，想退掉", "request_return")
    turn = answer(chat, "而且左脚鞋舌那里的线也开了", "complain_quality")
    assert "action_execution_rejected" not in turn.event_types()
    assert turn.requested_slot == "evidence"  # now a fault: the photo, not the unused question


# ---- B: one-word answers to "请问商品还没用过吗？" -----------------------------------------------


@pytest.mark.parametrize(
    "typed, intent, mapped, condition, rule",
    [
        ("没", "goodbye", {}, "unused", "N1"),  # the classifier has no reading of it
        ("没有", "deny", {"item_condition": "used"}, "unused", "N1"),  # Rasa's deny mapping says "used"
        ("嗯", "affirm", {"item_condition": "unused"}, "unused", "N1"),
        ("穿过了", "inform", {}, "used", "N4"),
    ],
)
def test_a_one_word_answer_to_the_negative_question(conversation, typed, intent, mapped, condition, rule):
    chat = conversation()
    asked = complaint(chat, SHOES_ORDER, SHOES_PHONE, "鞋子小了一码，想退掉", "request_return")
    assert asked.requested_slot == "item_condition"
    turn = answer_case_form(chat, typed, intent, slots=mapped)
    assert chat.current_slots()["item_condition"] == condition, (turn.events, turn.messages)
    assert turn.requested_slot is None
    assert chat.run(ActionDecideCase()).slots_set()["last_decision"]["rule"] == rule


# ---- C: a remedy picked in words ---------------------------------------------------------------


def test_a_refund_typed_with_other_words_under_l2_is_recorded_on_the_l2_ticket(conversation, db):
    chat = conversation()
    decided = where_is_my_parcel(chat, LATE_PARCEL_ORDER, LATE_PARCEL_PHONE)
    assert decided.slots_set()["offered_remedies"] == ["reship", "refund_only"]
    text = "唉补发又要等好久，算了，还是把钱退我吧，这东西不要了"
    entities, slots = heard(text)
    assert slots["requested_remedy"] != "refund_only"  # what the slot alone would record
    chat.user(text, "request_return", entities=entities, slots=slots)
    turn = chat.run(ActionChooseRemedy())
    assert turn.responses[0].startswith("utter_next_steps_refund_only")
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)  # no second case, no no-reason ticket
        assert (ticket.rule_id, ticket.category, ticket.chosen_remedy) == ("L2", "logistics", "refund_only")


def test_a_remedy_picked_together_with_a_question_is_recorded_and_the_question_answered(conversation, db):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4)
    text = "行，那就换货吧，换的时候寄回来的邮费也是你们出吧？"
    entities, slots = heard(text)
    chat.user(text, "ask_policy", entities=entities, slots=slots, response_selector=selected("return_shipping"))
    turn = chat.run(ActionChooseRemedy())
    assert turn.responses == ["utter_next_steps_exchange", "utter_ask_policy/return_shipping"]
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert ticket.chosen_remedy == "exchange"


# ---- a complaint right after an answer about the order ----------------------------------------


def tracking_shown(chat):
    shown = verified_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, text="帮我看看物流到哪了", intent="ask_order_status")
    assert shown.responses == ["utter_tracking_status"]


def test_a_complaint_right_after_the_tracking_of_the_order_keeps_the_order(conversation):
    chat = conversation()
    tracking_shown(chat)
    text = "上面写着签收了，可门口什么都没有，耳机我根本没拿到"
    entities, slots = heard(text)
    chat.user(text, "complain_logistics", entities=entities, slots=slots)
    started = chat.run(ActionStartTask())
    assert "order_verified" not in started.slots_set() and "order_number" not in started.slots_set()
    chat.action("verify_order_form").loop("verify_order_form").slot("order_number", OWN_ORDER)
    checked = chat.run(ValidateVerifyOrderForm())  # the form validates what it found filled
    assert checked.messages == []  # neither "请问是哪一笔订单？" nor "已核实订单" again
    assert checked.requested_slot is None


def test_a_complaint_about_another_product_after_the_tracking_names_its_order_again(conversation):
    chat = conversation()
    tracking_shown(chat)
    text = "对了，我另外买的电饭煲也坏了，按键没反应"
    entities, slots = heard(text)
    chat.user(text, "complain_quality", entities=entities, slots=slots)
    started = chat.run(ActionStartTask())
    assert started.slots_set()["order_verified"] is False


def test_a_problem_told_when_invited_after_no_ticket_is_not_asked_for_again(conversation):
    """ "这个订单目前没有售后工单…直接告诉我遇到了什么情况": the next message is the answer to the
    problem question, even in words the lexicon does not know."""
    chat = conversation()
    told = verified_case(
        chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, text="帮我查下售后单到哪一步了", intent="ask_ticket_status"
    )
    assert told.responses == ["utter_no_tickets_for_order"]
    chat.events.append({"event": "bot", "text": "…", "metadata": {"utter_action": "utter_no_tickets_for_order"}})
    chat.user("那我重新说一遍：右边耳罩一按就咔咔响，声音时有时无", "complain_quality")
    chat.run(ActionStartTask())
    chat.action("verify_order_form").loop("verify_order_form").slot("order_number", OWN_ORDER)
    assert chat.run(ValidateVerifyOrderForm()).requested_slot is None
    chat.run(ActionContinueTask())
    asked = start_case_form(chat)
    assert asked.slots_set()["sub_issue"] == "defect"
    assert asked.requested_slot == "evidence"
