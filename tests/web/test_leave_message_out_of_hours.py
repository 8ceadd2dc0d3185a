"""Leaving a message out of hours, in a real browser (Playwright driving Debian's chromium).

An assistant of its own runs with a copy of shop/policy.yml whose office hours leave out
today, so it is out of hours whenever the test runs. The buyer asks for a person, is told
the hours (no wait is quoted), writes a message and is told the ticket number; an agent who
signs in later finds the message as a ticket in the console's workspace. Screenshots go to
docs/."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import create_engine, select, update

from bot.db import Handoff, Ticket, TicketEvent, session_scope
from bot.db.tables import AgentSession
from bot.launcher import running_assistant
from bot.policy import load_policy
from bot.services.clock import shop_zone
from tests.conftest import PROJECT_ROOT
from tests.web.conftest import AGENTS, DEMO_ORDERS, RELAY_TOKEN, _run_cli, domain_text
from tests.web.pages import BOT, TIMEOUT_MS, buyer_says, count, wait_for_new_text

pytestmark = pytest.mark.rasa

DOCS = PROJECT_ROOT / "docs"
TICKET_NUMBER = re.compile(r"AS\d{12}")


@pytest.fixture(scope="module")
def closed_shop(trained_model, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("out-of-hours")
    policy = yaml.safe_load((PROJECT_ROOT / "shop" / "policy.yml").read_text(encoding="utf-8"))
    today = datetime.now(shop_zone()).isoweekday()
    policy["handoff"]["office_hours"] = {
        "days": [d for d in range(1, 8) if d != today],
        "open": "09:00",
        "close": "18:00",
    }
    policy_file = workdir / "policy.yml"
    policy_file.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"
    display_name, role, password = AGENTS["wang"]
    created = _run_cli(
        database_url,
        "agents",
        "create",
        "wang",
        "--role",
        role,
        "--display-name",
        display_name,
        "--password-stdin",
        stdin=password + "\n",
    )
    assert created.returncode == 0, created.stderr
    settings = {
        "AFTERSALES_POLICY_FILE": str(policy_file),
        "AFTERSALES_RELAY_TOKEN": RELAY_TOKEN,
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
    }
    with running_assistant(trained_model, workdir, [DEMO_ORDERS], extra_env=settings) as running:
        yield running, load_policy(policy_file).office_hours.describe()


def test_out_of_hours_a_buyer_leaves_a_message_that_agents_find_as_a_ticket(closed_shop, browser):
    running, hours = closed_shop
    DOCS.mkdir(exist_ok=True)
    buyer_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    shop = buyer_context.new_page()
    errors = []
    shop.on("pageerror", lambda error: errors.append(f"shop: {error}"))
    shop.goto(running.api_url + "/chat/")
    shop.click("[data-testid=chat-open]")
    shop.wait_for_selector("[data-testid=chat-widget][data-session-id]", timeout=TIMEOUT_MS)

    # the buyer asks for a person: told the hours, no invented wait
    buyer_says(shop, "转人工", "服务时间")
    told = shop.locator(BOT).last.text_content()
    assert told.startswith(domain_text("utter_handoff_out_of_hours").split("{")[0]) and hours in told
    assert "分钟" not in told

    # the message becomes a ticket and the buyer gets its number
    message = "耳机右边没声音了，订单 6201458839270153，麻烦上班后联系我"
    before = count(shop, BOT)
    shop.fill("[data-testid=chat-input]", message)
    shop.press("[data-testid=chat-input]", "Enter")
    wait_for_new_text(shop, BOT, before, "工单")
    answer = shop.locator(BOT).last.text_content()
    assert answer.startswith(domain_text("utter_message_left").split("{")[0])
    number = TICKET_NUMBER.search(answer).group(0)
    shop.screenshot(path=str(DOCS / "web-chat-leave-message.png"))

    engine = create_engine(running.database_url, future=True)
    with session_scope(engine) as session:
        ticket = session.execute(select(Ticket).where(Ticket.ticket_number == number)).scalar_one()
        assert (ticket.category, ticket.description, ticket.channel) == ("message", message, "webchat")
    engine.dispose()

    # an agent signs in later and finds the message in the ticket workspace
    agent_context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    console = agent_context.new_page()
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    console.goto(running.api_url + "/console/")
    console.fill("#login-username", "wang")
    console.fill("#login-password", AGENTS["wang"][2])
    console.click("#login-submit")
    console.click(".tab[data-page=tickets]")
    row = console.locator(f"tr.ticket-row[data-ticket='{number}']")
    row.wait_for(timeout=TIMEOUT_MS)
    assert "买家留言" in row.text_content() and "未关联订单" in row.text_content()
    row.click()
    console.locator("#tp-title", has_text=number).wait_for(timeout=TIMEOUT_MS)
    console.locator("#tp-ticket .kv dd", has_text=message).wait_for(timeout=TIMEOUT_MS)
    console.locator("#tp-transcript .msg.buyer .text", has_text="耳机右边没声音了").wait_for(timeout=TIMEOUT_MS)
    console.screenshot(path=str(DOCS / "console-left-message.png"))
    assert errors == []
    buyer_context.close()
    agent_context.close()


def test_a_rest_buyer_leaves_a_message_and_is_told_honestly_how_to_get_the_answer(closed_shop):
    """REST cannot be written to later: the buyer is told so before and after leaving the
    message, gets the ticket number, and the bot takes the chat back so that 「查工单」 works."""
    import requests

    running, hours = closed_shop
    sender = "rest-buyer-out-of-hours"
    engine = create_engine(running.database_url, future=True)
    with session_scope(engine) as session:  # every agent has signed out (an earlier test signed one in)
        session.execute(
            update(AgentSession).where(AgentSession.ended_at.is_(None)).values(ended_at=datetime.now(timezone.utc))
        )

    def say(text: str) -> str:
        answer = requests.post(
            running.api_url + "/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return "\n".join(message.get("text") or "" for message in answer.json())

    told = say("转人工")
    assert told == domain_text("utter_handoff_out_of_hours_no_push").format(office_hours=hours)
    assert "收不到客服的主动回复" in told and "分钟" not in told

    message = "快递显示签收了但我没收到，订单 6201458839270153，请核实"
    answer = say(message)
    number = TICKET_NUMBER.search(answer).group(0)
    assert answer == domain_text("utter_message_left_no_push").format(ticket_number=number)
    with session_scope(engine) as session:
        ticket = session.execute(select(Ticket).where(Ticket.ticket_number == number)).scalar_one()
        assert (ticket.category, ticket.description, ticket.channel) == ("message", message, "rest")
        # nobody could answer in this chat: it left the queue; the ticket is what agents work
        [handoff] = session.execute(select(Handoff).where(Handoff.conversation_id == sender)).scalars().all()
        assert handoff.status == "returned" and handoff.ticket_id == ticket.id

    # the buyer asks with the ticket number and the bot answers (the chat is no longer paused)
    status = say(f"查工单 {number}")
    assert status.startswith(f"工单 {number}：处理中") and "留言" not in status
    with session_scope(engine) as session:
        notes = session.execute(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id)).scalars().all()
        assert not [note for note in notes if note and "查工单" in note], notes
    engine.dispose()
