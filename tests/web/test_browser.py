"""The whole loop in a real browser (Playwright driving Debian's /usr/bin/chromium):
a buyer on the demo shop page complains, verifies the order, uploads a photo, gets the
decision and asks for a person; an agent logs in to the console, claims the chat, sees the
photo, replies; the buyer sees the reply; the agent hands back; the bot answers again.
Screenshots of both screens are saved under test-artifacts/web/."""

from __future__ import annotations


import pytest

from bot.domain.vocabulary import Priority, label_zh
from tests.conftest import PROJECT_ROOT
from tests.web.conftest import AGENTS, MAX_VIDEO_BYTES, domain_text
from tests.web.media import photo_bytes

from tests.web.pages import (
    AGENT_REPLY,
    BOT,
    HEADPHONES_ORDER,
    HEADPHONES_PHONE_LAST4,
    TIMEOUT_MS,
    buyer_says,
    count,
    wait_for_new_text,
)

pytestmark = pytest.mark.rasa

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "web"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def test_buyer_and_agent_complete_the_loop(web_assistant, browser, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    buyer_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    agent_context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    shop = buyer_context.new_page()
    console = agent_context.new_page()
    errors = []
    shop.on("pageerror", lambda error: errors.append(f"shop: {error}"))
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))

    # --- the buyer on the demo shop page -------------------------------------------------------
    shop.goto(web_assistant.url("/chat/"))
    shop.click("[data-testid=chat-open]")
    shop.wait_for_selector("[data-testid=chat-widget][data-session-id]", timeout=TIMEOUT_MS)
    conversation_id = shop.get_attribute("[data-testid=chat-widget]", "data-session-id")

    buyer_says(shop, "我买的耳机坏了，右边没声音", "订单号")
    buyer_says(shop, HEADPHONES_ORDER, "后4位")
    before = count(shop, BOT)
    shop.fill("[data-testid=chat-input]", HEADPHONES_PHONE_LAST4)
    shop.press("[data-testid=chat-input]", "Enter")
    wait_for_new_text(shop, BOT, before, "已核实订单")
    wait_for_new_text(shop, BOT, before, "照片")

    photo = tmp_path / "右耳罩坏了.jpg"
    photo.write_bytes(photo_bytes("JPEG", size=(480, 360), label="right ear cup broken"))
    before = count(shop, BOT)
    shop.set_input_files("[data-testid=chat-file]", str(photo))
    shop.wait_for_selector("[data-testid=chat-user-image] img", timeout=TIMEOUT_MS)
    wait_for_new_text(shop, BOT, before, "Q1")
    shop.wait_for_selector("[data-testid=chat-buttons] button", timeout=TIMEOUT_MS)

    # a file over the limit is refused by the widget itself, before anything is uploaded
    uploads = []
    shop.on("request", lambda request: uploads.append(request.url) if "/webchat/upload" in request.url else None)
    too_long = {"name": "长视频.mp4", "mimeType": "video/mp4", "buffer": b"\0" * (MAX_VIDEO_BYTES + 1)}
    shop.set_input_files("[data-testid=chat-file]", files=[too_long])
    shop.locator("[data-testid=chat-system-message]", has_text="文件太大了").wait_for(timeout=TIMEOUT_MS)
    assert uploads == []

    buyer_says(shop, "转人工", "人工客服")
    paused_at = count(shop, BOT)
    shop.fill("[data-testid=chat-input]", HOSTILE)
    shop.press("[data-testid=chat-input]", "Enter")

    # --- the agent in the console ----------------------------------------------------------------
    console.goto(web_assistant.url("/console/"))
    console.fill("#login-username", "wang")
    console.fill("#login-password", "wrong-password")
    console.click("#login-submit")
    console.wait_for_function("document.getElementById('login-error').textContent.includes('用户名或密码错误')")
    console.fill("#login-password", AGENTS["wang"][2])
    console.click("#login-submit")
    row = console.locator(f".queue-item[data-conversation='{conversation_id}']")
    row.wait_for(timeout=TIMEOUT_MS)
    row.locator("button[data-claim]").click()
    console.wait_for_selector("#conv-state:has-text('处理中')", timeout=TIMEOUT_MS)
    # the buyer is told that a person has the chat; from then on only the agent speaks
    wait_for_new_text(shop, BOT, paused_at, AGENTS["wang"][0] + "已接入")
    paused_at = count(shop, BOT)

    evidence = console.locator(".transcript .msg.buyer img.evidence-img").first
    evidence.wait_for(timeout=TIMEOUT_MS)
    console.wait_for_function(
        "Array.from(document.querySelectorAll('.evidence-img')).every(img => img.complete && img.naturalWidth > 0)"
    )
    console.locator(".ticket", has_text="Q1").wait_for(timeout=TIMEOUT_MS)
    console.locator(f".kv dd:text-is('{HEADPHONES_ORDER}')").first.wait_for(timeout=TIMEOUT_MS)
    console.locator(".transcript .msg.buyer .text", has_text="<script>window.__pwned").wait_for(timeout=TIMEOUT_MS)
    assert console.evaluate("window.__pwned") is None
    assert console.locator(".transcript script").count() == 0

    reply = "您好，我是客服小王，已经看到您的照片，马上为您安排换货。"
    console.fill("#reply-text", reply)
    console.press("#reply-text", "Enter")
    shop.locator(AGENT_REPLY, has_text=reply).wait_for(timeout=TIMEOUT_MS)
    console.locator(".transcript .msg.agent .text", has_text=reply).wait_for(timeout=TIMEOUT_MS)

    # the buyer's next message reaches the agent within the console's polling interval
    shop.fill("[data-testid=chat-input]", "好的，谢谢！换货需要我寄回吗？")
    shop.press("[data-testid=chat-input]", "Enter")
    console.locator(".transcript .msg.buyer .text", has_text="换货需要我寄回吗").wait_for(timeout=5_000)
    assert count(shop, BOT) == paused_at, "the bot must stay silent while a person has the chat"

    console.click(".view[data-view=mine]")
    console.locator(f".queue-item[data-conversation='{conversation_id}']").wait_for(timeout=TIMEOUT_MS)
    console.screenshot(path=str(ARTIFACTS / "agent-console.png"))
    shop.screenshot(path=str(ARTIFACTS / "web-chat.png"))

    # --- history survives a reload --------------------------------------------------------------
    shop.reload()
    shop.locator(AGENT_REPLY, has_text=reply).wait_for(timeout=TIMEOUT_MS)
    shop.wait_for_selector("[data-testid=chat-user-image] img", timeout=TIMEOUT_MS)
    assert shop.get_attribute("[data-testid=chat-widget]", "data-session-id") == conversation_id

    # --- back to the bot -------------------------------------------------------------------------
    before = count(shop, BOT)
    console.click("#return-to-bot")
    wait_for_new_text(shop, BOT, before, domain_text("utter_handoff_returned"))
    buyer_says(shop, "退货运费谁出？", "运费")

    console.click(".tab[data-page=dashboard]")
    console.locator("#chart svg rect").first.wait_for(timeout=TIMEOUT_MS)
    legend = console.locator("#chart svg").text_content()
    assert all(label_zh("priority", priority) in legend for priority in Priority)  # the catalogue's labels
    console.screenshot(path=str(ARTIFACTS / "agent-dashboard.png"))

    assert errors == []
    shop.screenshot(path=str(ARTIFACTS / "web-chat-after-handback.png"))
    buyer_context.close()
    agent_context.close()
