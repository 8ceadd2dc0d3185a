"""An agent sends an image from the console: in a real browser (Playwright driving Debian's
/usr/bin/chromium) the agent picks a file in the conversation view and the buyer's widget
shows it, also after a reload; over real HTTP the refusals (not signed in, a form post, not the
agent who holds the chat, a file that is no JPEG/PNG/WebP, one over the photo limit), a REST
buyer's image kept as not delivered, and the stored image surviving a restart. Screenshots go
to docs/."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import quote

import pytest
import requests

from tests.conftest import PROJECT_ROOT
from tests.web.conftest import AGENTS, MAX_IMAGE_BYTES
from tests.web.media import iso_media_bytes, photo_bytes
from tests.web.pages import BOT, TIMEOUT_MS, buyer_says, count, shop_and_console, wait_for_new_text
from tests.web.test_web_http import handoff_of

pytestmark = pytest.mark.rasa

DOCS = PROJECT_ROOT / "docs"
AGENT_IMAGE = "[data-testid=chat-agent-image] img"


def send_image(
    session: requests.Session,
    web_assistant,
    conversation_id: str,
    data: bytes,
    name: str = "示意图.png",
    content_type: str = "image/png",
) -> requests.Response:
    return session.post(
        web_assistant.url(f"/console/api/conversations/{conversation_id}/image"),
        data=data,
        headers={"Content-Type": content_type, "X-File-Name": quote(name)},
        timeout=60,
    )


def test_an_agent_sends_an_image_that_the_buyer_sees_in_the_widget(web_assistant, browser, tmp_path):
    DOCS.mkdir(exist_ok=True)
    shop, console, errors = shop_and_console(browser)

    console.goto(web_assistant.url("/console/"))
    console.fill("#login-username", "wang")
    console.fill("#login-password", AGENTS["wang"][2])
    console.click("#login-submit")
    console.wait_for_selector("#app-view:not([hidden])", timeout=TIMEOUT_MS)
    shop.goto(web_assistant.url("/chat/"))
    shop.click("[data-testid=chat-open]")
    shop.wait_for_selector("[data-testid=chat-widget][data-session-id]", timeout=TIMEOUT_MS)
    buyer_says(shop, "转人工", "分钟")
    conversation_id = shop.get_attribute("[data-testid=chat-widget]", "data-session-id")

    row = console.locator(f".queue-item[data-conversation='{conversation_id}']")
    row.wait_for(timeout=TIMEOUT_MS)
    before = count(shop, BOT)
    row.locator("button[data-claim]").click()
    wait_for_new_text(shop, BOT, before, AGENTS["wang"][0])  # 「人工客服小王已接入」
    console.wait_for_selector("#reply-image:not([disabled])", timeout=TIMEOUT_MS)

    # a file that is not a picture is refused in the page, in Chinese, before any upload
    note = tmp_path / "说明.txt"
    note.write_text("不是图片", encoding="utf-8")
    console.set_input_files("#reply-image-file", str(note))
    console.locator("#flash.bad", has_text="只能发送 JPG、PNG 或 WebP").wait_for(timeout=TIMEOUT_MS)

    picture = tmp_path / "寄回地址示意.png"
    picture.write_bytes(photo_bytes("PNG", size=(360, 240), label="return label"))
    console.set_input_files("#reply-image-file", str(picture))
    console.locator("#flash", has_text="图片已发送给买家").wait_for(timeout=TIMEOUT_MS)
    # the buyer sees the agent's image, really loaded from the server
    shop.locator(AGENT_IMAGE).wait_for(timeout=TIMEOUT_MS)
    shop.wait_for_function(
        f"() => {{ const i = document.querySelector('{AGENT_IMAGE}'); return i && i.complete && i.naturalWidth === 360; }}",
        timeout=TIMEOUT_MS,
    )
    assert "人工客服" in shop.locator("[data-testid=chat-agent-image]").locator("xpath=..").text_content()
    # the console's transcript shows it as the agent's, delivered
    shown = console.locator("#transcript .msg.agent img.evidence-img")
    shown.wait_for(timeout=TIMEOUT_MS)
    console.wait_for_function(
        "() => { const i = document.querySelector('#transcript .msg.agent img.evidence-img');"
        " return i && i.complete && i.naturalWidth === 360; }",
        timeout=TIMEOUT_MS,
    )
    assert console.locator("#transcript .msg.agent .undelivered").count() == 0
    console.screenshot(path=str(DOCS / "console-agent-image.png"))
    shop.screenshot(path=str(DOCS / "web-chat-agent-image.png"))

    # the transcript both sides see keeps it: a reload of the shop page shows it again
    shop.reload()
    shop.wait_for_selector("[data-testid=chat-widget][data-session-id]", state="attached", timeout=TIMEOUT_MS)
    if shop.locator("[data-testid=chat-open]").is_visible():  # the widget may remember that it was open
        shop.click("[data-testid=chat-open]")
    shop.wait_for_function(
        f"() => {{ const i = document.querySelector('{AGENT_IMAGE}'); return i && i.complete && i.naturalWidth === 360; }}",
        timeout=TIMEOUT_MS,
    )
    assert errors == []
    shop.context.close()
    console.context.close()


def test_only_the_agent_holding_the_chat_sends_images_and_bad_files_are_refused_in_chinese(web_assistant, buyer):
    wang, li = web_assistant.console("wang"), web_assistant.console("li")
    tab = buyer()
    tab.say("转人工")
    conversation_id = tab.session_id
    picture = photo_bytes("JPEG", label="agent image")

    anonymous = send_image(requests.Session(), web_assistant, conversation_id, picture, content_type="image/jpeg")
    assert anonymous.status_code == 401 and "登录" in anonymous.json()["error"]
    waiting = send_image(wang, web_assistant, conversation_id, picture, content_type="image/jpeg")
    assert waiting.status_code == 409 and "请先接手" in waiting.json()["error"]

    handoff = handoff_of(web_assistant, conversation_id)
    assert li.post(web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim"), json={}).status_code == 200
    not_hers = send_image(wang, web_assistant, conversation_id, picture, content_type="image/jpeg")
    assert not_hers.status_code == 409 and "只有接手人或主管" in not_hers.json()["error"]

    # a cross-site form could post these: refused before anything is read
    form = li.post(
        web_assistant.url(f"/console/api/conversations/{conversation_id}/image"),
        files={"file": ("a.jpg", picture, "image/jpeg")},
        timeout=30,
    )
    assert form.status_code == 415 and "不能用表单提交" in form.json()["error"]

    # the type is judged by the bytes, not by the name or the Content-Type
    program = send_image(
        li, web_assistant, conversation_id, b"MZ\x90\x00" + b"\0" * 500, name="photo.jpg", content_type="image/jpeg"
    )
    assert program.status_code == 415 and "「photo.jpg」不能发给买家" in program.json()["error"]
    heic = send_image(
        li, web_assistant, conversation_id, iso_media_bytes(b"heic"), name="IMG_0001.HEIC", content_type="image/heic"
    )
    assert heic.status_code == 415 and "HEIC" in heic.json()["error"]
    video = send_image(
        li, web_assistant, conversation_id, iso_media_bytes(b"mp42"), name="clip.mp4", content_type="video/mp4"
    )
    assert video.status_code == 415
    empty = send_image(li, web_assistant, conversation_id, b"", content_type="image/png")
    assert empty.status_code == 415 and "空文件" in empty.json()["error"]
    too_large = send_image(li, web_assistant, conversation_id, b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_IMAGE_BYTES)
    assert too_large.status_code == 413 and "图片太大了" in too_large.json()["error"]
    assert not [
        event
        for event in web_assistant.tracker(conversation_id)["events"]
        if event["event"] == "bot" and (event.get("metadata") or {}).get("attachments")
    ]

    sent = send_image(li, web_assistant, conversation_id, picture, name="示意图.jpg", content_type="image/jpeg")
    assert sent.status_code == 200, sent.text
    result = sent.json()
    digest = hashlib.sha256(picture).hexdigest()
    assert result["delivered"] is True and result["attachment"]["sha256"] == digest
    assert result["attachment"]["name"] == "示意图.jpg" and result["attachment"]["media_type"] == "image/jpeg"
    deadline = time.monotonic() + 30
    while not any(message.get("attachments") for message in tab.received) and time.monotonic() < deadline:
        time.sleep(0.2)
    [arrived] = [message for message in tab.received if message.get("attachments")]
    assert arrived["from_agent"] is True and arrived["attachments"][0]["url"] == f"/evidence/{digest}.jpg"

    # only this chat's buyer (and agents) may fetch it
    url = web_assistant.url(f"/evidence/{digest}.jpg")
    assert requests.get(url, params={"session_id": conversation_id}, timeout=30).content == picture
    assert requests.get(url, params={"session_id": "someone" + "0" * 25}, timeout=30).status_code == 403

    # stored with the conversation's evidence: after a restart the image and the transcript are still there
    web_assistant.restart()
    url = web_assistant.url(f"/evidence/{digest}.jpg")
    assert requests.get(url, params={"session_id": conversation_id}, timeout=30).content == picture
    history = requests.get(
        web_assistant.url("/webhooks/webchat/history"), params={"session_id": conversation_id}, timeout=30
    ).json()
    [line] = [line for line in history["messages"] if line.get("attachments")]
    assert line["from_agent"] is True and line["attachments"][0]["url"] == f"/evidence/{digest}.jpg"
    lines = (
        web_assistant.console("li")
        .get(web_assistant.url(f"/console/api/conversations/{conversation_id}"), timeout=30)
        .json()["lines"]
    )
    assert [
        (line["from"], line["agent"], line["delivered"])
        for line in lines
        if line.get("attachments") and line["from"] != "buyer"
    ] == [("agent", "li", True)]


def test_an_image_for_a_rest_buyer_is_kept_and_shown_as_not_delivered(web_assistant):
    conversation_id = "rest-image-buyer"
    said = requests.post(
        web_assistant.url("/webhooks/rest/webhook"), json={"sender": conversation_id, "message": "转人工"}, timeout=60
    )
    assert said.status_code == 200
    li = web_assistant.console("li")
    handoff = handoff_of(web_assistant, conversation_id)
    assert li.post(web_assistant.url(f"/console/api/handoffs/{handoff['id']}/claim"), json={}).status_code == 200
    sent = send_image(li, web_assistant, conversation_id, photo_bytes("PNG", label="rest"))
    assert sent.status_code == 200, sent.text
    assert sent.json()["delivered"] is False and "不能主动推送" in sent.json()["note"]
    lines = li.get(web_assistant.url(f"/console/api/conversations/{conversation_id}"), timeout=30).json()["lines"]
    assert lines[-1]["from"] == "agent" and lines[-1]["delivered"] is False and lines[-1]["attachments"]
    # a REST client knowing the conversation id does not get the file through the web chat's route
    url = web_assistant.url(lines[-1]["attachments"][0]["url"])
    assert requests.get(url, params={"session_id": conversation_id}, timeout=30).status_code == 403
