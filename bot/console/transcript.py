"""A conversation's transcript from Rasa tracker events (the event dicts of the tracker
store), as the console and the buyer's chat history show it: who said what, when, with
buttons, images and attachments. Pure functions over dicts, no Rasa import."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

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
            attachments = [a for a in metadata.get("attachments") or [] if isinstance(a, dict)]
            if not text and not attachments:
                continue
            lines.append(
                {
                    "from": "buyer",
                    "text": _shown_user_text(text, metadata),
                    "attachments": [
                        {key: a.get(key) for key in ("type", "url", "name", "media_type", "size")} for a in attachments
                    ],
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
                    "at": _iso(event.get("timestamp")),
                }
            )
        elif include_system and kind in _SYSTEM_EVENTS:
            lines.append({"from": "system", "text": _SYSTEM_EVENTS[kind], "at": _iso(event.get("timestamp"))})
    return lines


def _shown_user_text(text: str, metadata: Dict[str, Any]) -> str:
    """A button press arrives as its payload ("/inform{...}"); the widget sends the button's
    title as `shown_text` metadata so that people read what the buyer clicked."""
    shown = metadata.get("shown_text")
    return shown if isinstance(shown, str) and shown.strip() and text.startswith("/") else text
