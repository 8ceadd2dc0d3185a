"""Findings 9 and 10f of issue 13: signed requests used once (the replay cache in the shared
state), and logs without personal data."""

from __future__ import annotations

import logging

from bot.logging_filters import PersonalDataFilter, mask_personal_data
from bot.messaging.replay import fresh_or_retry
from bot.messaging.shared_state import FileState


def test_a_signature_triple_carries_one_body_only_across_processes(tmp_path):
    first_process, second_process = FileState(tmp_path), FileState(tmp_path)  # same directory: two processes
    triple = "1795000000:83710912:0f3c...signature"
    original, forged = b"<xml><Content>hello</Content></xml>", b"<xml><Content>forged</Content></xml>"
    assert fresh_or_retry(first_process, "wechat", triple, original, 600)
    assert fresh_or_retry(second_process, "wechat", triple, original, 600)  # WeChat retrying: goes on to MsgId dedupe
    assert not fresh_or_retry(second_process, "wechat", triple, forged, 600)
    assert fresh_or_retry(first_process, "wechat", "1795000001:1:other", forged, 600)


def test_an_expired_triple_is_forgotten(tmp_path):
    now = [1000.0]
    state = FileState(tmp_path, clock=lambda: now[0])
    assert fresh_or_retry(state, "wechat", "t:n:s", b"a", 600)
    now[0] += 601
    assert fresh_or_retry(state, "wechat", "t:n:s", b"b", 600)


def test_trackers_and_phone_digits_never_reach_the_log(caplog):
    record_handler = logging.StreamHandler()
    logger = logging.getLogger("tests.security.logs")
    tracker = '{"sender_id": "x", "slots": {"phone_last4": "4086"}, "events": [{"text": "13957214086"}]}'
    logger.addHandler(record_handler)
    record_handler.addFilter(PersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="tests.security.logs"):
        caplog.handler.addFilter(PersonalDataFilter())
        logger.error("Failed to run custom action. Tracker: %s", tracker)
        logger.info("buyer phone 13957214086, phone_last4=4086")
        try:
            raise ValueError(f"bad tracker {tracker}")
        except ValueError:
            logger.exception("action failed")
    logger.removeHandler(record_handler)
    written = caplog.text
    assert "13957214086" not in written and "4086" not in written
    assert "Failed to run custom action" in written and "action failed" in written
    assert mask_personal_data("order 6201458839270153 ok") == "order 6201458839270153 ok"
