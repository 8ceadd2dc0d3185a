"""Evidence (photos, videos) arriving as message metadata, on any turn.

Channels store uploaded files in the evidence store and put them in the user message's metadata as
`{"attachments": [{"type": "image"|"video", "url": ..., "sha256": ..., "size": ...,
"media_type": ..., "name": ...}]}`. Files collected before a ticket exists wait in the
`evidence` slot; files sent after a ticket was opened are added to that ticket at once.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions import runtime
from bot.config import get_settings
from bot.services import cases
from bot.services.evidence_store import stored_attachments

NO_PHOTO = re.compile(r"(没有|没|无|拍不了|不方便拍|不能拍|拍不到)(照片|图片|图|视频|相片)")
BARE_NO = re.compile(r"^(没有|没)(了|呢|啊)?[。!！]?$")
DECLINED = "declined"


def attachments_of(tracker: Tracker) -> List[Dict[str, Any]]:
    """Files of this message that are really in the evidence store (a channel stored them);
    a reference to anything else, e.g. typed into the REST channel's metadata, is ignored."""
    metadata = tracker.latest_message.get("metadata") or {}
    attachments = metadata.get("attachments") or []
    return stored_attachments(get_settings().evidence_dir, attachments if isinstance(attachments, list) else [])


def buyer_declines_evidence(tracker: Tracker, *, asked: bool) -> bool:
    """ "没有照片" at any time; a plain "no" only as the answer to the evidence question."""
    text = (tracker.latest_message.get("text") or "").strip()
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return bool(NO_PHOTO.search(text)) or (asked and (intent == "deny" or bool(BARE_NO.match(text))))


def merged_evidence(tracker: Tracker, new: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    earlier = tracker.get_slot("evidence")
    earlier = earlier if isinstance(earlier, list) else []
    seen = {item.get("sha256") or item.get("url") for item in earlier}
    return earlier + [item for item in new if (item.get("sha256") or item.get("url")) not in seen]


def vouched_customer_id(tracker: Tracker) -> Optional[Text]:
    """The customer id a channel verified (a shop-signed identity); other channels can't vouch."""
    metadata = tracker.latest_message.get("metadata") or {}
    customer_id = metadata.get("customer_id")
    if not customer_id or latest_input_channel(tracker) not in get_settings().identity_channels:
        return None
    return str(customer_id)


def latest_input_channel(tracker: Tracker) -> Text:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("input_channel") or ""
    return ""


def files_belong_to_open_ticket(tracker: Tracker) -> bool:
    """Files sent after this chat's ticket was opened, outside a new case, go onto that ticket."""
    return bool(tracker.get_slot("case_ticket_number")) and tracker.active_loop.get("name") != "case_form"


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message (Rasa's action_validate_slot_mappings)."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_customer_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # a message without a (still valid) signed identity clears it: the slot expires with its token
        customer_id = vouched_customer_id(tracker)
        if customer_id == tracker.get_slot("customer_id"):
            return {}
        return {"customer_id": customer_id}

    async def extract_files_went_to_ticket(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        went = bool(attachments_of(tracker)) and files_belong_to_open_ticket(tracker)
        if went == bool(tracker.get_slot("files_went_to_ticket")):
            return {}
        return {"files_went_to_ticket": went}

    async def extract_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        new = attachments_of(tracker)
        if not new:
            return {}
        ticket_number = tracker.get_slot("case_ticket_number")
        with_a_person = tracker.is_paused()  # an agent has the chat: keep the files, say nothing
        if files_belong_to_open_ticket(tracker):
            with runtime.database() as session:
                added = cases.add_ticket_evidence(session, ticket_number, new, actor="bot")
            if with_a_person:
                return {}
            if added.count:
                dispatcher.utter_message(
                    response="utter_evidence_added_to_ticket", evidence_count=added.count, ticket_number=ticket_number
                )
            else:
                dispatcher.utter_message(response="utter_evidence_already_on_ticket", ticket_number=ticket_number)
            return {}
        if not with_a_person:
            dispatcher.utter_message(response="utter_evidence_received", evidence_count=len(new))
        return {"evidence": merged_evidence(tracker, new)}
