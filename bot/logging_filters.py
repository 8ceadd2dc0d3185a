"""Logs without personal data, installed in one place for both servers
(`install_personal_data_filter`: the action server at start, the Rasa server when it loads
the project's channels, channels/__init__.py).

Every record that reaches a handler of the root logger is rewritten:
- mobile numbers (11 digits starting with 1) become `1**********`, and the last four
  digits a buyer gives to verify an order (`phone_last4`) become `****`;
- a record that carries a whole tracker or action call (Rasa and rasa_sdk log one when a
  custom action fails) is cut to its first line with a note, so the conversation, order
  numbers and phone digits in it never reach the log.
"""

from __future__ import annotations

import logging
import re

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_PHONE_LAST4 = re.compile(r"""(['"]?phone_last4['"]?\s*[:=]\s*['"]?)\d{4}""")
_TRACKER_MARKERS = ('"events"', "'events'", '"latest_message"', "'latest_message'", '"tracker"', "'tracker'")
MARK = "[个人数据已隐去]"


def mask_personal_data(text: str) -> str:
    if any(marker in text for marker in _TRACKER_MARKERS):
        first_line = text.split("\n", 1)[0]
        cut = min([first_line.find(marker) for marker in _TRACKER_MARKERS if marker in first_line] or [200])
        text = f"{first_line[: min(cut, 200)]} … {MARK}"
    text = _PHONE_LAST4.sub(lambda match: match.group(1) + "****", text)
    return _MOBILE.sub("1**********", text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to the handler's own error handling
            return True
        cleaned = mask_personal_data(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # the handler's formatter uses exc_text as is
            lines = logging.Formatter().formatException(record.exc_info).split("\n")
            record.exc_text = "\n".join(mask_personal_data(line) for line in lines)
        return True


_FILTER = PersonalDataFilter()


def install_personal_data_filter() -> None:
    """Adds the filter to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
