"""Agent accounts, logins and the desk logic on a real (migrated) SQLite database, no server."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.console import accounts, commands, views
from bot.console.accounts import AccountError
from bot.console.transcript import transcript
from bot.db import Handoff, Ticket, make_engine, session_scope, upgrade_database
from bot.policy import load_policy
from bot.console import waiting
from bot.services import cases, handoffs, tickets
from bot.services.errors import HandoffUnavailable, InvalidChange
from bot.services.order_import import import_orders
from bot.services.orders import find_order
from tests.conftest import PROJECT_ROOT

NOW = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        data = json.loads((PROJECT_ROOT / "shop" / "demo_orders.json").read_text(encoding="utf-8"))
        import_orders(session, data, date(2026, 11, 21))
    yield engine
    engine.dispose()


@pytest.fixture
def policy():
    return load_policy()


def agent(session, username="wang", role="agent"):
    return accounts.SignedInAgent.of(accounts.create_agent(session, username, "password-123", role=role))


def open_case(session, conversation_id="c-1", priority="normal"):
    order = find_order(session, "6201458839270153")
    ticket, _ = tickets.open_ticket(
        session,
        order=order,
        category="quality",
        conversation_id=conversation_id,
        now=NOW,
        decision=tickets.TicketDecision(
            rule_id="Q1",
            remedies=("return_refund", "exchange"),
            priority=priority,
            first_response_due=NOW + 24 * HOUR,
            resolution_due=NOW + 7 * 24 * HOUR,
        ),
    )
    handoff, _ = handoffs.enqueue_handoff(
        session,
        conversation_id=conversation_id,
        reason="buyer_request",
        priority=priority,
        ticket=ticket,
        channel="webchat",
        now=NOW,
    )
    return ticket, handoff


# ---- accounts ---------------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_hashes():
    first, second = accounts.hash_password("password-123"), accounts.hash_password("password-123")
    assert first != second and first.startswith("scrypt$16384$8$1$") and "password-123" not in first
    assert accounts.verify_password("password-123", first)
    assert not accounts.verify_password("password-124", first)
    assert not accounts.verify_password("password-123", "md5$whatever")


def test_bad_account_data_is_refused_in_chinese(engine):
    with session_scope(engine) as session:
        agent(session)
        with pytest.raises(AccountError, match="已存在"):
            accounts.create_agent(session, "wang", "password-123")
        with pytest.raises(AccountError, match="至少需要 8 个字符"):
            accounts.create_agent(session, "li", "short")
        with pytest.raises(AccountError, match="角色"):
            accounts.create_agent(session, "li", "password-123", role="admin")
        with pytest.raises(AccountError, match="用户名只能包含"):
            accounts.create_agent(session, "<script>", "password-123")


def test_logins_expire_end_at_logout_and_with_a_new_password(engine):
    with session_scope(engine) as session:
        agent(session)
        with pytest.raises(AccountError, match="用户名或密码错误"):
            accounts.log_in(session, "wang", "wrong-password", lifetime=HOUR, now=NOW)
        with pytest.raises(AccountError, match="用户名或密码错误"):
            accounts.log_in(session, "nobody", "password-123", lifetime=HOUR, now=NOW)
        token, signed_in = accounts.log_in(session, "wang", "password-123", lifetime=8 * HOUR, now=NOW)
        assert signed_in.username == "wang"
        assert accounts.agent_for_token(session, token, now=NOW + 7 * HOUR) == signed_in
        assert accounts.agent_for_token(session, token, now=NOW + 8 * HOUR) is None
        assert accounts.agent_for_token(session, token + "x", now=NOW) is None

        other, _ = accounts.log_in(session, "wang", "password-123", lifetime=HOUR, now=NOW)
        accounts.log_out(session, other, now=NOW)
        assert accounts.agent_for_token(session, other, now=NOW) is None

        third, _ = accounts.log_in(session, "wang", "password-123", lifetime=HOUR, now=NOW)
        accounts.set_password(session, "wang", "new-password-1")
        assert accounts.agent_for_token(session, third) is None
        accounts.log_in(session, "wang", "new-password-1", lifetime=HOUR)


# ---- queue, claim, notes, edits ---------------------------------------------------------------


def test_the_queue_shows_priority_reason_waiting_time_and_sla(engine, policy):
    with session_scope(engine) as session:
        me = agent(session)
        open_case(session, "c-normal")
        open_case(session, "c-urgent", priority="urgent")
        rows = views.queue(session, "waiting", me, policy, now=NOW + 30 * 60 * timedelta(seconds=1))
        assert [row["conversation_id"] for row in rows] == ["c-urgent", "c-normal"]
        assert rows[0]["priority_label"] == "紧急" and rows[0]["reason_label"] == "买家要求转人工"
        assert rows[0]["waiting_seconds"] == 1800 and rows[0]["sla_breached"] is False
        assert rows[0]["sla_deadline"] == (NOW + 24 * HOUR).isoformat()
        late = views.queue(session, "waiting", me, policy, now=NOW + 25 * HOUR)
        assert all(row["sla_breached"] for row in late)
        with pytest.raises(InvalidChange, match="队列视图"):
            views.queue(session, "everything", me, policy)


def test_only_one_of_two_concurrent_claims_wins(engine):
    with session_scope(engine) as session:
        agent(session, "wang")
        agent(session, "li")
        _, handoff = open_case(session)
        handoff_id = handoff.id
    results, barrier = {}, threading.Barrier(2)

    def claim(name):
        barrier.wait()
        try:
            with session_scope(engine) as session:
                commands.claim(session, handoff_id, accounts.SignedInAgent(0, name, name, "agent"))
            results[name] = "won"
        except HandoffUnavailable as refused:
            results[name] = refused.message

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("wang", "li")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(results.values(), key=lambda value: value != "won")
    assert outcomes[0] == "won" and "不能接手" in outcomes[1]
    with session_scope(engine) as session:
        assert (
            session.get(Handoff, handoff_id).agent in results and session.get(Handoff, handoff_id).status == "claimed"
        )


def test_only_the_owner_or_a_supervisor_acts_on_a_claimed_chat(engine):
    with session_scope(engine) as session:
        wang, li, boss = agent(session, "wang"), agent(session, "li"), agent(session, "boss", "supervisor")
        _, handoff = open_case(session)
        with pytest.raises(HandoffUnavailable, match="请先接手"):
            commands.require_owned_handoff(session, "c-1", wang)
        commands.claim(session, handoff.id, wang)
        assert commands.require_owned_handoff(session, "c-1", wang).id == handoff.id
        with pytest.raises(HandoffUnavailable, match="由 wang 处理中"):
            commands.require_owned_handoff(session, "c-1", li)
        assert commands.require_owned_handoff(session, "c-1", boss).id == handoff.id


def test_ticket_edits_and_notes_are_recorded(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        commands.claim(session, handoff.id, wang)
        commands.edit_ticket(
            session, ticket.ticket_number, wang, {"priority": "high", "chosen_remedy": "repair", "note": "改为维修"}
        )
        commands.edit_ticket(session, ticket.ticket_number, wang, {"status": "pending_buyer"})
        with pytest.raises(InvalidChange, match="不能在控制台修改"):
            commands.edit_ticket(session, ticket.ticket_number, wang, {"rule_id": "Q9"})
        commands.add_note(session, "c-1", wang, "  <b>买家很着急</b> ")
        with pytest.raises(InvalidChange, match="不能为空"):
            commands.add_note(session, "c-1", wang, "   ")
        details = views.conversation_details(session, "c-1", policy, verified_order_number="6201458839270153")
        [shown] = details["tickets"]
        assert shown["priority"] == "high" and shown["chosen_remedy"] == "repair" and shown["status"] == "pending_buyer"
        changes = [event for event in shown["events"] if event["actor"] == "agent:wang"]
        assert any(
            e["details"] and e["details"].get("chosen_remedy") == {"from": None, "to": "repair"} for e in changes
        )
        assert any(e["to_status"] == "pending_buyer" for e in changes)
        assert details["notes"][0]["body"] == "<b>买家很着急</b>"
        assert details["verified_order"]["buyer_phone"].count("*") == 4


def test_resolve_closes_the_tickets_and_ends_the_handoff(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        commands.claim(session, handoff.id, wang)
        outcome = commands.resolve(session, "c-1", "wang")
        assert outcome == {"ticket_number": ticket.ticket_number, "closed": [ticket.ticket_number], "kept_open": []}
        assert session.get(Handoff, handoff.id).status == "resolved"
        assert session.execute(select(Ticket.status).where(Ticket.id == ticket.id)).scalar_one() == "closed"
        dashboard = views.dashboard(session, policy, now=NOW)
        assert dashboard["open_tickets"] == 0 and dashboard["waiting_handoffs"] == 0


def test_hand_back_returns_the_handoff_and_reopens_the_ticket(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        commands.claim(session, handoff.id, wang)
        assert commands.hand_back(session, "c-1", "wang").status == "returned"
        assert session.get(Ticket, ticket.id).status == "open"
        assert commands.hand_back(session, "c-1", "wang") is None


def test_dashboard_counts_by_category_priority_and_sla(engine, policy):
    with session_scope(engine) as session:
        open_case(session, "c-a", priority="urgent")
        open_case(session, "c-b")
        board = views.dashboard(session, policy, now=NOW + 8 * 24 * HOUR)
        [quality] = board["open_by_category"]
        assert quality["label"] == "质量问题" and quality["total"] == 2
        assert {p["priority"]: p["count"] for p in quality["priorities"]} == {"urgent": 1, "high": 0, "normal": 1}
        assert board["sla_breaches"] == {"tickets_past_resolution_due": 2, "handoffs_past_deadline": 2}
        assert board["satisfaction"] == {"average": None, "count": 0}


def test_transcript_marks_agents_and_shows_button_titles():
    events = [
        {
            "event": "user",
            "text": "<script>x</script>",
            "timestamp": 1,
            "metadata": {},
            "parse_data": {"intent": {"name": "greet"}},
        },
        {
            "event": "bot",
            "text": "您好",
            "timestamp": 2,
            "data": {"buttons": [{"title": "换货", "payload": "/inform"}]},
        },
        {"event": "user", "text": '/inform{"remedy":"exchange"}', "timestamp": 3, "metadata": {"shown_text": "换货"}},
        {"event": "pause", "timestamp": 4},
        {"event": "bot", "text": "我是小王", "timestamp": 5, "metadata": {"agent": "wang"}},
        {"event": "slot", "name": "x", "value": 1, "timestamp": 6},
    ]
    lines = transcript(events)
    assert [line["from"] for line in lines] == ["buyer", "bot", "buyer", "system", "agent"]
    assert lines[0]["text"] == "<script>x</script>" and lines[2]["text"] == "换货"
    assert lines[4]["agent"] == "wang" and lines[1]["buttons"][0]["title"] == "换货"
    assert [line["from"] for line in transcript(events, include_system=False)] == ["buyer", "bot", "buyer", "agent"]


def test_a_note_alone_is_kept_in_the_audit_trail_and_bad_notes_are_refused(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, _ = open_case(session)
        commands.edit_ticket(session, ticket.ticket_number, wang, {"note": "  已电话联系买家，等回复  "})
        commands.edit_ticket(
            session, ticket.ticket_number, wang, {"priority": "normal", "note": "优先级不变，仅补充说明"}
        )
        with pytest.raises(InvalidChange, match="必须是文字"):
            commands.edit_ticket(session, ticket.ticket_number, wang, {"note": {"text": "x"}})
        with pytest.raises(InvalidChange, match="没有需要保存的修改"):
            commands.edit_ticket(session, ticket.ticket_number, wang, {"note": "   "})
        events = views.conversation_details(session, "c-1", policy)["tickets"][0]["events"]
        notes = [(event["actor"], event["note"]) for event in events if event["actor"] == "agent:wang"]
        assert notes == [("agent:wang", "已电话联系买家，等回复"), ("agent:wang", "优先级不变，仅补充说明")]


def test_transcript_shows_only_the_projects_own_evidence_urls():
    digest = "ab" * 32
    events = [
        {
            "event": "user",
            "text": "看图",
            "timestamp": 1,
            "metadata": {
                "attachments": [
                    {"type": "image", "url": "javascript:alert(document.cookie)", "sha256": digest, "name": "x" * 300},
                    {"type": "video", "url": "javascript:alert(1)", "name": "点我"},
                    {"type": "video", "url": f"/evidence/{digest}.mp4", "sha256": "../../etc/passwd"},
                    {"type": "<b>", "url": f"https://evil.example/{digest}.jpg", "sha256": digest.upper()},
                ]
            },
        },
    ]
    [line] = transcript(events)
    assert [a["url"] for a in line["attachments"]] == [f"/evidence/{digest}.bin", f"/evidence/{digest}.jpg"]
    assert [a["type"] for a in line["attachments"]] == ["image", "image"]
    assert len(line["attachments"][0]["name"]) == 120


# ---- the ticket workspace -----------------------------------------------------------------------


def bot_ticket(
    session,
    conversation_id,
    order_number,
    category="logistics",
    rule="L2",
    status=None,
    priority="normal",
    channel="wechat",
    resolution_in=7 * 24 * HOUR,
    remedy=None,
):
    """A ticket the bot opened on its own (no hand-over)."""
    ticket, _ = tickets.open_ticket(
        session,
        order=find_order(session, order_number),
        category=category,
        conversation_id=conversation_id,
        channel=channel,
        now=NOW,
        decision=tickets.TicketDecision(
            rule_id=rule,
            remedies=(remedy or "reship",),
            priority=priority,
            first_response_due=NOW + 24 * HOUR,
            resolution_due=NOW + resolution_in,
        ),
    )
    if remedy:
        tickets.update_ticket(session, ticket, "bot", chosen_remedy=remedy)
    if status:
        tickets.change_status(session, ticket, status, "bot", None)
    return ticket


def demo_orders(count):
    data = json.loads((PROJECT_ROOT / "shop" / "demo_orders.json").read_text(encoding="utf-8"))
    orders = data["orders"] if isinstance(data, dict) else data
    return [order["order_id"] for order in orders][:count]


def test_the_workspace_lists_every_ticket_with_filters_and_search(engine):
    with session_scope(engine) as session:
        wang = agent(session)
        agent(session, "li")
        handed, _ = open_case(session, "c-handed", priority="urgent")
        first, second = demo_orders(3)[1:3]
        late = bot_ticket(session, "c-late", first, resolution_in=2 * HOUR)
        quiet = bot_ticket(session, "c-quiet", second, category="quality", rule="Q1", channel="webchat")
        numbers = lambda result: [row["ticket_number"] for row in result["tickets"]]  # noqa: E731

        everything = views.ticket_list(session, {}, wang, now=NOW)
        assert sorted(numbers(everything)) == sorted([handed.ticket_number, late.ticket_number, quiet.ticket_number])
        assert numbers(everything)[0] == handed.ticket_number  # urgent first
        assert numbers(views.ticket_list(session, {"rule": "L2"}, wang, now=NOW)) == [late.ticket_number]
        assert numbers(views.ticket_list(session, {"channel": "webchat", "category": "quality"}, wang, now=NOW)) == [
            quiet.ticket_number
        ]
        assert numbers(views.ticket_list(session, {"priority": "urgent"}, wang, now=NOW)) == [handed.ticket_number]
        # the L2 ticket must be resolved within 2 hours, the others answered within 24
        assert numbers(views.ticket_list(session, {"sla": "due_soon"}, wang, now=NOW + HOUR)) == [late.ticket_number]
        breached = views.ticket_list(session, {"sla": "breached"}, wang, now=NOW + 3 * HOUR)
        assert numbers(breached) == [late.ticket_number] and breached["tickets"][0]["sla"]["kind"] == "resolution"
        assert len(numbers(views.ticket_list(session, {"sla": "due_soon"}, wang, now=NOW + 21 * HOUR))) == 2
        commands.assign_ticket(session, late.ticket_number, wang, "wang")

        assert numbers(views.ticket_list(session, {"assignee": "me"}, wang, now=NOW)) == [late.ticket_number]
        assert late.ticket_number not in numbers(views.ticket_list(session, {"assignee": "none"}, wang, now=NOW))
        assert numbers(views.ticket_list(session, {"q": late.ticket_number.lower()}, wang, now=NOW)) == [
            late.ticket_number
        ]
        assert numbers(views.ticket_list(session, {"q": first}, wang, now=NOW)) == [late.ticket_number]
        buyer = find_order(session, second).buyer_name
        assert quiet.ticket_number in numbers(views.ticket_list(session, {"q": buyer}, wang, now=NOW))

        row = everything["tickets"][0]
        assert row["status_label"] == "人工处理中" or row["status_label"] in ("处理中", "待补充凭证")
        assert {"value": "wang", "label": "wang"} in everything["choices"]["assignee"]
        with pytest.raises(InvalidChange, match="不认识的筛选条件"):
            views.ticket_list(session, {"colour": "red"}, wang)
        with pytest.raises(InvalidChange, match="工单状态"):
            views.ticket_list(session, {"status": "lost"}, wang)


def test_assignment_is_audited_and_only_a_supervisor_gives_a_ticket_to_someone_else(engine):
    with session_scope(engine) as session:
        wang, li, boss = agent(session, "wang"), agent(session, "li"), agent(session, "boss", "supervisor")
        ticket = bot_ticket(session, "c-1", demo_orders(1)[0])
        with pytest.raises(InvalidChange, match="只有主管"):
            commands.assign_ticket(session, ticket.ticket_number, wang, "li")
        commands.assign_ticket(session, ticket.ticket_number, boss, "li")
        with pytest.raises(InvalidChange, match="由 li 负责"):
            commands.assign_ticket(session, ticket.ticket_number, wang, None)
        with pytest.raises(InvalidChange, match="没有名为"):
            commands.assign_ticket(session, ticket.ticket_number, boss, "ghost")
        commands.assign_ticket(session, ticket.ticket_number, li, None)
        commands.add_ticket_note(session, ticket.ticket_number, wang, "已联系快递")
        page = views.ticket_page(session, ticket.ticket_number)
        assert page["assignee"] is None and page["notes"][0]["body"] == "已联系快递"
        trail = [(e["actor"], e["note"], e["details"]) for e in page["events"] if e["actor"] != "bot"]
        assert trail == [
            ("agent:boss", "分配给 li", {"assignee": {"from": None, "to": "li"}}),
            ("agent:li", "取消分配", {"assignee": {"from": "li", "to": None}}),
        ]
        assert page["order"]["status_label"] != page["order"]["status"]  # a Chinese label, not the code


def test_resolve_shows_a_remedy_under_way_and_does_what_the_agent_chose(engine):
    for choice, expected in (("keep", "pending_buyer"), ("close", "closed")):
        with session_scope(engine) as session:
            wang = session.execute(select(accounts.Agent).where(accounts.Agent.username == "wang")).scalar_one_or_none()
            wang = accounts.SignedInAgent.of(wang) if wang else agent(session)
            conversation = f"c-exchange-{choice}"
            ticket = bot_ticket(
                session,
                conversation,
                demo_orders(1)[0],
                category="quality",
                rule="Q1",
                remedy="exchange",
                status="pending_buyer",
                channel="webchat",
            )
            queued = cases.request_handoff(
                session,
                conversation_id=conversation,
                ticket_number=None,
                reason="buyer_request",
                channel="webchat",
                policy=load_policy(),
            )
            handoff = handoffs.active_handoff(session, conversation)
            assert handoff.ticket_id == ticket.id  # linked although the bot lost its ticket slot
            assert queued.wait_minutes is None and queued.unavailable is not None  # nobody signed in
            commands.claim(session, handoff.id, wang)
            assert session.get(Ticket, ticket.id).status == "with_agent"
            with pytest.raises(commands.PendingRemedies) as refused:
                commands.resolve(session, conversation, "wang")
            [pending] = refused.value.pending
            assert pending["ticket_number"] == ticket.ticket_number and "换货" in pending["what"]
            assert session.get(Handoff, handoff.id).status == "claimed"  # nothing changed yet
            outcome = commands.resolve(session, conversation, "wang", pending=choice)
            assert session.get(Ticket, ticket.id).status == expected
            assert session.get(Handoff, handoff.id).status == "resolved"
            assert outcome["kept_open" if choice == "keep" else "closed"] == [ticket.ticket_number]


def test_resolve_links_a_handoff_without_ticket_to_the_conversations_ticket(engine):
    with session_scope(engine) as session:
        wang = agent(session)
        handoff, _ = handoffs.enqueue_handoff(
            session,
            conversation_id="c-lost",
            reason="not_understood",
            priority="normal",
            ticket=None,
            channel="webchat",
            now=NOW,
        )
        ticket = bot_ticket(session, "c-lost", demo_orders(1)[0])
        commands.claim(session, handoff.id, wang)
        outcome = commands.resolve(session, "c-lost", "wang")
        assert session.get(Handoff, handoff.id).ticket_id == ticket.id
        assert outcome["closed"] == [ticket.ticket_number] and session.get(Ticket, ticket.id).status == "closed"


# ---- waiting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["在吗", "在吗？", "有人吗??", "人呢", "你好，在吗", "还在吗～", "hello?"])
def test_a_ping_is_only_asking_whether_someone_is_there(text):
    assert waiting.is_ping(text)


@pytest.mark.parametrize("text", ["", "在吗 我的耳机坏了", "我要退货", "订单 6201458839270153", "在吗" * 10])
def test_a_message_with_content_is_not_a_ping(text):
    assert not waiting.is_ping(text)


@pytest.mark.parametrize("text", ["谢谢", "好的，谢谢", "好的辛苦了", "ok thx", "嗯嗯，知道了", "谢谢你们!"])
def test_thanks_while_waiting_is_a_courtesy(text):
    assert waiting.is_courtesy(text)


@pytest.mark.parametrize("text", ["", "谢谢，但耳机还是没声音", "好的我要退货", "不好", "谢谢" * 10])
def test_thanks_with_content_is_no_mere_courtesy(text):
    assert not waiting.is_courtesy(text)


def test_the_wait_comes_from_agents_online_and_recent_handling_times(engine):
    with session_scope(engine) as session:
        for index in range(3):
            handoffs.enqueue_handoff(
                session,
                conversation_id=f"q-{index}",
                reason="buyer_request",
                priority="normal",
                ticket=None,
                channel="webchat",
                now=NOW + index * timedelta(seconds=1),
            )
        nobody = waiting.estimate(session, "q-2", default_minutes=3, now=NOW)
        assert nobody.position == 3 and nobody.agents_online == 0 and nobody.wait_minutes is None
        agent(session, "wang"), agent(session, "li")
        accounts.log_in(session, "wang", "password-123", lifetime=8 * HOUR, now=NOW)
        # two finished chats of 10 and 20 minutes: 15 minutes per chat
        for index, minutes in enumerate((10, 20)):
            done, _ = handoffs.enqueue_handoff(
                session,
                conversation_id=f"done-{index}",
                reason="buyer_request",
                priority="normal",
                ticket=None,
                channel="webchat",
                now=NOW - 2 * HOUR,
            )
            handoffs.claim_handoff(session, done.id, "wang", now=NOW - HOUR)
            handoffs.resolve_handoff(session, done.id, "wang", now=NOW - HOUR + timedelta(minutes=minutes))
        one = waiting.estimate(session, "q-2", default_minutes=3, now=NOW)
        assert one.agents_online == 1 and one.minutes_per_chat == 15 and one.wait_minutes == 45
        accounts.log_in(session, "li", "password-123", lifetime=8 * HOUR, now=NOW)
        two = waiting.estimate(session, "q-2", default_minutes=3, now=NOW)
        assert two.agents_online == 2 and two.wait_minutes == 23


def test_the_sla_watch_flags_promised_deadlines_once_per_state(engine):
    with session_scope(engine) as session:
        wang = agent(session)
        late = bot_ticket(session, "c-late", demo_orders(1)[0], resolution_in=6 * HOUR)
        calm = bot_ticket(session, "c-calm", demo_orders(2)[1])
        commands.assign_ticket(session, late.ticket_number, wang, "wang")  # first response done: resolution counts
        assert commands.flag_sla(session, now=NOW) == []
        soon = commands.flag_sla(session, now=NOW + 3 * HOUR)
        assert soon == [
            {
                "ticket_number": late.ticket_number,
                "kind": "resolution",
                "state": "due_soon",
                "due": (NOW + 6 * HOUR).isoformat(),
            }
        ]
        assert commands.flag_sla(session, now=NOW + 3 * HOUR + timedelta(minutes=5)) == []  # flagged once
        breached = commands.flag_sla(session, now=NOW + 7 * HOUR)
        assert [(f["ticket_number"], f["state"]) for f in breached] == [(late.ticket_number, "breached")]
        trail = [e for e in views.ticket_page(session, late.ticket_number)["events"] if e["actor"] == "system:sla"]
        assert [e["changes"] for e in trail] == [["SLA：即将到期"], ["SLA：已超时"]]
        assert "答应买家的时间没有做到" in trail[-1]["note"]
        # 21 hours on, the untouched ticket's first response is due soon
        assert [f["ticket_number"] for f in commands.flag_sla(session, now=NOW + 21 * HOUR)] == [calm.ticket_number]
        tickets.change_status(session, session.get(Ticket, late.id), "resolved", "agent:wang", None)
        assert commands.flag_sla(session, now=NOW + 30 * HOUR) == [
            {
                "ticket_number": calm.ticket_number,
                "kind": "first_response",
                "state": "breached",
                "due": (NOW + 24 * HOUR).isoformat(),
            }
        ]
