"""Conversation steps several test modules share, each run through the real actions."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Dict, Optional

from actions.case import ActionDecideCase, ValidateCaseForm
from actions.evidence import ValidateSlotMappings
from actions.tasks import ActionContinueTask, ActionStartTask
from actions.verification import ValidateVerifyOrderForm
from bot.services.evidence_store import store_evidence
from tests.actions.conftest import Turn

JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PHOTO_SIZE = 48213


def photo(name: str = "crack.jpg") -> Dict[str, Any]:
    """A photo as a channel delivers it: stored in the test's evidence store, then described in
    the message metadata (shared contract 1). The same name gives the same bytes."""
    data = (JPEG_START + name.encode()).ljust(PHOTO_SIZE, b"\0")
    stored = store_evidence(data, evidence_dir=Path(os.environ["AFTERSALES_EVIDENCE_DIR"]), declared_name=name)
    return stored.attachment(name)


def not_uploaded(name: str = "made-up.jpg") -> Dict[str, Any]:
    """An attachment naming a file that no channel ever stored."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {
        "type": "image",
        "url": f"/evidence/{digest}.jpg",
        "sha256": digest,
        "size": PHOTO_SIZE,
        "media_type": "image/jpeg",
        "name": name,
    }


def verified_case(
    chat,
    order_number: str,
    phone_last4: str,
    *,
    text: str = "东西坏了",
    intent: str = "complain_quality",
    entities=None,
    slots: Optional[Dict[str, Any]] = None,
):
    """The buyer complains, names the order and proves it with the phone digits; the rules then
    start case_form (returns the turn of action_continue_task)."""
    chat.user(text, intent, entities=entities, slots=slots)
    chat.run(ValidateSlotMappings())
    chat.run(ActionStartTask())
    chat.action("verify_order_form").loop("verify_order_form").slot("requested_slot", "order_number")
    chat.user(
        order_number,
        "inform",
        entities=[{"entity": "order_number", "value": order_number}],
        slots={"order_number": order_number},
    )
    chat.run(ValidateVerifyOrderForm())
    chat.user(
        phone_last4,
        "inform",
        entities=[{"entity": "phone_last4", "value": phone_last4}],
        slots={"phone_last4": phone_last4},
    )
    verified = chat.run(ValidateVerifyOrderForm())
    assert verified.slots_set()["order_verified"] is True, verified.messages
    assert chat.active_loop_name() is None
    return chat.run(ActionContinueTask())


def start_case_form(chat):
    """case_form activates: Rasa validates the slots filled before, appended as SlotSet events."""
    chat.loop("case_form")
    slots = chat.current_slots()
    for name in chat.domain["forms"]["case_form"]["required_slots"]:
        if slots.get(name) is not None:
            chat.slot(name, slots[name])
    return chat.run(ValidateCaseForm())


def answer_case_form(
    chat,
    text: str,
    intent: str = "inform",
    *,
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    entities=None,
):
    """One buyer answer inside case_form: slot mappings first, then the form's validation
    (the turn holds what both returned and said)."""
    chat.user(text, intent, slots=slots, metadata=metadata, entities=entities)
    mapped = chat.run(ValidateSlotMappings())
    validated = chat.run(ValidateCaseForm())
    return Turn(mapped.events + validated.events, mapped.messages + validated.messages, validated.requested_slot)


def quality_case_ready_to_decide(
    chat,
    order_number: str,
    phone_last4: str,
    sub_issue: str = "defect",
    *,
    evidence: bool = True,
    text: str = "耳机左边没声音了",
    photo_name: str = "crack.jpg",
) -> None:
    """A quality complaint taken up to the decision: verified, problem named, photo (or none) sent."""
    verified_case(
        chat,
        order_number,
        phone_last4,
        text=text,
        entities=[{"entity": "sub_issue", "value": sub_issue}],
        slots={"sub_issue": sub_issue},
    )
    asked = start_case_form(chat)
    assert asked.requested_slot == "evidence", (asked.events, asked.messages)
    if evidence:
        answered = answer_case_form(chat, "", metadata={"attachments": [photo(photo_name)]})
    else:
        answered = answer_case_form(chat, "没有照片，拍不了")
    assert answered.requested_slot is None and chat.active_loop_name() is None, answered.events


def decided_quality_case(chat, order_number: str, phone_last4: str, *args, **details):
    """The decision on `quality_case_ready_to_decide`'s case (the same arguments)."""
    quality_case_ready_to_decide(chat, order_number, phone_last4, *args, **details)
    return chat.run(ActionDecideCase())
