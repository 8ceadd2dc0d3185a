"""A conversation's transcript from Rasa tracker events (the event dicts of the tracker
store), as the console and the buyer's chat history show it: who said what, when, with
buttons, images and attachments. Pure functions over dicts, no Rasa import."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{2,5}")
_SYSTEM_EVENTS = {"pause": "会话已转人工，机器人暂停", "resume": "会话已交还机器人"}


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat()


def transcript(events: Iterable[Dict[str, Any]], *, include_system: bool = True) -> List[Dict[str, Any]]:
    lines: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            text = event.get("text") or ""
            metadata = event.get("metadata") or {}
            attachments = [shown for shown in map(_evidence_attachment, metadata.get("attachments") or []) if shown]
            if not text and not attachments:
                continue
            lines.append(
                {
                    "from": "buyer",
                    "text": _shown_user_text(text, metadata),
                    "attachments": attachments,
                    "at": _iso(event.get("timestamp")),
                    "intent": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
                }
            )
        elif kind == "bot":
            data = event.get("data") or {}
            metadata = event.get("metadata") or {}
            agent = metadata.get("agent")
            lines.append(
                {
                    "from": "agent" if agent else "bot",
                    "agent": agent,
                    "text": event.get("text") or "",
                    "buttons": [
                        {"title": b.get("title"), "payload": b.get("payload")} for b in data.get("buttons") or []
                    ],
                    "image": data.get("image"),
                    # an image an agent sent from the console, from the evidence store
                    "attachments": [
                        shown for shown in map(_evidence_attachment, metadata.get("attachments") or []) if shown
                    ],
                    "at": _iso(event.get("timestamp")),
                    # False: kept here but the buyer's channel could not push it (REST, a refusal)
                    "delivered": metadata.get("delivered", True) is not False,
                    "ticket_number": metadata.get("ticket_number"),
                }
            )
        elif include_system and kind in _SYSTEM_EVENTS:
            lines.append({"from": "system", "text": _SYSTEM_EVENTS[kind], "at": _iso(event.get("timestamp"))})
    return lines


def _evidence_attachment(item: Any) -> Optional[Dict[str, Any]]:
    """An attachment as it may be shown: its URL is rebuilt as the project's own
    `/evidence/<sha256>.<ext>` from a valid hash, so a URL some client put into the metadata
    (e.g. `javascript:` through the REST channel) never reaches a page; None without a hash."""
    if not isinstance(item, dict):
        return None
    sha256 = str(item.get("sha256") or "").lower()
    if not _SHA256.fullmatch(sha256):
        return None
    url = str(item.get("url") or "")
    extension = url.rsplit(".", 1)[-1].lower() if "." in url else ""
    if not _EXTENSION.fullmatch(extension):
        extension = "bin"
    name = item.get("name")
    return {
        "type": "video" if item.get("type") == "video" else "image",
        "url": f"/evidence/{sha256}.{extension}",
        "name": name[:120] if isinstance(name, str) else None,
        "media_type": item.get("media_type") if isinstance(item.get("media_type"), str) else None,
        "size": item.get("size") if isinstance(item.get("size"), int) else None,
    }


def _shown_user_text(text: str, metadata: Dict[str, Any]) -> str:
    """A button press arrives as its payload ("/inform{...}"); the widget sends the button's
    title as `shown_text` metadata so that people read what the buyer clicked."""
    shown = metadata.get("shown_text")
    return shown if isinstance(shown, str) and shown.strip() and text.startswith("/") else text
