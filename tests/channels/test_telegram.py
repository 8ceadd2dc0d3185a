"""Telegram: the real Rasa server behind /webhooks/telegram/webhook, a local fake of the Bot
API, updates in the Bot API's documented JSON shape."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.channels.conftest import (
    TELEGRAM_HEADPHONES_ORDER,
    HEADPHONES_PHONE_LAST4,
    TELEGRAM_TOKEN,
    TelegramUser,
    jpeg_photo,
    mp4_video,
    user_texts_after_a_genuine_message,
)

pytestmark = pytest.mark.rasa


def texts(messages):
    return "\n".join(m["text"] for m in messages)


def inline_buttons(messages):
    return {
        button["text"]: button["callback_data"]
        for m in messages
        if m.get("reply_markup")
        for row in json.loads(m["reply_markup"])["inline_keyboard"]
        for button in row
    }


def test_update_without_the_webhook_secret_is_refused_with_403_and_not_processed(servers):
    intruder = TelegramUser(servers)
    for secret in (None, "guessed-secret"):
        response = intruder.post(intruder.update(text="转人工"), secret=secret)
        assert response.status_code == 403
    assert servers.telegram.sent_to(intruder.chat_id) == []
    assert user_texts_after_a_genuine_message(intruder) == ["你好"]


def test_a_non_ascii_secret_header_is_refused_with_403(servers):
    intruder = TelegramUser(servers)
    response = intruder.post(intruder.update(text="转人工"), secret="密钥".encode("utf-8"))
    assert response.status_code == 403
    assert servers.user_turns(intruder.conversation_id) == []


def test_start_command_greets_in_a_conversation_named_after_the_platform(servers, telegram_user):
    assert "售后助手" in texts(telegram_user.say("/start"))
    assert telegram_user.conversation_id == f"telegram:{telegram_user.chat_id}"
    assert [turn["text"] for turn in servers.user_turns(telegram_user.conversation_id)] == ["/greet"]
    assert servers.user_turns(str(telegram_user.chat_id)) == []


def test_group_chats_are_acknowledged_and_ignored(servers, telegram_user):
    group = {"id": -1001234567890, "title": "售后讨论群", "type": "supergroup"}
    joined_member = {"new_chat_members": [{"id": 1, "is_bot": False, "first_name": "A"}]}
    for content in ({"text": f"我的订单 {TELEGRAM_HEADPHONES_ORDER} 坏了"}, joined_member):
        response = telegram_user.post(telegram_user.update(chat=group, **content))
        assert response.status_code == 200
    assert servers.user_turns(f"telegram:{group['id']}") == []
    assert servers.telegram.sent_to(group["id"]) == []


def test_an_expired_file_link_is_answered_without_the_bot_token_reaching_the_log(servers, telegram_user):
    servers.telegram.add_expired_file("AgADexpired", "photos/file_77.jpg")
    sizes = [{"file_id": "AgADexpired", "file_unique_id": "x1", "width": 800, "height": 600}]
    assert telegram_user.post(telegram_user.update(photo=sizes)).status_code == 200
    [reply] = servers.telegram.sent_to(telegram_user.chat_id)
    assert "没能保存为凭证" in reply["text"]
    log = servers.rasa_log.read_text(encoding="utf-8", errors="replace")
    assert "AgADexpired 没能保存为凭证：下载文件失败：HTTP 404" in log
    assert TELEGRAM_TOKEN not in log


def test_photo_becomes_evidence_on_a_ticket_and_a_later_video_is_added_to_it(servers, telegram_user):
    buyer = telegram_user
    assert "订单号" in texts(buyer.say("我买的耳机坏了，右边没声音"))
    assert "后4位" in texts(buyer.say(f"订单号 {TELEGRAM_HEADPHONES_ORDER}"))
    reply = texts(buyer.say(HEADPHONES_PHONE_LAST4))
    assert "已核实订单" in reply
    if "照片" not in reply:
        assert "照片" in texts(buyer.say('/inform{"sub_issue":"defect"}'))

    thumbnail, full = jpeg_photo(2), jpeg_photo(3)
    servers.telegram.add_file("AgADthumb", thumbnail, "photos/file_10.jpg")
    servers.telegram.add_file("AgADfull", full, "photos/file_11.jpg")
    sizes = [
        {"file_id": "AgADthumb", "file_unique_id": "t1", "width": 90, "height": 67, "file_size": len(thumbnail)},
        {"file_id": "AgADfull", "file_unique_id": "t2", "width": 1280, "height": 960, "file_size": len(full)},
    ]
    sent = buyer.exchange(buyer.update(photo=sizes))
    assert "Q1" in texts(sent) and "AS" in texts(sent)
    [ticket] = servers.tickets_of(buyer.conversation_id)
    assert ticket["channel"] == "telegram"
    assert ticket["evidence"] == [hashlib.sha256(full).hexdigest()]
    assert ["AgADfull"] == [c["file_id"] for c in servers.telegram.calls_of("getFile")][-1:]

    buttons = inline_buttons(sent)
    exchange = next(payload for title, payload in buttons.items() if "换货" in title)
    reply = texts(buyer.press(sent[-1], exchange))
    assert "换货" in reply and "寄回" in reply
    assert servers.tickets_of(buyer.conversation_id)[0]["chosen_remedy"] == "exchange"

    video = mp4_video(4)
    servers.telegram.add_file("BAADvideo", video, "videos/file_12.mp4")
    clip = {
        "file_id": "BAADvideo",
        "file_unique_id": "v1",
        "width": 720,
        "height": 1280,
        "duration": 6,
        "mime_type": "video/mp4",
        "file_size": len(video),
    }
    reply = texts(buyer.exchange(buyer.update(video=clip, caption="开箱视频")))
    assert ticket["number"] in reply
    assert servers.tickets_of(buyer.conversation_id)[0]["evidence"] == [
        hashlib.sha256(full).hexdigest(),
        hashlib.sha256(video).hexdigest(),
    ]


def test_a_file_that_is_not_a_photo_or_video_is_refused_with_a_clear_reply(servers, telegram_user):
    servers.telegram.add_file("BQADfake", b"MZ\x90\x00 not a photo", "documents/file_13.jpg")
    document = {"file_id": "BQADfake", "file_unique_id": "d1", "file_name": "photo.jpg", "mime_type": "image/jpeg"}
    response = telegram_user.post(telegram_user.update(document=document))
    assert response.status_code == 200
    [reply] = servers.telegram.sent_to(telegram_user.chat_id)
    assert "没能保存为凭证" in reply["text"]
    assert servers.user_turns(telegram_user.conversation_id) == []
