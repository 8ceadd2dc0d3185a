"""The plain-Python parts of the messaging channels (bot/messaging) and the WeChat API client,
against real files, real Redis (when reachable), real processes and the local WeChat fake."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest
import redis

from bot.messaging.access_token import AccessTokenCache, TokenPolicy
from bot.messaging.buttons import ButtonMemory, chosen_number, number_buttons, payload_for_reply, render_numbered
from bot.messaging.conversation_ids import TELEGRAM, WECHAT, conversation_id, platform_id
from bot.messaging.dedupe import first_delivery, wechat_delivery_key
from bot.messaging import kept_messages
from bot.messaging.shared_state import FileState, RedisState
from channels.wechat_api import WeChatApi, WeChatApiError
from tests.fakes.wechat_api import FakeWeChatApi

REDIS_URL = "redis://127.0.0.1:6379/15"
REMEDY_BUTTONS = [
    {"title": "退货退款", "payload": '/inform{"remedy":"return_refund"}'},
    {"title": "换货", "payload": '/inform{"remedy":"exchange"}'},
]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def redis_or_skip() -> RedisState:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis {REDIS_URL} 不可用：{error}")
    return RedisState(REDIS_URL)


@pytest.fixture(params=["files", "redis"])
def state(request, tmp_path):
    return FileState(tmp_path / "state") if request.param == "files" else redis_or_skip()


# ------------------------------------------------------------------------------- buttons


def test_buttons_become_numbered_lines_and_a_digit_maps_back_to_the_payload():
    options = number_buttons(REMEDY_BUTTONS)
    assert render_numbered("请选择处理方式：", options, "（回复数字即可选择）") == (
        "请选择处理方式：\n1. 退货退款\n2. 换货\n（回复数字即可选择）"
    )
    assert payload_for_reply("2", options) == '/inform{"remedy":"exchange"}'
    assert payload_for_reply(" ２。", options) == '/inform{"remedy":"exchange"}'  # full-width digit, punctuation
    assert payload_for_reply("3", options) is None
    assert payload_for_reply("4086", options) is None  # phone digits are not an option
    assert chosen_number("换货") is None


def test_numbering_continues_over_several_button_messages_of_one_turn():
    first = number_buttons(REMEDY_BUTTONS)
    second = number_buttons([{"title": "转人工", "payload": "/request_human"}], first_number=len(first) + 1)
    assert [o.number for o in first + second] == [1, 2, 3]


def test_remembered_options_are_shared_through_the_state(state):
    conversation = f"wechat:wx1:{uuid.uuid4().hex}"
    ButtonMemory(state).remember(conversation, number_buttons(REMEDY_BUTTONS))
    recalled = ButtonMemory(state).recall(conversation)  # e.g. another process
    assert payload_for_reply("1", recalled) == '/inform{"remedy":"return_refund"}'
    ButtonMemory(state).forget(conversation)
    assert ButtonMemory(state).recall(conversation) == []


# ------------------------------------------------------------------------------- dedupe


def test_delivery_key_is_msgid_or_sender_and_time_for_events():
    assert wechat_delivery_key("wx1", {"MsgId": "123", "FromUserName": "o1", "CreateTime": "9"}) == "wechat:wx1:msg:123"
    subscribe = {"FromUserName": "o1", "CreateTime": "9", "MsgType": "event", "Event": "subscribe"}
    click = {**subscribe, "Event": "CLICK"}
    assert wechat_delivery_key("wx1", subscribe) == wechat_delivery_key("wx1", dict(subscribe))
    assert wechat_delivery_key("wx1", subscribe) != wechat_delivery_key("wx1", click)


def test_a_delivery_is_first_only_once_until_it_expires(tmp_path):
    clock = Clock()
    files = FileState(tmp_path, clock=clock)
    assert first_delivery(files, "k", ttl=60) is True
    assert first_delivery(files, "k", ttl=60) is False
    clock.now += 61
    assert first_delivery(files, "k", ttl=60) is True


def test_redis_delivery_is_first_only_once():
    state = redis_or_skip()
    key = uuid.uuid4().hex
    assert [first_delivery(state, key, ttl=5) for _ in range(3)] == [True, False, False]


def _claim_all(directory: str, keys, results) -> None:
    state = FileState(Path(directory))
    results.put(sum(first_delivery(state, key) for key in keys))


def test_concurrent_processes_each_see_a_retry_only_once(tmp_path):
    keys = [f"wechat:wx1:msg:{n}" for n in range(40)]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_claim_all, args=(str(tmp_path), keys, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sum(results.get(timeout=5) for _ in workers) == len(keys)


# ------------------------------------------------------------------------- access token


def test_token_is_reused_until_the_refresh_margin_then_fetched_again(state):
    clock, fetched = Clock(), []

    def fetch():
        fetched.append(clock.now)
        return f"token-{len(fetched)}", 7200

    cache = AccessTokenCache(state, f"t:{uuid.uuid4().hex}", fetch, TokenPolicy(refresh_margin=300), clock)
    assert cache.get() == "token-1"
    clock.now += 7200 - 301
    assert cache.get() == "token-1"
    clock.now += 2
    assert cache.get() == "token-2"
    assert len(fetched) == 2


def test_a_rejected_token_is_dropped_only_if_no_one_replaced_it_yet(state):
    tokens = iter(["first", "second", "third"])
    cache = AccessTokenCache(state, f"t:{uuid.uuid4().hex}", lambda: (next(tokens), 7200))
    assert cache.get() == "first"
    cache.invalidate("first")
    assert cache.get() == "second"
    cache.invalidate("first")  # a late report about the old token must not discard the new one
    assert cache.get() == "second"


def _token_in_process(directory: str, key: str, log: str, results) -> None:
    import time

    def fetch():
        with open(log, "a") as out:
            out.write("fetch\n")
        time.sleep(0.2)  # a slow platform: the others must wait instead of fetching too
        return "shared-token", 7200

    results.put(AccessTokenCache(FileState(Path(directory)), key, fetch).get())


def test_processes_starting_together_fetch_the_token_once(tmp_path):
    log = tmp_path / "fetches.log"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_token_in_process, args=(str(tmp_path / "s"), "wechat:token", str(log), results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [results.get(timeout=5) for _ in workers] == ["shared-token"] * 4
    assert log.read_text().count("fetch") == 1


# ------------------------------------------------------------------- WeChat API client


@pytest.fixture
def wechat_fake():
    with FakeWeChatApi("wxTEST", "s3cret") as fake:
        yield fake


def test_api_client_fetches_one_token_for_many_calls_and_refreshes_a_revoked_one(wechat_fake, tmp_path):
    api = WeChatApi("wxTEST", "s3cret", FileState(tmp_path), wechat_fake.url)
    api.send_text("openid-1", "您好")
    api.send_text("openid-1", "第二条")
    assert len(wechat_fake.tokens_issued) == 1
    wechat_fake.revoke_tokens()
    api.send_text("openid-1", "第三条")
    assert len(wechat_fake.tokens_issued) == 2
    assert wechat_fake.texts_to("openid-1") == ["您好", "第二条", "第三条"]


def test_api_client_downloads_media_and_reports_wechat_errors(wechat_fake, tmp_path):
    wechat_fake.add_media("M1", b"\xff\xd8\xffphoto", filename="M1.jpg")
    api = WeChatApi("wxTEST", "s3cret", FileState(tmp_path), wechat_fake.url)
    media = api.download_media("M1")
    assert (media.data, media.filename) == (b"\xff\xd8\xffphoto", "M1.jpg")
    with pytest.raises(WeChatApiError) as unknown:
        api.download_media("nope")
    assert unknown.value.errcode == 40007

    wrong_secret = WeChatApi("wxTEST", "wrong", FileState(tmp_path / "other"), wechat_fake.url)
    with pytest.raises(WeChatApiError) as refused:
        wrong_secret.send_text("openid-1", "您好")
    assert refused.value.errcode == 40125


# ---------------------------------------------------------------------- conversation ids


def test_conversation_ids_carry_the_platform_and_give_the_platform_id_back():
    assert conversation_id(WECHAT, "oAbc_123-x") == "wechat:oAbc_123-x"
    assert conversation_id(TELEGRAM, -100123) == "telegram:-100123"
    assert platform_id(WECHAT, "wechat:oAbc_123-x") == "oAbc_123-x"
    assert platform_id(TELEGRAM, "telegram:-100123") == "-100123"
    assert platform_id(TELEGRAM, 4242) == "4242"  # a chat id addressed directly inside a request
    assert platform_id(WECHAT, "telegram:4242") == "telegram:4242"  # another platform's prefix is kept


def test_a_digit_on_a_score_scale_is_the_score_whatever_the_button_order():
    descending = number_buttons(
        [{"title": f"{score}分", "payload": f'/inform{{"satisfaction_score":"{score}"}}'} for score in (5, 4, 3, 2, 1)]
    )
    assert payload_for_reply("5", descending) == '/inform{"satisfaction_score":"5"}'
    assert payload_for_reply("１", descending) == '/inform{"satisfaction_score":"1"}'
    assert payload_for_reply("7", descending) is None


def test_the_domain_shows_scores_in_rising_order():
    import yaml

    from tests.conftest import PROJECT_ROOT

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    options = number_buttons(domain["responses"]["utter_ask_satisfaction"][0]["buttons"])
    assert [payload_for_reply(str(n), options) for n in (1, 5)] == [
        '/inform{{"satisfaction_score":"1"}}',
        '/inform{{"satisfaction_score":"5"}}',
    ]
    assert options[0].title.startswith("1") and options[-1].title.startswith("5")


# ------------------------------------------------------------------- messages kept in an outage


def test_messages_kept_during_an_outage_wait_in_order_until_stored(state):
    conversation = "kept-" + uuid.uuid4().hex[:8]
    assert kept_messages.waiting(state, conversation) == []
    kept_messages.keep(state, conversation, "订单号 6201458839270153", {"attachments": []}, "rest", at=1.0)
    kept_messages.keep(state, conversation, "在吗", None, "webchat", at=2.0)
    kept = kept_messages.waiting(state, conversation)
    assert [(item["text"], item["input_channel"], item["at"]) for item in kept] == [
        ("订单号 6201458839270153", "rest", 1.0),
        ("在吗", "webchat", 2.0),
    ]
    assert kept_messages.waiting(state, conversation) == kept  # reading takes nothing away
    kept_messages.keep(state, conversation, "还有一句", at=3.0)  # arrives while the first two are stored
    kept_messages.forget(state, conversation, len(kept))
    assert [item["text"] for item in kept_messages.waiting(state, conversation)] == ["还有一句"]
    kept_messages.forget(state, conversation, 1)
    assert kept_messages.waiting(state, conversation) == []
    assert kept_messages.waiting(state, "other-" + conversation) == []
