"""Buttons on platforms without buttons: numbered options, answered with a digit.

The options a buyer was last shown are remembered in the shared state, so the process that
receives the reply "2" can map it back to the second button's payload.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence

from bot.messaging.shared_state import SharedState

REMEMBER_FOR_SECONDS = 24 * 3600.0
_TRAILING_PUNCTUATION = " .。、)）"


@dataclass(frozen=True)
class NumberedOption:
    number: int
    title: str
    payload: str


def number_buttons(buttons: Iterable[Mapping[str, Any]], first_number: int = 1) -> List[NumberedOption]:
    options: List[NumberedOption] = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if payload:
            options.append(NumberedOption(first_number + len(options), title or payload, payload))
    return options


def render_numbered(text: str, options: Sequence[NumberedOption], hint: str = "") -> str:
    lines = [text.rstrip()] if text and text.strip() else []
    lines += [f"{option.number}. {option.title}" for option in options]
    if hint and options:
        lines.append(hint)
    return "\n".join(lines)


def chosen_number(reply: str) -> Optional[int]:
    """The option number in a reply such as "2", "２", " 2。" or "2)", else None."""
    text = unicodedata.normalize("NFKC", reply or "").strip().rstrip(_TRAILING_PUNCTUATION).strip()
    if text.isdigit() and len(text) <= 2:
        return int(text)
    return None


_SCORE_PAYLOAD = re.compile(r'"satisfaction_score"\s*:\s*"?(\d)"?')


def payload_for_reply(reply: str, options: Sequence[NumberedOption]) -> Optional[str]:
    """The payload the reply picks: "1" is the first option shown. On a score scale a digit is the
    score itself, whatever order the buttons are in (policy: numbered options and scores)."""
    number = chosen_number(reply)
    scores = {option.payload: _SCORE_PAYLOAD.search(option.payload) for option in options}
    if options and all(scores.values()):
        for option in options:
            score = scores[option.payload]
            if number is not None and score is not None and int(score.group(1)) == number:
                return option.payload
        return None
    for option in options:
        if option.number == number:
            return option.payload
    return None


class ButtonMemory:
    def __init__(self, state: SharedState, ttl: float = REMEMBER_FOR_SECONDS) -> None:
        self._state = state
        self._ttl = ttl

    def remember(self, conversation: str, options: Sequence[NumberedOption]) -> None:
        data = [{"number": o.number, "title": o.title, "payload": o.payload} for o in options]
        self._state.set(self._key(conversation), json.dumps(data, ensure_ascii=False), self._ttl)

    def recall(self, conversation: str) -> List[NumberedOption]:
        raw = self._state.get(self._key(conversation))
        if not raw:
            return []
        try:
            return [NumberedOption(int(o["number"]), str(o["title"]), str(o["payload"])) for o in json.loads(raw)]
        except (ValueError, KeyError, TypeError):
            return []

    def forget(self, conversation: str) -> None:
        self._state.delete(self._key(conversation))

    @staticmethod
    def _key(conversation: str) -> str:
        return f"buttons:{conversation}"
