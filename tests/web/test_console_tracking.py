"""The new tracking number on the console's ticket page: in a real browser (Playwright driving
Debian's /usr/bin/chromium) an agent enters a reship's tracking number, a malformed one is
refused in Chinese, and the buyer's open web chat is told through the promises path
(bot/console/promises.py, the same service as `python -m bot tickets tracking`); over real
HTTP the refusals, the audit line, and a REST buyer's notice kept as not delivered.
Screenshots go to docs/."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine

from bot.db import session_scope
from bot.services import tickets
from bot.services.orders import find_order
from tests.conftest import PROJECT_ROOT
from tests.web.conftest import AGENTS, SHARED_DEMO_ORDER, domain_text
from tests.web.pages import BOT, TIMEOUT_MS, count, shop_and_console, wait_for_new_text

pytestmark = pytest.mark.rasa

DOCS = PROJECT_ROOT / "docs"


def reship_ticket(web_assistant, conversation_id, channel="webchat", with_order=True) -> str:
    """A ticket as the bot opens it for a lost parcel (rule L5: reship), in this conversation."""
    engine = create_engine(web_assistant.database_url, future=True)
    try:
        with session_scope(engine) as session:
            ticket, _ = tickets.open_ticket(
                session,
                order=find_order(session, SHARED_DEMO_ORDER) if with_order else None,
                category="logistics" if with_order else "message",
                conversation_id=conversation_id,
                channel=channel,
                decision=tickets.TicketDecision(
                    rule_id="L5" if with_order else None, remedies=("reship",) if with_order else ()
                ),
            )
            return ticket.ticket_number
    finally:
        engine.dispose()


def set_tracking(session, web_assistant, number, carrier, tracking_number) -> requests.Response:
    return session.post(
        web_assistant.url(f"/console/api/tickets/{number}/tracking"),
        json={"carrier": carrier, "tracking_number": tracking_number},
        timeout=60,
    )


def test_an_agent_enters_the_new_tracking_number_and_the_buyer_is_told(web_assistant, browser):
    DOCS.mkdir(exist_ok=True)
    shop, console, errors = shop_and_console(browser)
    shop.goto(web_assistant.url("/chat/"))
    shop.click("[data-testid=chat-open]")
    shop.wait_for_selector("[data-testid=chat-widget][data-session-id]", timeout=TIMEOUT_MS)
    before = count(shop, BOT)
    shop.fill("[data-testid=chat-input]", "你好")
    shop.press("[data-testid=chat-input]", "Enter")
    shop.wait_for_function(
        "n => document.querySelectorAll('[data-testid=chat-bot-message]').length > n", arg=before, timeout=TIMEOUT_MS
    )
    number = reship_ticket(web_assistant, shop.get_attribute("[data-testid=chat-widget]", "data-session-id"))

    console.goto(web_assistant.url("/console/"))
    console.fill("#login-username", "wang")
    console.fill("#login-password", AGENTS["wang"][2])
    console.click("#login-submit")
    console.wait_for_selector("#app-view:not([hidden])", timeout=TIMEOUT_MS)
    console.click(".tab[data-page=tickets]")
    console.fill("#ticket-search", number)
    # the list is redrawn when the search answers: click the row of the redrawn list
    console.wait_for_function(
        "n => { const rows = document.querySelectorAll('tr.ticket-row');"
        " return rows.length === 1 && rows[0].getAttribute('data-ticket') === n; }",
        arg=number,
        timeout=TIMEOUT_MS,
    )
    console.locator(f"tr.ticket-row[data-ticket='{number}']").click()
    console.locator("#tp-title", has_text=number).wait_for(timeout=TIMEOUT_MS)
    console.wait_for_selector("#tp-tracking-form:not([hidden])", timeout=TIMEOUT_MS)
    # the usual carriers are offered
    offered = console.eval_on_selector_all("#tp-carriers option", "nodes => nodes.map(n => n.value)")
    assert "顺丰速运" in offered and "中通快递" in offered

    # a malformed number is refused in Chinese and nothing reaches the buyer
    quiet = count(shop, BOT)
    console.fill("#tp-carrier", "顺丰速运")
    console.fill("#tp-tracking-number", "SF 123 456")
    console.click("#tp-tracking-save")
    console.locator("#tp-tracking-error", has_text="格式不对").wait_for(timeout=TIMEOUT_MS)
    assert "字母、数字和短横线" in console.text_content("#tp-tracking-error")
    assert console.input_value("#tp-tracking-number") == "SF 123 456", "the agent's input is kept to be corrected"

    console.fill("#tp-tracking-number", "SF1234567890")
    console.click("#tp-tracking-save")
    told = domain_text("utter_ticket_update_tracking").format(
        ticket_number=number, carrier="顺丰速运", tracking_number="SF1234567890"
    )
    wait_for_new_text(shop, BOT, quiet, "SF1234567890")
    assert shop.locator(BOT).last.text_content() == told
    assert count(shop, BOT) == quiet + 1
    console.locator("#flash", has_text="已通知买家").wait_for(timeout=TIMEOUT_MS)
    assert console.text_content("#tp-tracking-error") == ""
    # the order shows the new parcel, the audit trail says who set it, the transcript keeps the notice
    console.locator("#tp-ticket .kv dd", has_text="顺丰速运 SF1234567890").wait_for(timeout=TIMEOUT_MS)
    console.locator("#tp-ticket .audit li", has_text="新物流单号：顺丰速运 SF1234567890").wait_for(
        state="attached", timeout=TIMEOUT_MS
    )
    assert "客服 wang" in console.locator("#tp-ticket .audit li", has_text="新物流单号").first.text_content()
    console.locator("#tp-transcript .msg.bot .text", has_text="SF1234567890").wait_for(timeout=TIMEOUT_MS)
    console.locator("#tp-ticket details").first.evaluate("node => node.open = true")
    console.locator("#tp-tracking-form").evaluate("node => node.scrollIntoView({block: 'center', inline: 'nearest'})")
    console.screenshot(path=str(DOCS / "console-ticket-tracking.png"))
    shop.screenshot(path=str(DOCS / "web-chat-tracking-notice.png"))
    assert errors == []
    shop.context.close()
    console.context.close()


def test_bad_tracking_input_is_refused_in_chinese_and_a_rest_buyer_is_shown_as_not_told(web_assistant):
    conversation_id = "rest-tracking-buyer"
    assert (
        requests.post(
            web_assistant.url("/webhooks/rest/webhook"), json={"sender": conversation_id, "message": "你好"}, timeout=60
        ).status_code
        == 200
    )
    number = reship_ticket(web_assistant, conversation_id, channel="rest")
    wang = web_assistant.console("wang")

    anonymous = set_tracking(requests.Session(), web_assistant, number, "顺丰速运", "SF1234567890")
    assert anonymous.status_code == 401
    for carrier, tracking_number, expected in [
        ("", "SF1234567890", "请同时填写承运商和物流单号"),
        ("顺丰速运", "12345", "格式不对"),
        ("顺丰速运", "SF123456789'; DROP", "格式不对"),
        ("<b>顺丰</b>", "SF1234567890", "不像快递公司的名字"),
        ("顺丰速运", "S" * 65, "最多 64 个字符"),
    ]:
        refused = set_tracking(wang, web_assistant, number, carrier, tracking_number)
        assert refused.status_code == 400 and expected in refused.json()["error"], (
            carrier,
            tracking_number,
            refused.text,
        )
    unknown = set_tracking(wang, web_assistant, "AS000000000000", "顺丰速运", "SF1234567890")
    assert unknown.status_code == 400 and "AS000000000000" in unknown.json()["error"]
    no_order = reship_ticket(web_assistant, "left-a-message-without-order", channel="webchat", with_order=False)
    refused = set_tracking(wang, web_assistant, no_order, "顺丰速运", "SF1234567890")
    assert refused.status_code == 400 and "没有关联订单" in refused.json()["error"]
    page = wang.get(web_assistant.url(f"/console/api/tickets/{number}"), timeout=30).json()
    assert not [event for event in page["events"] if "新物流单号" in (event["note"] or "")]

    saved = set_tracking(wang, web_assistant, number, " 中通快递 ", "75312345678901")
    assert saved.status_code == 200, saved.text
    notice = saved.json()["notice"]
    assert notice["delivered"] is False and "不能主动推送" in notice["note"] and "75312345678901" in notice["text"]
    page = wang.get(web_assistant.url(f"/console/api/tickets/{number}"), timeout=30).json()
    assert page["order"]["carrier"] == "中通快递" and page["order"]["tracking_number"] == "75312345678901"
    [audit] = [event for event in page["events"] if "新物流单号" in (event["note"] or "")]
    assert audit["actor"] == "agent:wang" and "中通快递 75312345678901" in audit["note"]
    assert page["lines"][-1]["delivered"] is False and page["lines"][-1]["ticket_number"] == number
    # the same number again is no news: refused, the buyer is not told twice
    again = set_tracking(wang, web_assistant, number, "中通快递", "75312345678901")
    assert again.status_code == 400 and "没有变化" in again.json()["error"]
