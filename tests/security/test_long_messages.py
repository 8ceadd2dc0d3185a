"""Finding 4 of issue 13: one long message must not freeze the server.

The lexicon featurizer compared every lexicon span with every token (10k characters blocked
every channel for ~5 s, 20k for ~20 s), and Sanic accepted bodies up to 100 MB."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests

from bot.config import Settings
from tests.security.conftest import texts

COMPLAINT = "耳机坏了，左边没声音。"


def test_the_featurizer_is_linear_in_the_message_length():
    """Tokens and spans as the pipeline makes them; 16× the text may take at most ~40× the
    time (a quadratic featurizer takes ~256×)."""
    from rasa.engine.graph import ExecutionContext
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa_nlu.lexicon_featurizer import LexiconFeaturizer
    from bot.rasa_nlu.tokenizer import NormalizingJiebaTokenizer

    tokenizer = NormalizingJiebaTokenizer.create(
        {**NormalizingJiebaTokenizer.get_default_config(), "dictionary_path": "data/jieba"},
        None,
        None,
        ExecutionContext(None, "tokenizer"),
    )
    featurizer = LexiconFeaturizer.create(
        {"feature_groups": ["identifier", "sub_issue", "remedy", "item_condition"]},
        None,
        None,
        ExecutionContext(None, "lexicon"),
    )

    def seconds(length: int) -> float:
        message = Message.build((COMPLAINT * (length // len(COMPLAINT) + 1))[:length])
        tokenizer.process([message])
        started = time.perf_counter()
        featurizer.process([message])
        return time.perf_counter() - started

    seconds(500)  # warm up
    short, long = min(seconds(1250) for _ in range(3)), min(seconds(20000) for _ in range(2))
    assert long < 40 * short + 0.2, f"1250 字 {short:.3f} 秒，20000 字 {long:.3f} 秒"


@pytest.mark.rasa
def test_a_long_message_is_refused_in_chinese_fast_while_another_buyer_is_answered(secured):
    limit = Settings().max_message_chars
    long_text = (COMPLAINT * 2000)[:20000]
    answered = {}

    def send_long():
        started = time.monotonic()
        response = secured.post_rest({"sender": "long-" + uuid.uuid4().hex[:8], "message": long_text}, timeout=120)
        answered["long"] = (time.monotonic() - started, response)

    sender = threading.Thread(target=send_long)
    sender.start()
    time.sleep(0.05)
    started = time.monotonic()
    other = secured.say("other-" + uuid.uuid4().hex[:8], "你好")
    other_seconds = time.monotonic() - started
    sender.join(120)

    seconds, response = answered["long"]
    assert response.status_code == 200
    reply = texts(response.json())
    assert "太长" in reply and str(limit) in reply
    assert seconds < 2.0, f"超长消息用了 {seconds:.1f} 秒才得到答复"
    assert "售后助手" in texts(other) and other_seconds < 2.0, f"另一位买家等了 {other_seconds:.1f} 秒"


@pytest.mark.rasa
def test_a_body_over_the_request_limit_is_refused_before_it_is_read(secured):
    body = b'{"sender": "big", "message": "' + b"a" * (Settings().max_request_bytes + 1024) + b'"}'
    try:
        response = secured.post_rest(raw=body, timeout=60)
        assert response.status_code == 413
    except requests.ConnectionError:  # Sanic may close the connection while the body is still being sent
        pass
    assert secured.alive()
