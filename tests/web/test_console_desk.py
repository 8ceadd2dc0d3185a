"""Agent accounts, logins and the desk logic on a real (migrated) SQLite database, no server."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.console import accounts, desk
from bot.console.accounts import AccountError
from bot.console.transcript import transcript
from bot.db import Handoff, Ticket, make_engine, session_scope, upgrade_database
from bot.policy import load_policy
from bot.services import handoffs, tickets
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
        session, order=order, category="quality", conversation_id=conversation_id, now=NOW,
        decision=tickets.TicketDecision(rule_id="Q1", remedies=("return_refund", "exchange"), priority=priority,
                                        first_response_due=NOW + 24 * HOUR, resolution_due=NOW + 7 * 24 * HOUR),
    )
    handoff, _ = handoffs.enqueue_handoff(session, conversation_id=conversation_id, reason="buyer_request",
                                          priority=priority, ticket=ticket, channel="webchat", now=NOW)
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
        rows = desk.queue(session, "waiting", me, policy, now=NOW + 30 * 60 * timedelta(seconds=1))
        assert [row["conversation_id"] for row in rows] == ["c-urgent", "c-normal"]
        assert rows[0]["priority_label"] == "紧急" and rows[0]["reason_label"] == "买家要求转人工"
        assert rows[0]["waiting_seconds"] == 1800 and rows[0]["sla_breached"] is False
        assert rows[0]["sla_deadline"] == (NOW + 24 * HOUR).isoformat()
        late = desk.queue(session, "waiting", me, policy, now=NOW + 25 * HOUR)
        assert all(row["sla_breached"] for row in late)
        with pytest.raises(InvalidChange, match="队列视图"):
            desk.queue(session, "everything", me, policy)


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
                desk.claim(session, handoff_id, accounts.SignedInAgent(0, name, name, "agent"))
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
        assert session.get(Handoff, handoff_id).agent in results and session.get(Handoff, handoff_id).status == "claimed"


def test_only_the_owner_or_a_supervisor_acts_on_a_claimed_chat(engine):
    with session_scope(engine) as session:
        wang, li, boss = agent(session, "wang"), agent(session, "li"), agent(session, "boss", "supervisor")
        _, handoff = open_case(session)
        with pytest.raises(HandoffUnavailable, match="请先接手"):
            desk.require_owned_handoff(session, "c-1", wang)
        desk.claim(session, handoff.id, wang)
        assert desk.require_owned_handoff(session, "c-1", wang).id == handoff.id
        with pytest.raises(HandoffUnavailable, match="由 wang 处理中"):
            desk.require_owned_handoff(session, "c-1", li)
        assert desk.require_owned_handoff(session, "c-1", boss).id == handoff.id


def test_ticket_edits_and_notes_are_recorded(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        desk.claim(session, handoff.id, wang)
        desk.edit_ticket(session, ticket.ticket_number, wang, {"priority": "high", "chosen_remedy": "repair", "note": "改为维修"})
        desk.edit_ticket(session, ticket.ticket_number, wang, {"status": "pending_buyer"})
        with pytest.raises(InvalidChange, match="不能在控制台修改"):
            desk.edit_ticket(session, ticket.ticket_number, wang, {"rule_id": "Q9"})
        desk.add_note(session, "c-1", wang, "  <b>买家很着急</b> ")
        with pytest.raises(InvalidChange, match="不能为空"):
            desk.add_note(session, "c-1", wang, "   ")
        details = desk.conversation_details(session, "c-1", policy, verified_order_number="6201458839270153")
        [shown] = details["tickets"]
        assert shown["priority"] == "high" and shown["chosen_remedy"] == "repair" and shown["status"] == "pending_buyer"
        changes = [event for event in shown["events"] if event["actor"] == "agent:wang"]
        assert any(e["details"] and e["details"].get("chosen_remedy") == {"from": None, "to": "repair"} for e in changes)
        assert any(e["to_status"] == "pending_buyer" for e in changes)
        assert details["notes"][0]["body"] == "<b>买家很着急</b>"
        assert details["verified_order"]["buyer_phone"].count("*") == 4


def test_resolve_closes_the_tickets_and_ends_the_handoff(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        desk.claim(session, handoff.id, wang)
        assert desk.resolve(session, "c-1", "wang") == ticket.ticket_number
        assert session.get(Handoff, handoff.id).status == "resolved"
        assert session.execute(select(Ticket.status).where(Ticket.id == ticket.id)).scalar_one() == "closed"
        dashboard = desk.dashboard(session, policy, now=NOW)
        assert dashboard["open_tickets"] == 0 and dashboard["waiting_handoffs"] == 0


def test_hand_back_returns_the_handoff_and_reopens_the_ticket(engine, policy):
    with session_scope(engine) as session:
        wang = agent(session)
        ticket, handoff = open_case(session)
        desk.claim(session, handoff.id, wang)
        assert desk.hand_back(session, "c-1", "wang").status == "returned"
        assert session.get(Ticket, ticket.id).status == "open"
        assert desk.hand_back(session, "c-1", "wang") is None


def test_dashboard_counts_by_category_priority_and_sla(engine, policy):
    with session_scope(engine) as session:
        open_case(session, "c-a", priority="urgent")
        open_case(session, "c-b")
        board = desk.dashboard(session, policy, now=NOW + 8 * 24 * HOUR)
        [quality] = board["open_by_category"]
        assert quality["label"] == "质量问题" and quality["total"] == 2
        assert {p["priority"]: p["count"] for p in quality["priorities"]} == {"urgent": 1, "high": 0, "normal": 1}
        assert board["sla_breaches"] == {"tickets_past_resolution_due": 2, "handoffs_past_deadline": 2}
        assert board["satisfaction"] == {"average": None, "count": 0}


def test_transcript_marks_agents_and_shows_button_titles():
    events = [
        {"event": "user", "text": "<script>x</script>", "timestamp": 1, "metadata": {}, "parse_data": {"intent": {"name": "greet"}}},
        {"event": "bot", "text": "您好", "timestamp": 2, "data": {"buttons": [{"title": "换货", "payload": "/inform"}]}},
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
        desk.edit_ticket(session, ticket.ticket_number, wang, {"note": "  已电话联系买家，等回复  "})
        desk.edit_ticket(session, ticket.ticket_number, wang, {"priority": "normal", "note": "优先级不变，仅补充说明"})
        with pytest.raises(InvalidChange, match="必须是文字"):
            desk.edit_ticket(session, ticket.ticket_number, wang, {"note": {"text": "x"}})
        with pytest.raises(InvalidChange, match="没有需要保存的修改"):
            desk.edit_ticket(session, ticket.ticket_number, wang, {"note": "   "})
        events = desk.conversation_details(session, "c-1", policy)["tickets"][0]["events"]
        notes = [(event["actor"], event["note"]) for event in events if event["actor"] == "agent:wang"]
        assert notes == [("agent:wang", "已电话联系买家，等回复"), ("agent:wang", "优先级不变，仅补充说明")]


def test_transcript_shows_only_the_projects_own_evidence_urls():
    digest = "ab" * 32
    events = [
        {"event": "user", "text": "看图", "timestamp": 1, "metadata": {"attachments": [
            {"type": "image", "url": "javascript:alert(document.cookie)", "sha256": digest, "name": "x" * 300},
            {"type": "video", "url": "javascript:alert(1)", "name": "点我"},
            {"type": "video", "url": f"/evidence/{digest}.mp4", "sha256": "../../etc/passwd"},
            {"type": "<b>", "url": f"https://evil.example/{digest}.jpg", "sha256": digest.upper()},
        ]}},
    ]
    [line] = transcript(events)
    assert [a["url"] for a in line["attachments"]] == [f"/evidence/{digest}.bin", f"/evidence/{digest}.jpg"]
    assert [a["type"] for a in line["attachments"]] == ["image", "image"]
    assert len(line["attachments"][0]["name"]) == 120
