"""A bounded Hypothesis fuzz of the REST and upload endpoints (issue 13, "hostile input
never reaches a crash"): arbitrary JSON values, objects with hostile senders and texts, and
arbitrary bytes, against the real server. No answer may be a 5xx and the server must go on
answering buyers. The examples are few (make test stays quick) and derandomised, so a run is
repeatable. The last test runs a bounded sample of the full benchmark (`python -m bot fuzz`,
benchmarks/fuzz.py) over every surface: REST, upload, history, evidence, relay, console,
WeChat, Telegram and socket.io."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

pytestmark = pytest.mark.rasa

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

hostile_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=300
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=12,
)
rest_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"sender": st.one_of(hostile_text, json_values), "message": st.one_of(hostile_text, json_values)},
        optional={"metadata": json_values, "input_channel": json_values},
    ),
)


def _encoded(value) -> bytes:
    # lone surrogates are kept as JSON escapes, as a hostile client would send them
    return json.dumps(value, ensure_ascii=True).encode("ascii")


@FUZZ
@given(body=rest_bodies)
def test_rest_never_answers_5xx(secured, body):
    response = secured.post_rest(raw=_encoded(body), timeout=60)
    assert response.status_code < 500, (body, response.status_code, response.text[:200])


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_rest_with_arbitrary_bytes_never_answers_5xx(secured, raw):
    response = secured.post_rest(raw=raw, timeout=60)
    assert response.status_code < 500, (raw[:80], response.status_code)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.binary(max_size=4000),
    name=hostile_text,
    content_type=st.sampled_from(["image/jpeg", "application/octet-stream", "text/plain", "video/mp4"]),
)
def test_upload_never_answers_5xx(secured, data, name, content_type):
    safe_name = name.encode("utf-8", "surrogatepass").decode("utf-8", "replace") or "x"
    response = requests.post(
        secured.url("/webhooks/webchat/upload"), files={"file": (safe_name, data, content_type)}, timeout=60
    )
    assert response.status_code < 500, (response.status_code, response.text[:200])


def test_the_server_is_alive_after_the_fuzzing(secured):
    assert secured.alive()


def test_a_bounded_sample_of_the_benchmark_over_every_surface(trained_model, tmp_path):
    from benchmarks.fuzz import WEIGHTS, fuzzed_assistant, run_fuzz

    with fuzzed_assistant(trained_model, tmp_path / "fuzz") as target:
        result = run_fuzz(target, 360, run_seed=7)
        assert result.seconds < 60, result.seconds
    assert set(result.tally.sent) == set(WEIGHTS) and result.requests >= 350
    assert result.tally.five_xx_count == 0, result.tally.five_xx[:5]
    assert result.tally.no_answer_count == 0, result.tally.failures[:5]
    assert result.exited == []
    # a share of the requests got past the edge checks and credentials to the code behind them
    for surface in ("rest", "relay", "console", "wechat", "telegram", "socketio"):
        assert result.tally.statuses[f"{surface} 200"] > 0, (surface, result.tally.statuses)
