"""A human agent's reply, sent through the agent relay (channels/agent_relay.py), reaches the
buyer on the messaging app the buyer wrote on: WeChat through the customer-service message
API, Telegram through sendMessage."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.db.engine import make_engine, session_scope
from bot.db.tables import Handoff

pytestmark = pytest.mark.rasa


def agent_utterances(servers, conversation_id):
    return [
        (e["text"], (e.get("metadata") or {}).get("agent"))
        for e in servers.tracker(conversation_id)["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")
    ]


def handoff_channel(servers, conversation_id):
    with session_scope(make_engine(servers.database_url)) as session:
        return session.execute(select(Handoff.channel).where(Handoff.conversation_id == conversation_id)).scalar_one()


def test_agent_reply_reaches_the_wechat_user_and_the_bot_takes_over_again(servers, wechat_user):
    assert "人工客服" in "\n".join(wechat_user.say("转人工"))
    assert servers.tracker(wechat_user.conversation_id)["paused"] is True
    assert handoff_channel(servers, wechat_user.conversation_id) == "wechat"

    answer = servers.relay(
        "send",
        {"conversation_id": wechat_user.conversation_id, "text": "您好，我是客服小王，马上为您查看。", "agent": "小王"},
    )
    assert answer.status_code == 200, answer.text
    assert servers.wechat.texts_to(wechat_user.openid)[-1] == "您好，我是客服小王，马上为您查看。"
    assert agent_utterances(servers, wechat_user.conversation_id) == [("您好，我是客服小王，马上为您查看。", "小王")]

    before = len(servers.wechat.texts_to(wechat_user.openid))
    assert servers.relay("resume", {"conversation_id": wechat_user.conversation_id, "agent": "小王"}).status_code == 200
    assert "售后助手" in "\n".join(servers.wechat.texts_to(wechat_user.openid)[before:])


def test_agent_reply_reaches_the_telegram_user(servers, telegram_user):
    assert "人工客服" in "\n".join(m["text"] for m in telegram_user.say("转人工"))
    assert handoff_channel(servers, telegram_user.conversation_id) == "telegram"

    answer = servers.relay(
        "send", {"conversation_id": telegram_user.conversation_id, "text": "您好，这里是客服小李。", "agent": "小李"}
    )
    assert answer.status_code == 200, answer.text
    assert servers.telegram.sent_to(telegram_user.chat_id)[-1]["text"] == "您好，这里是客服小李。"
    assert agent_utterances(servers, telegram_user.conversation_id) == [("您好，这里是客服小李。", "小李")]


def test_a_reply_wechat_refuses_is_reported_to_the_agent_and_not_recorded(servers, wechat_user):
    wechat_user.say("转人工")
    servers.wechat.refuse_sending_to(wechat_user.openid)
    answer = servers.relay(
        "send", {"conversation_id": wechat_user.conversation_id, "text": "还在吗？", "agent": "小王"}
    )
    assert answer.status_code == 502
    assert "没有送达" in answer.json()["error"]
    assert agent_utterances(servers, wechat_user.conversation_id) == []


def open_ticket_for(servers, conversation_id, channel):
    from bot.services import tickets
    from bot.services.orders import find_order

    engine = make_engine(servers.database_url)
    with session_scope(engine) as session:
        ticket, _ = tickets.open_ticket(
            session,
            order=find_order(session, "6201458839270153"),
            category="logistics",
            conversation_id=conversation_id,
            channel=channel,
            decision=tickets.TicketDecision(rule_id="L5", remedies=("reship",)),
        )
        number = ticket.ticket_number
    engine.dispose()
    return number


def notices(servers, conversation_id):
    return [
        (e["text"], e["metadata"].get("delivered"))
        for e in servers.tracker(conversation_id)["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("ticket_number")
    ]


def test_a_ticket_update_reaches_the_telegram_and_wechat_user_unless_wechat_refuses(
    servers, telegram_user, wechat_user
):
    telegram_user.say("你好")
    number = open_ticket_for(servers, telegram_user.conversation_id, "telegram")
    told = servers.relay("ticket_update", {"ticket_number": number, "update": "status"})
    assert told.status_code == 200 and told.json()["delivered"] is True, told.text
    assert servers.telegram.sent_to(telegram_user.chat_id)[-1]["text"].startswith(f"您的售后工单 {number} 有新进展")
    assert notices(servers, telegram_user.conversation_id) == [(told.json()["text"], True)]

    wechat_user.say("你好")
    number = open_ticket_for(servers, wechat_user.conversation_id, "wechat")
    servers.wechat.refuse_sending_to(wechat_user.openid)  # past WeChat's 48-hour window
    refused = servers.relay("ticket_update", {"ticket_number": number, "update": "status"})
    assert refused.status_code == 200 and refused.json()["delivered"] is False
    assert "没有送达" in refused.json()["note"]
    assert notices(servers, wechat_user.conversation_id) == [(refused.json()["text"], False)]
    unknown = servers.relay("ticket_update", {"ticket_number": "AS000000000000", "update": "status"})
    assert unknown.status_code == 404


def console_login(servers, username="lan", role="agent"):
    """A console account made with the real account code, signed in over HTTP."""
    import requests

    from bot.console import accounts

    engine = make_engine(servers.database_url)
    with session_scope(engine) as session:
        if not any(agent.username == username for agent in accounts.list_agents(session)):
            accounts.create_agent(session, username, f"{username}-password-1", role=role)
    engine.dispose()
    console = requests.Session()
    console.post(
        f"{servers.rasa_url}/console/api/login",
        json={"username": username, "password": f"{username}-password-1"},
        timeout=30,
    ).raise_for_status()
    return console


def claim_and_send_image(servers, console, conversation_id, data):
    with session_scope(make_engine(servers.database_url)) as session:
        handoff_id = session.execute(select(Handoff.id).where(Handoff.conversation_id == conversation_id)).scalar_one()
    assert (
        console.post(f"{servers.rasa_url}/console/api/handoffs/{handoff_id}/claim", json={}, timeout=60).status_code
        == 200
    )
    return console.post(
        f"{servers.rasa_url}/console/api/conversations/{conversation_id}/image",
        data=data,
        headers={"Content-Type": "image/jpeg", "X-File-Name": "label.jpg"},
        timeout=60,
    )


def test_an_agents_image_reaches_the_telegram_user_and_wechat_shows_it_did_not(servers, telegram_user, wechat_user):
    from tests.channels.conftest import jpeg_photo

    console = console_login(servers)
    photo = jpeg_photo(7)
    telegram_user.say("转人工")
    sent = claim_and_send_image(servers, console, telegram_user.conversation_id, photo)
    assert sent.status_code == 200, sent.text
    assert sent.json()["delivered"] is True
    [upload] = [
        call for call in servers.telegram.calls_of("sendPhoto") if str(call["chat_id"]) == str(telegram_user.chat_id)
    ]
    assert upload["photo"]["data"] == photo and upload["photo"]["filename"] == "label.jpg"
    [image] = [
        e
        for e in servers.tracker(telegram_user.conversation_id)["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("attachments")
    ]
    assert image["metadata"]["agent"] == "lan" and image["metadata"]["delivered"] is True

    # WeChat cannot carry an agent's image yet: kept, marked, and the console is told why
    wechat_user.say("转人工")
    kept = claim_and_send_image(servers, console, wechat_user.conversation_id, photo)
    assert kept.status_code == 200, kept.text
    assert kept.json()["delivered"] is False and "暂不支持客服发送图片" in kept.json()["note"]


def test_a_status_set_with_the_command_line_or_in_the_console_reaches_the_telegram_user(servers, telegram_user):
    """Both are the handler of the ticket's status event, run once the change is saved: the
    command line (its own process here: bot.cli.main with its own environment) asks the running
    server over HTTP, the console tells through the relay in the server itself."""
    import yaml

    from tests.cli import run_cli
    from tests.conftest import PROJECT_ROOT
    from tests.shared_assistant import RELAY_TOKEN

    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]

    def told(status):
        return responses[f"utter_ticket_update_{status}"][0]["text"].format(ticket_number=number)

    telegram_user.say("你好")
    number = open_ticket_for(servers, telegram_user.conversation_id, "telegram")
    env = {
        "AFTERSALES_DATABASE_URL": servers.database_url,
        "AFTERSALES_RELAY_TOKEN": RELAY_TOKEN,
        "AFTERSALES_RASA_PORT": servers.rasa_url.rsplit(":", 1)[1],
    }
    done = run_cli("tickets", "status", number, "pending_buyer", "--agent", "wang", env=env)
    assert done.returncode == 0, done.stderr
    assert f"已通知买家：{told('pending_buyer')}" in done.stdout
    assert servers.telegram.sent_to(telegram_user.chat_id)[-1]["text"] == told("pending_buyer")

    console = console_login(servers)
    moved = console.post(f"{servers.rasa_url}/console/api/tickets/{number}", json={"status": "with_agent"}, timeout=60)
    assert moved.status_code == 200, moved.text
    assert moved.json()["notice"]["delivered"] is True and moved.json()["notice"]["text"] == told("with_agent")
    assert servers.telegram.sent_to(telegram_user.chat_id)[-1]["text"] == told("with_agent")
    assert notices(servers, telegram_user.conversation_id) == [
        (told("pending_buyer"), True),
        (told("with_agent"), True),
    ]

    # a change the life cycle refuses is saved nowhere and told to nobody
    refused = run_cli("tickets", "status", number, "awaiting_evidence", env=env)
    assert refused.returncode == 1 and "不能从" in refused.stderr
    assert len(notices(servers, telegram_user.conversation_id)) == 2


def test_a_reply_wechat_is_slow_to_take_holds_up_no_buyer_message_and_is_recorded_after_it(servers, wechat_user):
    """The desk tells the buyer first and then appends the reply through Rasa's HTTP API, which
    takes the conversation's lock only for the append (channels/dialogue_api.py): while WeChat
    is slow with the agent's reply, the buyer's next message is handled, and the reply lands in
    the transcript after it. (Under the conversation's lock for the whole send, the buyer's
    message waited for WeChat.)"""
    wechat_user.say("转人工")
    reply = "您好，我是客服小周，正在核对您的订单。"
    with servers.wechat.holding(reply) as held, ThreadPoolExecutor(1) as pool:
        sending = pool.submit(
            servers.relay, "send", {"conversation_id": wechat_user.conversation_id, "text": reply, "agent": "小周"}
        )
        assert held.reached.wait(30), "the agent's reply never reached WeChat"
        wechat_user.send("text", {"Content": "我的耳机右边还是没声音"})
        wechat_user.turns += 1
        servers.wait_until_answered(wechat_user.conversation_id, wechat_user.turns, timeout=held.longest - 2)
        assert not sending.done(), "WeChat has not taken the reply yet"
        held.release()
        answer = sending.result(60)
    assert answer.status_code == 200, answer.text
    assert servers.wechat.texts_to(wechat_user.openid).count(reply) == 1
    said = [
        (e["event"], e.get("text"), (e.get("metadata") or {}).get("agent"))
        for e in servers.tracker(wechat_user.conversation_id)["events"]
        if e["event"] in ("user", "bot")
    ]
    buyer = said.index(("user", "我的耳机右边还是没声音", None))
    assert said.index(("bot", reply, "小周")) > buyer


def test_the_console_opens_and_answers_a_wechat_conversation_by_the_address_the_page_builds(servers, wechat_user):
    """The console page puts the conversation id in the address with encodeURIComponent, so a
    WeChat id (wechat:<appid>:<openid>) arrives with its colons as %3A."""
    from urllib.parse import quote

    wechat_user.say("转人工")
    console = console_login(servers, username="zhou")
    with session_scope(make_engine(servers.database_url)) as session:
        handoff_id = session.execute(
            select(Handoff.id).where(Handoff.conversation_id == wechat_user.conversation_id)
        ).scalar_one()
    claimed = console.post(f"{servers.rasa_url}/console/api/handoffs/{handoff_id}/claim", json={}, timeout=60)
    assert claimed.status_code == 200, claimed.text
    address = f"{servers.rasa_url}/console/api/conversations/{quote(wechat_user.conversation_id, safe='')}"
    assert "%3A" in address
    opened = console.get(address, timeout=60)
    assert opened.status_code == 200, opened.text
    assert any("转人工" in (line.get("text") or "") for line in opened.json()["lines"])
    sent = console.post(f"{address}/reply", json={"text": "您好，我来看看您的订单。"}, timeout=60)
    assert sent.status_code == 200, sent.text
    assert "您好，我来看看您的订单。" in servers.wechat.texts_to(wechat_user.openid)
