"""The channels as a shop configures them: clear Chinese errors for bad credentials, and
output channels that reach a buyer outside any request (what the agent relay relies on)."""
from __future__ import annotations

import asyncio

import pytest
from rasa.shared.exceptions import RasaException

from bot.config import get_settings
from channels.messaging_support import shared_state
from channels.telegram import TelegramInput
from channels.wechat import WeChatInput
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
            {"appid": "wx1", "secret": "s3cret", "token": "t", "encoding_aes_key": WECHAT_AES_KEY, "api_base_url": fake.url}
        )
        asyncio.run(channel.get_output_channel().send_text_message("openid-7", "客服：您的换货已寄出。"))
        assert fake.texts_to("openid-7") == ["客服：您的换货已寄出。"]


def test_telegram_output_channel_sends_outside_a_request():
    async def send(channel):
        output = channel.get_output_channel()
        await output.send_text_message("4242", "客服：您的换货已寄出。")
        await output.session.close()

    with FakeTelegramBotApi(TELEGRAM_TOKEN) as fake:
        channel = TelegramInput.from_credentials(
            {"access_token": TELEGRAM_TOKEN, "secret_token": "x", "api_base_url": fake.url}
        )
        asyncio.run(send(channel))
        assert [m["text"] for m in fake.sent_to(4242)] == ["客服：您的换货已寄出。"]
