"""action_validate_slot_mappings: evidence from message metadata, and the vouched customer id."""
from __future__ import annotations

import pytest

from actions.evidence import ValidateSlotMappings
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_CUSTOMER, OWN_ORDER_PHONE_LAST4, template_values, tickets_of
from tests.actions.flows import decided_quality_case, photo

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
    assert turn.events == []  # nothing waits in the slot: it is on the ticket
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
