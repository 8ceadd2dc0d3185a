"""The channels as a shop configures them: clear Chinese errors for bad credentials, output
channels that reach a buyer outside any request (what the agent relay relies on), and API
failures that never put the AppSecret, an access token or the bot token into an error
message or the log."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from aiogram import types
from rasa.shared.exceptions import RasaException

from bot.config import get_settings
from bot.launcher import free_port
from channels.messaging_support import shared_state
from channels.telegram import TelegramInput, TelegramNetworkError
from channels.wechat import WeChatInput, WeChatOutput
from channels.wechat_api import WeChatApiError
from tests.channels.conftest import TELEGRAM_TOKEN, WECHAT_AES_KEY
from tests.fakes.telegram_api import FakeTelegramBotApi
from tests.fakes.wechat_api import FakeWeChatApi


@pytest.fixture(autouse=True)
def state_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERSALES_MESSAGING_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    shared_state.cache_clear()
    yield
    get_settings.cache_clear()
    shared_state.cache_clear()


def test_missing_or_malformed_credentials_are_named_in_chinese():
    with pytest.raises(RasaException, match="缺少 secret, token"):
        WeChatInput.from_credentials({"appid": "wx1"})
    with pytest.raises(RasaException, match="43 位消息加解密密钥"):
        WeChatInput.from_credentials({"appid": "wx1", "secret": "s", "token": "t", "encoding_aes_key": "too-short"})
    with pytest.raises(RasaException, match="缺少 secret_token"):
        TelegramInput.from_credentials({"access_token": TELEGRAM_TOKEN})


def test_wechat_output_channel_sends_outside_a_request():
    with FakeWeChatApi("wx1", "s3cret") as fake:
        channel = WeChatInput.from_credentials(
            {
                "appid": "wx1",
                "secret": "s3cret",
                "token": "t",
                "encoding_aes_key": WECHAT_AES_KEY,
                "api_base_url": fake.url,
            }
        )
        asyncio.run(channel.get_output_channel().send_text_message("wechat:openid-7", "客服：您的换货已寄出。"))
        assert fake.texts_to("openid-7") == ["客服：您的换货已寄出。"]


def test_telegram_output_channel_sends_outside_a_request():
    async def send(channel):
        output = channel.get_output_channel()
        await output.send_text_message("telegram:4242", "客服：您的换货已寄出。")
        await output.session.close()

    with FakeTelegramBotApi(TELEGRAM_TOKEN) as fake:
        channel = TelegramInput.from_credentials(
            {"access_token": TELEGRAM_TOKEN, "secret_token": "x", "api_base_url": fake.url}
        )
        asyncio.run(send(channel))
        assert [m["text"] for m in fake.sent_to(4242)] == ["客服：您的换货已寄出。"]


WECHAT_SECRET = "wechat-app-secret-never-logged"


def test_wechat_network_failures_name_neither_the_app_secret_nor_the_access_token(caplog):
    caplog.set_level(logging.INFO)
    credentials = {"appid": "wx1", "secret": WECHAT_SECRET, "token": "t"}
    with FakeWeChatApi("wx1", WECHAT_SECRET) as fake:
        channel = WeChatInput.from_credentials({**credentials, "api_base_url": fake.url})
        asyncio.run(channel.get_output_channel().send_text_message("wechat:openid-7", "您好"))
        [access_token] = fake.tokens_issued
    # the fake is gone: requests fails to connect, and its message would quote the URL with
    # ?access_token=... (and ?secret=... when fetching a token)
    best_effort = WeChatOutput(channel.api, channel.buttons, strict=False)
    asyncio.run(best_effort.send_text_message("wechat:openid-7", "还在吗？"))
    with pytest.raises(WeChatApiError) as sending:
        asyncio.run(channel.get_output_channel().send_text_message("wechat:openid-7", "还在吗？"))
    fresh = WeChatInput.from_credentials({**credentials, "api_base_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(WeChatApiError) as fetching_token:
        fresh.api.download_media("MEDIA1")

    assert "ConnectionError" in str(sending.value) and "ConnectionError" in str(fetching_token.value)
    assert "没能把回复发给微信用户 openid-7" in caplog.text
    for leaked in (WECHAT_SECRET, access_token):
        for text in (str(sending.value), str(fetching_token.value), caplog.text):
            assert leaked not in text


def test_telegram_download_and_network_failures_do_not_name_the_bot_token(caplog):
    caplog.set_level(logging.INFO)
    photo_message = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "from": {"id": 4242, "is_bot": False, "first_name": "买家"},
            "chat": {"id": 4242, "type": "private"},
            "photo": [{"file_id": "AgADgone", "file_unique_id": "g1", "width": 800, "height": 600}],
        },
    }
    received = []

    async def on_new_message(message):
        received.append(message)

    async def scenario():
        with FakeTelegramBotApi(TELEGRAM_TOKEN) as fake:
            fake.add_expired_file("AgADgone", "photos/file_99.jpg")
            channel = TelegramInput.from_credentials(
                {"access_token": TELEGRAM_TOKEN, "secret_token": "x", "api_base_url": fake.url}
            )
            output = channel.get_output_channel()
            no_model_loaded = SimpleNamespace(ctx=SimpleNamespace())
            await channel._handle(types.Update.to_object(photo_message), on_new_message, no_model_loaded)
        try:  # the Bot API is gone now
            with pytest.raises(TelegramNetworkError) as sending:
                await output.send_text_message("telegram:4242", "客服：还在吗？")
            return sending.value
        finally:
            await output.session.close()

    network_error = asyncio.run(scenario())

    assert received == []
    assert "没能保存为凭证" in caplog.text and "HTTP 404" in caplog.text
    assert "sendMessage" in str(network_error)
    assert TELEGRAM_TOKEN not in str(network_error) and TELEGRAM_TOKEN not in caplog.text
