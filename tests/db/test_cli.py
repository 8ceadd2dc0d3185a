"""`python -m bot orders|tickets|db` as shop staff run them (through the CLI's main, with its own
environment and captured output) on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.db import make_engine, session_scope
from bot.db.schema import head_revision
from bot.services.orders import find_order
from bot.services.tickets import EvidenceFile, TicketDecision, add_evidence, open_ticket, record_satisfaction
from tests import cli
from tests.cli import CliResult
from tests.db.conftest import NOW
from tests.db.helpers import DEMO_ORDERS_FILE, interchange_order


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'cli.db'}"


def run_cli(database_url: str, *args: str) -> CliResult:
    result = cli.run_cli(*args, env={"AFTERSALES_DATABASE_URL": database_url})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def run_cli_together(database_url: str, *commands: "tuple[str, ...]") -> "list[CliResult]":
    """Independent commands, one after the other."""
    return [run_cli(database_url, *args) for args in commands]


def test_import_show_and_reimport(database_url):
    first = run_cli(database_url, "orders", "import", str(DEMO_ORDERS_FILE), "--today", "2026-11-21")
    assert first.returncode == 0, first.stderr
    assert "（基准日 2026-11-21）：新建 20 个订单，更新 0 个订单。" in first.stdout
    again = run_cli(database_url, "orders", "import", str(DEMO_ORDERS_FILE), "--today", "2026-11-21")
    assert "新建 0 个订单，更新 20 个订单。" in again.stdout

    shown = run_cli(database_url, "orders", "show", "6201458839270153")
    assert shown.returncode == 0
    assert "139****4086" in shown.stdout and "13957214086" not in shown.stdout
    assert "文三路" not in shown.stdout  # the address is masked too
    assert "签收 2026-11-19" in shown.stdout and "铁三角" in shown.stdout

    as_json = json.loads(run_cli(database_url, "orders", "show", "6201458839270153", "--json").stdout)
    assert as_json["buyer_phone"] == "139****4086"
    assert as_json["tracking_events"][-1] == {"at": "2026-11-19", "text": "已签收，签收人：本人"}


def test_bad_inputs_give_chinese_messages_and_nonzero_exit(database_url, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"orders": [', encoding="utf-8")
    partly_bad = tmp_path / "partly_bad.json"
    partly_bad.write_text(
        json.dumps({"orders": [interchange_order(), interchange_order(order_id="1111222233339999", status="shipped")]}),
        encoding="utf-8",
    )
    missing, not_json, partial, unknown_order, bad_date, unreachable = run_cli_together(
        database_url,
        ("orders", "import", str(tmp_path / "nope.json")),
        ("orders", "import", str(broken)),
        ("orders", "import", str(partly_bad)),
        ("orders", "show", "0000000000000000"),
        ("orders", "import", str(partly_bad), "--today", "21/11/2026"),
        ("tickets", "list", "--database-url", "postgresql+psycopg2://postgres@127.0.0.1:1/none"),
    )
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
    assert not_json.returncode == 2 and "不是有效的 JSON：第 1 行" in not_json.stderr
    assert partial.returncode == 1
    assert "新建 1 个订单" in partial.stdout and "1 个订单有错误未导入" in partial.stdout
    assert "订单 1111222233339999：status（订单状态）「shipped」不是已知取值" in partial.stderr
    assert unknown_order.returncode == 1 and "找不到订单 0000000000000000" in unknown_order.stderr
    assert bad_date.returncode == 2 and "应为 YYYY-MM-DD" in bad_date.stderr
    assert unreachable.returncode == 1
    assert "访问数据库 postgresql+psycopg2://postgres@127.0.0.1:1/none 失败" in unreachable.stderr


def test_tickets_list_show_and_status(database_url):
    assert run_cli(database_url, "tickets", "list").stdout.strip() == "没有符合条件的工单。"  # also creates the schema
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        from bot.services.order_import import import_orders
        from tests.db.conftest import TODAY

        import_orders(session, [interchange_order()], TODAY)
        order = find_order(session, "1111222233334444")
        decision = TicketDecision(
            rule_id="Q1", remedies=("return_refund", "exchange"), evidence_required=True, priority="high"
        )
        ticket, _ = open_ticket(
            session,
            order=order,
            category="quality",
            conversation_id="c1",
            decision=decision,
            description="外壳裂了",
            now=NOW,
        )
        add_evidence(
            session, ticket, EvidenceFile("evidence/1.jpg", "ef" * 32, 1024, "image/jpeg", "裂痕.jpg"), now=NOW
        )
        record_satisfaction(session, ticket, 4, comment="还行", now=NOW)
        number = ticket.ticket_number
    engine.dispose()

    listed, listed_json, shown, shown_json, unknown = run_cli_together(
        database_url,
        ("tickets", "list", "--status", "open"),
        ("tickets", "list", "--json", "--limit", "5"),
        ("tickets", "show", number.lower()),
        ("tickets", "show", number, "--json"),
        ("tickets", "show", "AS000"),
    )
    assert number in listed.stdout and "处理中" in listed.stdout and "1111222233334444" in listed.stdout
    assert json.loads(listed_json.stdout)[0]["ticket_number"] == number
    assert shown.returncode == 0
    for expected in (
        "退货退款（return_refund）",
        "awaiting_evidence → open",
        "裂痕.jpg",
        "满意度：4 分（还行）",
        "外壳裂了",
    ):
        assert expected in shown.stdout
    assert unknown.returncode == 1 and unknown.stderr.strip() == "找不到工单 AS000。"
    detail = json.loads(shown_json.stdout)
    assert [event["to_status"] for event in detail["events"] if event["to_status"]] == ["awaiting_evidence", "open"]
    assert detail["evidence"][0]["sha256"] == "ef" * 32 and detail["satisfaction"]["score"] == 4

    moved = run_cli(database_url, "tickets", "status", number, "resolved", "--agent", "amy", "--note", "已换货")
    assert moved.returncode == 0 and "处理中 → 已解决" in moved.stdout
    # no assistant runs for this database: the change is saved and the command says the buyer was not told
    assert "买家没有收到通知" in moved.stdout
    refused = run_cli(database_url, "tickets", "status", number, "pending_buyer")
    assert refused.returncode == 1 and "不能从「已解决 resolved」变为「等待买家回复 pending_buyer」" in refused.stderr

    tracked = run_cli(database_url, "tickets", "tracking", number, "顺丰速运", "SF1234567890", "--agent", "amy")
    assert tracked.returncode == 0 and "新物流单号 顺丰速运 SF1234567890" in tracked.stdout
    shown = json.loads(run_cli(database_url, "tickets", "show", number, "--json").stdout)
    assert any("新物流单号：顺丰速运 SF1234567890" in (event.get("note") or "") for event in shown["events"])
    empty = run_cli(database_url, "tickets", "tracking", number, "顺丰速运", " ")
    assert empty.returncode == 1 and "请同时填写承运商和物流单号" in empty.stderr


def test_help_is_chinese_and_db_commands_work(database_url):
    commands = [("tickets", "--help"), ("orders", "--help"), ("db", "upgrade")]
    tickets_help, orders_help, *upgraded = run_cli_together(database_url, *commands)
    assert "售后工单" in tickets_help.stdout and "变更工单状态" in tickets_help.stdout
    assert "导入订单文件" in orders_help.stdout
    if upgraded:
        assert upgraded[0].returncode == 0 and f"已是最新表结构（版本 {head_revision()}）" in upgraded[0].stdout
        assert Path(database_url.removeprefix("sqlite:///")).exists()
