"""action_validate_slot_mappings: evidence from message metadata, and the vouched customer id."""

from __future__ import annotations

import pytest

from actions.evidence import ValidateSlotMappings
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_CUSTOMER, OWN_ORDER_PHONE_LAST4, template_values, tickets_of
from tests.actions.flows import decided_quality_case, not_uploaded, photo

pytestmark = pytest.mark.usefixtures("database_url")


def send(chat, *attachments, text="", channel="webchat"):
    chat.user(text, "inform", metadata={"attachments": list(attachments)}, channel=channel)
    return chat.run(ValidateSlotMappings())


def test_files_sent_after_the_ticket_was_opened_are_added_to_it(conversation, db):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=False)
    number = chat.current_slots()["case_ticket_number"]
    with db() as session:
        assert tickets_of(session, chat.sender_id)[0].status == "awaiting_evidence"

    turn = send(chat, photo("front.jpg"), photo("back.jpg"))
    assert turn.responses == ["utter_evidence_added_to_ticket"]
    assert template_values(turn.messages[0]) == {"evidence_count": 2, "ticket_number": number}
    assert turn.slots_set() == {"files_went_to_ticket": True}  # on the ticket, not waiting in `evidence`
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert [piece.original_filename for piece in ticket.evidence] == ["front.jpg", "back.jpg"]
        assert ticket.evidence[0].reference == photo("front.jpg")["url"]
        assert ticket.evidence[0].size_bytes == 48213
        assert ticket.status == "open"  # the evidence it waited for arrived
        assert any("补充凭证" == event.note for event in ticket.events)

    again = send(chat, photo("front.jpg"))
    assert again.responses == ["utter_evidence_already_on_ticket"]
    with db() as session:
        assert len(tickets_of(session, chat.sender_id)[0].evidence) == 2
    chat.slot("files_went_to_ticket", True)
    chat.user("谢谢", "thank")
    assert chat.run(ValidateSlotMappings()).slots_set() == {"files_went_to_ticket": False}  # only for that message


def test_files_before_a_ticket_wait_in_the_slot_without_duplicates(conversation):
    chat = conversation()
    first = send(chat, photo("a.jpg"))
    assert first.responses == ["utter_evidence_received"]
    assert template_values(first.messages[0])["evidence_count"] == 1
    assert [item["name"] for item in first.slots_set()["evidence"]] == ["a.jpg"]

    second = send(chat, photo("a.jpg"), photo("b.jpg"))
    assert [item["name"] for item in second.slots_set()["evidence"]] == ["a.jpg", "b.jpg"]


def test_files_during_the_case_form_go_to_the_form_even_with_an_earlier_ticket(conversation, db):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=False)
    chat.loop("case_form").slot("requested_slot", "evidence")
    turn = send(chat, photo("new-case.jpg"))
    assert turn.responses == ["utter_evidence_received"]
    assert [item["name"] for item in turn.slots_set()["evidence"]] == ["new-case.jpg"]
    with db() as session:
        assert tickets_of(session, chat.sender_id)[0].evidence == []


@pytest.mark.parametrize("metadata", [{}, {"attachments": []}, {"attachments": [{"type": "image"}, "not-a-dict"]}])
def test_messages_without_usable_files_change_nothing(conversation, metadata):
    chat = conversation()
    chat.user("你好", "greet", metadata=metadata)
    turn = chat.run(ValidateSlotMappings())
    assert turn.events == [] and turn.messages == []


def test_the_customer_id_is_set_once(conversation):
    chat = conversation()
    chat.user("你好", "greet", metadata={"customer_id": OWN_ORDER_CUSTOMER})
    assert chat.run(ValidateSlotMappings()).slots_set() == {"customer_id": OWN_ORDER_CUSTOMER}
    chat.user("耳机坏了", "complain_quality", metadata={"customer_id": OWN_ORDER_CUSTOMER})
    assert chat.run(ValidateSlotMappings()).events == []


def test_while_a_person_has_the_chat_files_are_kept_without_a_bot_reply(conversation, db):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=False)
    chat.paused = True  # ConversationPaused: an agent is answering
    turn = send(chat, photo("for-the-agent.jpg"))
    assert turn.messages == []
    with db() as session:
        assert [piece.original_filename for piece in tickets_of(session, chat.sender_id)[0].evidence] == [
            "for-the-agent.jpg"
        ]

    before_a_ticket = conversation()
    before_a_ticket.paused = True
    turn = send(before_a_ticket, photo("early.jpg"))
    assert turn.messages == []
    assert [item["name"] for item in turn.slots_set()["evidence"]] == ["early.jpg"]


def test_a_file_no_channel_stored_is_not_evidence(conversation, db):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=False)
    turn = send(chat, not_uploaded("forged.jpg"))
    assert turn.messages == [] and turn.events == []
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        assert ticket.evidence == [] and ticket.status == "awaiting_evidence"


def test_what_is_recorded_comes_from_the_stored_file_not_from_the_message(conversation):
    chat = conversation()
    claimed = {**photo("real.jpg"), "size": 1, "media_type": "text/html", "type": "video", "name": "x" * 500}
    turn = send(chat, claimed)
    [kept] = turn.slots_set()["evidence"]
    assert (kept["size"], kept["media_type"], kept["type"]) == (48213, "image/jpeg", "image")
    assert len(kept["name"]) == 120


def test_photos_that_complete_a_waiting_ticket_bring_the_remedy_choice(conversation, db):
    from actions.case import ActionOfferRemedies

    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=False)  # Q1, awaiting_evidence
    send(chat, photo("later.jpg"), text="照片拍好了")
    offered = chat.run(ActionOfferRemedies())
    assert offered.responses == ["utter_choose_remedy"]
    assert offered.slots_set()["awaiting_reply"] == "remedy_choice"
    assert set(offered.slots_set()["offered_remedies"]) == {"return_refund", "exchange"}

    chat.user("谢谢", "thank")
    again = chat.run(ActionOfferRemedies())
    assert again.responses == ["utter_choose_remedy"]  # still no remedy chosen on the ticket


def test_nothing_to_choose_once_a_remedy_is_on_the_ticket(conversation, db):
    from actions.case import ActionOfferRemedies

    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4, evidence=True)
    number = chat.current_slots()["case_ticket_number"]
    with db() as session:
        from bot.services import tickets

        tickets.update_ticket(session, tickets.require_ticket(session, number), "bot", chosen_remedy="exchange")
    chat.user("补一张照片", "inform")
    turn = chat.run(ActionOfferRemedies())
    assert turn.responses == ["utter_anything_else"]
    assert turn.slots_set() == {"awaiting_reply": "decision_feedback"}  # the next message is read against the decision
