"""WeChat Official Account: the real Rasa server behind /webhooks/wechat/webhook, a local fake
of WeChat's server API, requests signed and encrypted with wechatpy's own crypto."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

import pytest
import requests

from tests.channels.conftest import (
    WECHAT_HEADPHONES_ORDER,
    HEADPHONES_PHONE_LAST4,
    WECHAT_AES_KEY,
    WECHAT_TOKEN,
    WeChatUser,
    jpeg_photo,
    joined,
    mp4_video,
    plain_signature,
    user_texts_after_a_genuine_message,
)

pytestmark = pytest.mark.rasa


def test_server_verification_echoes_echostr_only_when_signed(servers):
    timestamp, nonce, echostr = str(int(time.time())), "83710912", secrets.token_hex(8)
    url = f"{servers.rasa_url}/webhooks/wechat/webhook"
    signed = {
        "signature": plain_signature(WECHAT_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    answer = requests.get(url, params=signed, timeout=10)
    assert answer.status_code == 200 and answer.text == echostr

    forged = {**signed, "signature": plain_signature("not-the-token", timestamp, nonce)}
    refused = requests.get(url, params=forged, timeout=10)
    assert refused.status_code == 403 and echostr not in refused.text


def test_text_complaint_is_acknowledged_at_once_and_answered_through_the_customer_service_api(wechat_user):
    started = time.monotonic()
    wechat_user.send("text", {"Content": "我买的耳机坏了，右边没声音"})
    acknowledged_after = time.monotonic() - started
    assert acknowledged_after < 1.0, f"应立即回复 success，实际用了 {acknowledged_after:.2f} 秒"

    reply = joined(wechat_user.servers.wechat.wait_for_texts(wechat_user.openid))
    assert "订单号" in reply


def test_safe_mode_message_is_decrypted_and_answered(servers):
    user = WeChatUser(servers, safe_mode=True)
    reply = joined(user.say("你好"))
    assert "售后助手" in reply
    assert servers.user_turns(user.conversation_id)[0]["text"] == "你好"
    assert user.conversation_id == f"wechat:{user.openid}"
    # a web chat session id may not contain ':', so it cannot name this conversation
    assert servers.user_turns(user.openid) == []


def test_photo_opens_a_ticket_as_evidence_a_digit_picks_the_remedy_and_a_video_is_added(servers):
    buyer = WeChatUser(servers, safe_mode=True)
    assert "订单号" in joined(buyer.say("我买的耳机坏了，右边没声音"))
    assert "后4位" in joined(buyer.say(f"订单号 {WECHAT_HEADPHONES_ORDER}"))
    reply = joined(buyer.say(HEADPHONES_PHONE_LAST4))
    assert "已核实订单" in reply
    if "照片" not in reply:  # the sub-issue was not understood from the first message
        assert "照片" in joined(buyer.say('/inform{"sub_issue":"defect"}'))

    photo = jpeg_photo(1)
    servers.wechat.add_media("MEDIA_right_earcup", photo)
    reply = joined(
        buyer.exchange("image", {"PicUrl": "http://mmbiz.qpic.cn/right.jpg", "MediaId": "MEDIA_right_earcup"})
    )
    assert "Q1" in reply and "AS" in reply

    [ticket] = servers.tickets_of(buyer.conversation_id)
    digest = hashlib.sha256(photo).hexdigest()
    assert ticket["evidence"] == [digest]
    assert ticket["channel"] == "wechat"
    assert ticket["rule_id"] == "Q1"
    assert (servers.evidence_dir / digest[:2] / f"{digest}.jpg").read_bytes() == photo

    options = dict(re.findall(r"^(\d+)\. (.+)$", reply, flags=re.MULTILINE))
    assert "回复数字" in reply  # utter_choose_by_number under the numbered options
    exchange_number = next(number for number, title in options.items() if "换货" in title)
    reply = joined(buyer.say(exchange_number))
    assert "换货" in reply and "寄回" in reply
    assert servers.tickets_of(buyer.conversation_id)[0]["chosen_remedy"] == "exchange"
    assert servers.user_turns(buyer.conversation_id)[-1]["text"] == '/inform{"remedy":"exchange"}'

    video = mp4_video(5)
    servers.wechat.add_media("MEDIA_unboxing", video, content_type="video/mp4", filename="unboxing.mp4")
    reply = joined(buyer.exchange("shortvideo", {"MediaId": "MEDIA_unboxing", "ThumbMediaId": "THUMB1"}))
    assert ticket["number"] in reply
    assert servers.tickets_of(buyer.conversation_id)[0]["evidence"] == [digest, hashlib.sha256(video).hexdigest()]


def test_retried_message_is_processed_once(wechat_user, servers):
    msg_id = 7000000000000000000 + secrets.randbelow(10**17)
    xml = wechat_user.message_xml("text", {"Content": "你好"}, msg_id=msg_id)
    for _ in range(3):  # WeChat re-sends the same MsgId when the answer is late
        response = wechat_user.post_xml(xml)
        assert response.status_code == 200 and response.text == "success"
    servers.wait_until_answered(wechat_user.conversation_id, 1)
    assert len(servers.wechat.texts_to(wechat_user.openid)) == 1
    # a duplicate taken in the background would come before the next genuine message
    assert user_texts_after_a_genuine_message(wechat_user, "谢谢") == ["你好", "谢谢"]


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plain", "safe-mode"])
def test_badly_signed_message_is_refused_with_403_and_not_processed(servers, safe_mode):
    intruder = WeChatUser(servers, safe_mode=safe_mode)
    xml = intruder.message_xml("text", {"Content": "转人工"})
    if safe_mode:  # encrypted with the right key but signed with another token
        response = intruder.post_xml(xml, token="forged-token")
    else:
        response = intruder.post_xml(xml, token="forged-token", aes_key=WECHAT_AES_KEY)
    assert response.status_code == 403
    assert servers.wechat.texts_to(intruder.openid) == []
    assert user_texts_after_a_genuine_message(intruder) == ["你好"]


def test_subscribing_is_welcomed(wechat_user):
    reply = joined(wechat_user.exchange("event", {"Event": "subscribe", "EventKey": ""}))
    assert "售后助手" in reply


def test_voice_uses_wechat_recognition_or_asks_for_text(wechat_user, servers):
    reply = joined(wechat_user.exchange("voice", {"MediaId": "VOICE1", "Format": "amr", "Recognition": "你好"}))
    assert "售后助手" in reply
    assert servers.user_turns(wechat_user.conversation_id)[-1]["text"] == "你好"

    before = len(servers.wechat.texts_to(wechat_user.openid))
    wechat_user.send("voice", {"MediaId": "VOICE2", "Format": "amr"})
    [asked] = servers.wechat.wait_for_texts(wechat_user.openid, before + 1)[before:]
    assert "文字" in asked
    assert len(servers.user_turns(wechat_user.conversation_id)) == 1


def test_expired_access_token_is_refreshed_once_and_the_answer_still_arrives(wechat_user, servers):
    wechat_user.say("你好")
    issued = len(servers.wechat.tokens_issued)
    servers.wechat.revoke_tokens()  # as when another tool fetched a new token for the same account
    reply = joined(wechat_user.say("你好"))
    assert "售后助手" in reply
    assert len(servers.wechat.tokens_issued) == issued + 1


def test_a_replayed_message_with_a_stale_timestamp_is_refused_with_403_and_not_processed(servers):
    buyer = WeChatUser(servers)
    stale = str(int(time.time()) - 301)  # correctly signed, but captured more than 5 minutes ago
    response = buyer.post_xml(buyer.message_xml("text", {"Content": "转人工"}), timestamp=stale)
    assert response.status_code == 403 and "300 秒" in response.text
    assert servers.wechat.texts_to(buyer.openid) == []
    assert user_texts_after_a_genuine_message(buyer) == ["你好"]


@pytest.mark.parametrize(
    "safe_mode, body",
    [
        (True, "<xml><ToUserName>gh_aftersales0001</ToUserName></xml>"),  # no Encrypt
        (True, "<xml><Encrypt>abc"),  # truncated XML
        (True, "这不是 XML"),
    ],
    ids=["safe-mode-without-encrypt", "safe-mode-truncated", "not-xml"],
)
def test_malformed_messages_are_answered_400_with_a_chinese_reason(servers, safe_mode, body):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    params = {"signature": plain_signature(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if safe_mode:
        params.update(encrypt_type="aes", msg_signature="0" * 40)
    response = requests.post(
        f"{servers.rasa_url}/webhooks/wechat/webhook",
        params=params,
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "消息未处理" in response.text


def test_a_correctly_signed_plain_message_is_refused_when_safe_mode_is_configured(servers):
    """Finding 9 of issue 13: with an EncodingAESKey configured, a plain-mode message (whose
    signature does not cover the body) is never processed."""
    intruder = WeChatUser(servers, safe_mode=False)
    response = intruder.post_xml(intruder.message_xml("text", {"Content": "转人工"}))
    assert response.status_code == 403 and "安全模式" in response.text
    assert user_texts_after_a_genuine_message(intruder) == ["你好"]


def test_a_signed_message_with_an_empty_encrypt_is_a_400_not_a_server_error(servers):
    """Finding 11 of issue 13: wechatpy raised IndexError on a correctly signed empty <Encrypt>."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce, ""])).encode()).hexdigest()
    params = {
        "signature": plain_signature(WECHAT_TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": signature,
    }
    body = "<xml><ToUserName>gh_aftersales0001</ToUserName><Encrypt></Encrypt></xml>"
    response = requests.post(
        f"{servers.rasa_url}/webhooks/wechat/webhook",
        params=params,
        data=body.encode("utf-8"),
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )
    assert response.status_code == 400 and "消息未处理" in response.text
    assert WeChatUser(servers).say("你好"), "the server still answers"
