"""The web chat, the agent relay and the console over real HTTP and socket.io, against the
real Rasa server (trained model), the real action server and a real SQLite database."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from sqlalchemy import select

from bot.db import Handoff, Ticket, make_engine, session_scope
from bot.services.identity import sign_customer_token
from tests.web.conftest import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, SHOP_SECRET, domain_text, texts
from tests.web.media import iso_media_bytes, photo_bytes

pytestmark = pytest.mark.rasa

HEADPHONES_ORDER = "6201458839270153"  # shop/demo_orders.json: headphones delivered 2 days ago (Q1)
HEADPHONES_PHONE_LAST4 = "4086"


def upload(web_assistant, data: bytes, name: str, session_id: str = "uploader" + "0" * 24):
    import requests

    return requests.post(
        web_assistant.url("/webhooks/webchat/upload"),
        files={"file": (name, data, "image/jpeg")},
        data={"session_id": session_id},
        timeout=30,
    )


def user_events(web_assistant, conversation_id):
    return [event for event in web_assistant.tracker(conversation_id)["events"] if event["event"] == "user"]


def handoff_of(web_assistant, conversation_id):
    with session_scope(make_engine(web_assistant.database_url)) as session:
        handoff = (
            session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id.desc())
            )
            .scalars()
            .first()
        )
        return None if handoff is None else {"id": handoff.id, "status": handoff.status, "agent": handoff.agent}


# ---- evidence upload ---------------------------------------------------------------------------


def test_a_good_photo_is_stored_under_its_hash(web_assistant):
    data = photo_bytes("JPEG", label="good")
    response = upload(web_assistant, data, "右耳罩.jpg")
    assert response.status_code == 200, response.text
    attachment = response.json()["attachment"]
    digest = hashlib.sha256(data).hexdigest()
    assert attachment == {
        "type": "image",
        "url": f"/evidence/{digest}.jpg",
        "sha256": digest,
        "size": len(data),
        "media_type": "image/jpeg",
        "name": "右耳罩.jpg",
    }
    assert (web_assistant.evidence_dir / digest[:2] / f"{digest}.jpg").read_bytes() == data
    assert upload(web_assistant, data, "again.jpg").json()["attachment"]["sha256"] == digest


def test_a_program_named_like_a_photo_is_refused_by_its_content(web_assistant):
    response = upload(web_assistant, b"MZ\x90\x00" + b"\0" * 2000, "photo.jpg")
    assert response.status_code == 415
    assert "不是支持的照片或视频格式" in response.json()["error"]
    assert "JPG" in response.json()["error"]
    assert not list(web_assistant.evidence_dir.rglob(f"{hashlib.sha256(b'MZ').hexdigest()}*"))


def test_an_oversized_photo_is_refused_with_the_limit(web_assistant):
    data = photo_bytes("PNG", size=(600, 600)) + b"\0" * MAX_IMAGE_BYTES
    assert len(data) > MAX_IMAGE_BYTES
    response = upload(web_assistant, data, "huge.png")
    assert response.status_code == 413
    assert "太大了" in response.json()["error"] and "照片最大" in response.json()["error"]
    digest = hashlib.sha256(data).hexdigest()
    assert not (web_assistant.evidence_dir / digest[:2]).exists() or not list(
        (web_assistant.evidence_dir / digest[:2]).glob(digest + "*")
    )


def test_a_short_video_is_accepted_and_an_empty_request_explained(web_assistant):
    import requests

    video = iso_media_bytes(b"qt  ", payload_size=5000)
    response = requests.post(
        web_assistant.url("/webhooks/webchat/upload"),
        files={"file": ("clip.mov", video)},
        params={"session_id": "videobuyer" + "0" * 22},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["attachment"]["type"] == "video"
    empty = requests.post(web_assistant.url("/webhooks/webchat/upload"), timeout=30)
    assert empty.status_code == 400 and "没有收到文件" in empty.json()["error"]


def test_an_upload_over_the_limit_is_refused_unread_in_chinese(web_assistant):
    import requests

    limits = requests.get(web_assistant.url("/webhooks/webchat/limits"), timeout=10).json()
    assert limits == {"max_image_bytes": MAX_IMAGE_BYTES, "max_video_bytes": MAX_VIDEO_BYTES}
    video = iso_media_bytes(b"qt  ", payload_size=MAX_VIDEO_BYTES + 2 * 1024 * 1024)
    declared = requests.post(
        web_assistant.url("/webhooks/webchat/upload"), files={"file": ("big.mov", video)}, timeout=30
    )
    assert (
        declared.status_code == 413
        and "文件太大了" in declared.json()["error"]
        and "视频最大" in declared.json()["error"]
    )

    def chunks():  # no Content-Length: the server counts while reading
        boundary_head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mov"\r\n\r\n'
        yield boundary_head
        for start in range(0, len(video), 256 * 1024):
            yield video[start : start + 256 * 1024]
        yield b"\r\n--b--\r\n"

    streamed = requests.post(
        web_assistant.url("/webhooks/webchat/upload"),
        data=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=30,
    )
    assert streamed.status_code == 413 and "文件太大了" in streamed.json()["error"]
    assert not list(web_assistant.evidence_dir.rglob(hashlib.sha256(video).hexdigest() + "*"))


def test_evidence_is_shown_to_the_buyer_who_sent_it_and_to_agents_only(web_assistant, buyer):
    import requests

    data = photo_bytes("JPEG", label="private")
    tab = buyer()
    attachment = upload(web_assistant, data, "a.jpg", tab.session_id).json()["attachment"]
    url = web_assistant.url(attachment["url"])
    assert requests.get(url, timeout=10).status_code == 403
    tab.say("这是照片", {"attachments": [attachment]})
    assert requests.get(url, params={"session_id": tab.session_id}, timeout=10).content == data
    assert requests.get(url, params={"session_id": buyer().session_id}, timeout=10).status_code == 403
    shown = web_assistant.console("wang").get(url, timeout=10)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg" and shown.content == data
    assert requests.get(web_assistant.url("/evidence/" + "0" * 64 + ".jpg"), timeout=10).status_code == 404


def test_only_files_really_uploaded_reach_the_bot_as_evidence(web_assistant, buyer):
    chat = buyer()
    uploaded = upload(web_assistant, photo_bytes("JPEG", label="real"), "real.jpg", chat.session_id).json()[
        "attachment"
    ]
    never_uploaded = {**uploaded, "sha256": "e" * 64, "url": "/evidence/" + "e" * 64 + ".jpg"}
    chat.say("照片", {"attachments": [uploaded, never_uploaded]})
    assert [item["sha256"] for item in user_events(web_assistant, chat.session_id)[-1]["metadata"]["attachments"]] == [
        uploaded["sha256"]
    ]


def test_a_file_another_chat_uploaded_is_no_evidence_here_and_stays_closed(web_assistant, buyer):
    import requests

    owner, other = buyer(), buyer()
    theirs = upload(web_assistant, photo_bytes("JPEG", label="theirs"), "t.jpg", owner.session_id).json()["attachment"]
    other.say("我的照片", {"attachments": [theirs]})  # only the hash was learned, not uploaded here
    assert not any(
        event.get("metadata", {}).get("attachments") for event in user_events(web_assistant, other.session_id)
    )
    url = web_assistant.url(theirs["url"])
    assert requests.get(url, params={"session_id": other.session_id}, timeout=10).status_code == 403
    without_session = requests.post(
        web_assistant.url("/webhooks/webchat/upload"),
        files={"file": ("x.jpg", photo_bytes("JPEG", label="x"), "image/jpeg")},
        timeout=30,
    )
    assert without_session.status_code == 400 and "会话编号" in without_session.json()["error"]


def test_what_the_bot_records_of_an_attachment_comes_from_the_stored_file(web_assistant, buyer):
    data = photo_bytes("PNG", label="claims")
    chat = buyer()
    uploaded = upload(web_assistant, data, "real.png", chat.session_id).json()["attachment"]
    lying = {**uploaded, "size": 1, "media_type": "text/html", "type": "video", "name": "长" * 500}
    chat.say("照片", {"attachments": [lying]})
    [recorded] = user_events(web_assistant, chat.session_id)[-1]["metadata"]["attachments"]
    assert recorded == {**uploaded, "size": len(data), "media_type": "image/png", "type": "image", "name": "长" * 120}


def test_a_javascript_url_sent_through_rest_never_becomes_a_console_link(web_assistant):
    import requests

    conversation_id = "rest-xss-" + str(time.time())
    digest = hashlib.sha256(b"never uploaded").hexdigest()
    attachments = [
        {"type": "video", "url": "javascript:fetch('/console/api/me')", "name": "点我看视频"},
        {"type": "image", "url": "javascript:alert(document.cookie)", "sha256": digest},
    ]
    sent = requests.post(
        web_assistant.url("/webhooks/rest/webhook"),
        json={"sender": conversation_id, "message": "看视频", "metadata": {"attachments": attachments}},
        timeout=60,
    )
    assert sent.status_code == 200
    view = web_assistant.console("wang").get(web_assistant.url(f"/console/api/conversations/{conversation_id}")).json()
    shown = [a["url"] for line in view["lines"] for a in line.get("attachments") or []]
    # the REST channel keeps only attachments that are in the evidence store (channels/rest.py)
    assert shown == [] and "javascript" not in str(view["lines"])


def test_a_malformed_since_is_refused_in_chinese(web_assistant, buyer):
    tab = buyer()
    tab.say("你好")
    wang = web_assistant.console("wang")
    for since in ("²", "-1", "abc"):
        refused = wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}"), params={"since": since})
        assert refused.status_code == 400 and "since" in refused.json()["error"] and "整数" in refused.json()["error"]
    assert (
        wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}"), params={"since": "1"}).json()[
            "since"
        ]
        == 1
    )


# ---- signed identity ----------------------------------------------------------------------------


def test_a_valid_shop_token_is_honoured_and_a_forged_one_client_value_ignored(web_assistant, buyer):
    valid = buyer(identity=sign_customer_token("shop-c-10021", SHOP_SECRET))
    valid.say("你好", {"customer_id": "someone-else"})
    assert user_events(web_assistant, valid.session_id)[-1]["metadata"]["customer_id"] == "shop-c-10021"

    forged = buyer(identity=sign_customer_token("shop-c-10021", "not-the-shop-secret-0123456789abcdef-0123"))
    forged.say("你好", {"customer_id": "shop-c-10021"})
    assert "customer_id" not in user_events(web_assistant, forged.session_id)[-1]["metadata"]


def test_a_signed_in_customer_skips_the_phone_check_for_their_own_order_only(web_assistant, buyer):
    owner = buyer(identity=sign_customer_token("shop-c-10021", SHOP_SECRET))  # owns the headphones order
    owner.say("我买的耳机坏了，右边没声音")
    reply = texts(owner.say(HEADPHONES_ORDER))
    assert "已核实订单" in reply and "后4位" not in reply

    stranger = buyer(identity=sign_customer_token("shop-c-99999", SHOP_SECRET))
    stranger.say("我买的耳机坏了，右边没声音")
    assert "后4位" in texts(stranger.say(HEADPHONES_ORDER))


def test_a_socket_cannot_write_into_someone_elses_conversation(web_assistant, buyer):
    victim, intruder = buyer(), buyer(identity=sign_customer_token("shop-c-10388", SHOP_SECRET))
    victim.say("你好")
    events_before = len(user_events(web_assistant, victim.session_id))
    intruder.send("我是买家本人，请把订单退款", session_id=victim.session_id)
    # refused before any work on the message, so once the error is back nothing more can come of it
    assert intruder.wait_for_error() == {"code": "session_invalid"}  # the widget shows its text
    assert len(user_events(web_assistant, victim.session_id)) == events_before


def test_the_identity_is_dropped_once_the_token_expires_on_an_open_socket(web_assistant, buyer):
    tab = buyer(identity=sign_customer_token("shop-c-10021", SHOP_SECRET, lifetime_seconds=3))
    tab.say("你好")
    assert user_events(web_assistant, tab.session_id)[-1]["metadata"]["customer_id"] == "shop-c-10021"
    time.sleep(3.5)
    tab.say("还在吗")
    assert "customer_id" not in user_events(web_assistant, tab.session_id)[-1]["metadata"]


def test_expired_or_unsigned_tokens_are_ignored(web_assistant, buyer):
    expired = buyer(identity=sign_customer_token("shop-c-10021", SHOP_SECRET, now=time.time() - 7200))
    unsigned = buyer(
        identity=jwt.encode({"sub": "shop-c-10021", "exp": int(time.time()) + 600}, None, algorithm="none")
    )
    garbage = buyer(identity="not.a.jwt")
    for tab in (expired, unsigned, garbage):
        tab.say("你好")
        assert "customer_id" not in user_events(web_assistant, tab.session_id)[-1]["metadata"]


# ---- console log-in ----------------------------------------------------------------------------


def test_a_wrong_password_is_refused_in_chinese(web_assistant):
    import requests

    session = requests.Session()
    refused = session.post(
        web_assistant.url("/console/api/login"), json={"username": "wang", "password": "wrong-password"}
    )
    assert refused.status_code == 401 and refused.json()["error"] == "用户名或密码错误。"
    unknown = session.post(
        web_assistant.url("/console/api/login"), json={"username": "nobody", "password": "whatever1"}
    )
    assert unknown.status_code == 401 and unknown.json()["error"] == "用户名或密码错误。"
    assert session.get(web_assistant.url("/console/api/me")).status_code == 401
    assert session.get(web_assistant.url("/console/api/queue")).json()["error"].startswith("请先登录")
    signed_in = web_assistant.console("wang")
    assert signed_in.get(web_assistant.url("/console/api/me")).json()["agent"]["role"] == "agent"
    cookie = next(c for c in signed_in.cookies if c.name == "aftersales_console")
    assert cookie.has_nonstandard_attr("HttpOnly") or cookie.has_nonstandard_attr("httponly")
    signed_in.post(web_assistant.url("/console/api/logout"), json={})
    assert (
        signed_in.get(web_assistant.url("/console/api/me"), cookies={"aftersales_console": cookie.value}).status_code
        == 401
    )


# ---- hand-over: claim race, transcript, relay ----------------------------------------------------


def test_two_agents_claiming_at_once_get_one_owner(web_assistant, buyer):
    tab = buyer()
    assert "人工客服" in texts(tab.say("转人工"))
    handoff = handoff_of(web_assistant, tab.session_id)
    assert handoff["status"] == "waiting"
    wang, li = web_assistant.console("wang"), web_assistant.console("li")
    waiting = wang.get(web_assistant.url("/console/api/queue?view=waiting")).json()["handoffs"]
    row = next(item for item in waiting if item["conversation_id"] == tab.session_id)
    assert row["reason_label"] == "买家要求转人工" and row["sla_deadline"] and row["waiting_seconds"] >= 0

    claim = web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda session: session.post(claim, json={}), [wang, li]))
    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert "不能接手" in loser.json()["error"]
    owner = handoff_of(web_assistant, tab.session_id)["agent"]
    assert owner in ("wang", "li") and handoff_of(web_assistant, tab.session_id)["status"] == "claimed"
    mine = (wang if owner == "wang" else li).get(web_assistant.url("/console/api/queue?view=mine")).json()["handoffs"]
    assert [item["conversation_id"] for item in mine if item["conversation_id"] == tab.session_id] == [tab.session_id]


def test_script_tags_reach_the_console_as_plain_text(web_assistant, buyer):
    tab = buyer()
    tab.say("转人工")
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    assert tab.say(hostile) == []  # the turn ended (bot_idle) in silence: a person has the chat
    view = web_assistant.console("wang").get(web_assistant.url(f"/console/api/conversations/{tab.session_id}")).json()
    assert view["paused"] is True
    assert view["lines"][-1] == {**view["lines"][-1], "from": "buyer", "text": hostile}
    # the page puts server text on the page as text only (the browser test checks the rendering)
    page = web_assistant.console("wang").get(web_assistant.url("/console/static/console.js")).text
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page and "document.write" not in page


def test_relay_needs_the_token_and_a_known_conversation(web_assistant):
    body = {"conversation_id": "nobody-" + str(time.time()), "text": "你好", "agent": "wang"}
    assert web_assistant.relay("send", body, token=None).status_code == 401
    assert web_assistant.relay("send", body, token="wrong").status_code == 401
    missing = web_assistant.relay("send", body)
    assert missing.status_code == 404 and "找不到会话" in missing.json()["error"]
    assert web_assistant.relay("send", {"conversation_id": "x"}).status_code == 400


def test_relay_send_reaches_the_buyer_and_resume_hands_back_to_the_bot(web_assistant, buyer):
    web_assistant.console("wang")  # an agent is signed in (with nobody online the buyer may leave a message)
    tab = buyer()
    assert "分钟" in texts(tab.say("转人工"))
    assert web_assistant.tracker(tab.session_id)["paused"] is True
    # a ping is answered with the queue position; real content waits for the agent in silence
    ping = texts(tab.say("有人吗？"))
    assert ping.startswith(domain_text("utter_handoff_still_waiting")[:3]) and "第 " in ping
    assert tab.say("耳机右边没声音了，怎么办") == []

    before = len(tab.received)
    sent = web_assistant.relay(
        "send", {"conversation_id": tab.session_id, "text": "您好，我是客服小王", "agent": "wang"}
    )
    assert sent.status_code == 200 and sent.json()["channel"] == "webchat"
    assert tab.wait_for(before + 1)[-1] == {"text": "您好，我是客服小王", "from_agent": True}
    agent_events = [
        e
        for e in web_assistant.tracker(tab.session_id)["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")
    ]
    assert agent_events[-1]["text"] == "您好，我是客服小王" and agent_events[-1]["metadata"]["agent"] == "wang"

    resumed = web_assistant.relay("resume", {"conversation_id": tab.session_id, "agent": "wang"})
    assert resumed.status_code == 200
    assert tab.wait_for(before + 2)[-1]["text"] == domain_text("utter_handoff_returned")
    tracker = web_assistant.tracker(tab.session_id)
    assert tracker["paused"] is False and any(e["event"] == "resume" for e in tracker["events"])
    assert handoff_of(web_assistant, tab.session_id)["status"] == "returned"
    again = web_assistant.relay("resume", {"conversation_id": tab.session_id, "agent": "wang"})
    assert again.status_code == 409 and "没有转人工" in again.json()["error"]
    assert "运费" in texts(tab.say("退货运费谁出？"))


def test_a_double_click_on_return_hands_back_once(web_assistant, buyer):
    tab = buyer()
    tab.say("转人工")
    wang = web_assistant.console("wang")
    handoff = handoff_of(web_assistant, tab.session_id)
    assert wang.post(web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim"), json={}).status_code == 200
    before = len(tab.received)
    give_back = web_assistant.url(f"/console/api/conversations/{tab.session_id}/return")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: wang.post(give_back, json={}), range(2)))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert next(r for r in results if r.status_code == 200).json()["buyer_notified"] is True
    returned = [
        m for m in tab.everything_sent_so_far()[before:] if m.get("text") == domain_text("utter_handoff_returned")
    ]
    assert len(returned) == 1
    assert sum(1 for e in web_assistant.tracker(tab.session_id)["events"] if e["event"] == "resume") == 1


def test_handing_back_a_buyer_who_cannot_be_reached_still_resumes_the_bot(web_assistant):
    import requests

    conversation_id = "rest-return-" + str(time.time())
    said = requests.post(
        web_assistant.url("/webhooks/rest/webhook"), json={"sender": conversation_id, "message": "转人工"}, timeout=60
    )
    assert said.status_code == 200 and web_assistant.tracker(conversation_id)["paused"] is True
    wang = web_assistant.console("wang")
    handoff = handoff_of(web_assistant, conversation_id)
    assert wang.post(web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim"), json={}).status_code == 200
    returned = wang.post(web_assistant.url(f"/console/api/conversations/{conversation_id}/return"), json={})
    assert returned.status_code == 200, returned.text
    assert returned.json()["buyer_notified"] is False and "没有送达" in returned.json()["note"]
    assert web_assistant.tracker(conversation_id)["paused"] is False
    assert handoff_of(web_assistant, conversation_id)["status"] == "returned"


def test_resolving_closes_the_ticket_and_asks_for_a_score(web_assistant, buyer):
    tab = buyer()
    tab.say("我买的耳机坏了，右边没声音")
    tab.say(HEADPHONES_ORDER)
    replies = tab.say(HEADPHONES_PHONE_LAST4)
    if "照片" not in texts(replies):
        tab.say('/inform{"sub_issue":"defect"}')
    attachment = upload(web_assistant, photo_bytes("JPEG", label="resolve"), "broken.jpg", tab.session_id).json()[
        "attachment"
    ]
    assert "Q1" in texts(tab.say("这是照片", {"attachments": [attachment]}))
    tab.say("转人工")
    wang = web_assistant.console("wang")
    handoff = handoff_of(web_assistant, tab.session_id)
    waiting = len(tab.received)
    claimed = wang.post(web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim"), json={})
    assert claimed.status_code == 200 and claimed.json()["buyer_notified"] is True
    # the buyer is told that a person has the chat, by the agent's display name
    assert tab.wait_for(waiting + 1)[waiting]["text"] == domain_text("utter_agent_joined").format(agent_name="小王")

    view = wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}")).json()
    [ticket] = view["tickets"]
    assert ticket["rule_id"] == "Q1" and attachment["sha256"] in [piece["sha256"] for piece in ticket["evidence"]]
    assert (
        view["verified_order"]["order_number"] == HEADPHONES_ORDER and "****" in view["verified_order"]["buyer_phone"]
    )
    assert any(line.get("attachments") for line in view["lines"])

    edited = wang.post(
        web_assistant.url(f"/console/api/tickets/{ticket['ticket_number']}"),
        json={"priority": "urgent", "chosen_remedy": "exchange", "note": "买家同意换货"},
    )
    assert edited.status_code == 200
    events = edited.json()["ticket"]["events"]
    assert events[-1]["actor"] == "agent:wang" and events[-1]["details"]["priority"] == {
        "from": "normal",
        "to": "urgent",
    }
    refused = wang.post(web_assistant.url(f"/console/api/tickets/{ticket['ticket_number']}"), json={"status": "closed"})
    assert refused.status_code == 400 and "不能从" in refused.json()["error"]
    not_text = wang.post(web_assistant.url(f"/console/api/tickets/{ticket['ticket_number']}"), json={"note": ["x"]})
    assert not_text.status_code == 400 and "必须是文字" in not_text.json()["error"]
    noted = wang.post(
        web_assistant.url(f"/console/api/tickets/{ticket['ticket_number']}"), json={"note": "已电话联系买家"}
    )
    assert noted.status_code == 200 and noted.json()["ticket"]["events"][-1]["note"] == "已电话联系买家"
    note = wang.post(
        web_assistant.url(f"/console/api/conversations/{tab.session_id}/notes"), json={"body": "<b>已电话联系</b>"}
    )
    assert note.status_code == 200

    before = len(tab.received)
    resolved = wang.post(web_assistant.url(f"/console/api/conversations/{tab.session_id}/resolve"), json={})
    assert resolved.status_code == 200 and resolved.json()["satisfaction_asked"] is True
    messages = tab.wait_for(before + 2)[before:]
    assert messages[0]["text"] == domain_text("utter_handoff_resolved")
    assert messages[1]["text"] == domain_text("utter_ask_satisfaction") and messages[1]["quick_replies"]
    with session_scope(make_engine(web_assistant.database_url)) as session:
        assert (
            session.execute(select(Ticket.status).where(Ticket.ticket_number == ticket["ticket_number"])).scalar_one()
            == "closed"
        )
    assert domain_text("utter_thanks_for_score") in texts(tab.say('/inform{"satisfaction_score":"4"}'))
    dashboard = wang.get(web_assistant.url("/console/api/dashboard")).json()
    assert dashboard["satisfaction"]["count"] >= 1 and dashboard["satisfaction"]["average"] is not None
    assert (
        wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}")).json()["notes"][-1]["body"]
        == "<b>已电话联系</b>"
    )


def test_transcripts_and_logins_survive_a_restart_of_every_process(web_assistant, buyer):
    """Runs last in this module: it restarts the shared servers."""
    import requests

    tab = buyer()
    tab.say("转人工")
    tab.say("我的耳机坏了 <b>急</b>")
    wang = web_assistant.console("wang")
    before = wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}")).json()["lines"]
    tab.close()
    wang.close()  # no idle keep-alive connection for the server to wait for while it stops

    web_assistant.restart()

    history = requests.get(
        web_assistant.url("/webhooks/webchat/history"), params={"session_id": tab.session_id}, timeout=30
    )
    assert [line["text"] for line in history.json()["messages"]][-3:] == [
        line["text"] for line in before if line["from"] != "system"
    ][-3:]
    after = wang.get(web_assistant.url(f"/console/api/conversations/{tab.session_id}"))
    assert after.status_code == 200, "the console login must survive the restart too"
    assert after.json()["lines"] == before and after.json()["paused"] is True
    if web_assistant.tracker_store.startswith("postgresql"):  # the store really is the database named by URL
        from sqlalchemy import create_engine, text

        engine = create_engine(web_assistant.tracker_store, future=True)
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": tab.session_id}
            )
            assert stored.scalar_one() >= len(before)
        engine.dispose()
