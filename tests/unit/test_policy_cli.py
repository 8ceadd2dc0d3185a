"""`python -m bot policy`: readable summary, JSON output, and exit code 2 with a Chinese message
on bad input."""

import json
import subprocess
import sys

import pytest

from bot import bootstrap
from bot.cli import ChineseArgumentParser
from bot.config import Settings
from bot.commands import policy as policy_command
from tests.cli import run_cli
from tests.unit.conftest import PROJECT_ROOT, SHOP_POLICY_FILE

FIXTURE_ORDERS = PROJECT_ROOT.parent / "shared" / "fixtures" / "orders.json"


def run_policy(argv, capsys):
    """Run the policy sub-command in-process; returns (exit code, stdout, stderr)."""
    parser = ChineseArgumentParser(prog="python -m bot")
    policy_command.register(parser.add_subparsers(dest="command", parser_class=ChineseArgumentParser))
    try:
        args = parser.parse_args(["policy", *argv])
        args.runtime = bootstrap.command_line(Settings.from_env())  # what bot.cli.main gives a command
        code = args.func(args)
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_bot_policy_prints_json():
    """The real entry point in a process of its own (the suite's one smoke test of it; the
    other command-line tests call bot.cli.main in-process)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "policy",
            "--category",
            "digital",
            "--delivered-days-ago",
            "10",
            "--cross-border",
            "--shipped-days-ago",
            "20",
            "--issue",
            "defect",
            "--evidence",
            "--price",
            "3999",
            "--payment",
            "cod",
            "--today",
            "2025-06-16",
            "--json",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    decision = payload["decision"]
    assert decision["rule_id"] == "Q2"
    assert decision["remedies"] == ["exchange", "repair"]
    assert decision["priority"] == "high"
    assert decision["warranty_end"] == "2026-05-27"  # shipped 2025-05-27 + 365 days
    assert payload["today"] == "2025-06-16"


def test_python_m_bot_policy_bad_input_exits_2_in_chinese():
    result = run_cli("policy", "--category", "toys", "--issue", "defect")
    assert result.returncode == 2
    assert "不是有效的商品类目" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_names_rule_remedies_and_refund(capsys):
    code, out, _ = run_policy(
        [
            "--category",
            "digital",
            "--delivered-days-ago",
            "3",
            "--issue",
            "defect",
            "--payment",
            "cod",
            "--today",
            "2025-06-16",
        ],
        capsys,
    )
    assert code == 0
    assert "适用规则：Q1" in out
    assert "退货退款 / 换货" in out
    assert "7 个工作日" in out
    assert "照片或视频" in out


def test_json_from_order_file(capsys):
    if not FIXTURE_ORDERS.exists():
        pytest.skip("../shared/fixtures/orders.json 不存在")
    code, out, _ = run_policy(
        ["--order-file", str(FIXTURE_ORDERS), "--order-id", "6881506350319427", "--issue", "not_shipped", "--json"],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["decision"]["rule_id"] == "L7"


def test_second_item_of_an_order_file(tmp_path, capsys):
    orders = tmp_path / "orders.json"
    orders.write_text(
        json.dumps(
            {
                "orders": [
                    {
                        "order_id": "1",
                        "cross_border": False,
                        "payment_method": "online",
                        "status": "delivered",
                        "placed_at": "2025-06-10",
                        "shipped_at": "2025-06-11",
                        "delivered_at": "2025-06-12",
                        "items": [
                            {"name": "耳机", "category": "digital", "unit_price": 300},
                            {"name": "定制杯子", "category": "custom", "unit_price": 80},
                        ],
                    }
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    code, out, _ = run_policy(
        [
            "--order-file",
            str(orders),
            "--order-id",
            "1",
            "--item",
            "2",
            "--issue",
            "no_reason",
            "--today",
            "2025-06-16",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["decision"]["rule_id"] == "N2"


def test_edited_policy_file_changes_the_answer(tmp_path, capsys):
    edited = tmp_path / "policy.yml"
    edited.write_text(
        SHOP_POLICY_FILE.read_text(encoding="utf-8").replace("window_days: 7", "window_days: 10"), encoding="utf-8"
    )
    argv = ["--category", "digital", "--delivered-days-ago", "9", "--issue", "no_reason", "--unused", "--json"]
    assert json.loads(run_policy(argv, capsys)[1])["decision"]["rule_id"] == "N3"
    assert json.loads(run_policy([*argv, "--policy", str(edited)], capsys)[1])["decision"]["rule_id"] == "N1"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--category", "digital", "--delivered-days-ago", "-3", "--issue", "defect"], ["非负整数"]),
        (["--category", "digital", "--issue", "broken"], ["不是有效的问题类型"]),
        (["--category", "digital", "--delivered-days-ago", "3"], ["--issue"]),
        (["--delivered-days-ago", "3", "--issue", "defect"], ["--category"]),
        (["--category", "digital", "--status", "delivered", "--issue", "defect"], ["签收日期"]),
        (["--order-file", "/nonexistent/orders.json", "--order-id", "1", "--issue", "defect"], ["找不到订单文件"]),
        (["--order-file", "x.json", "--issue", "defect", "--category", "digital"], ["--category"]),
        (["--category", "digital", "--issue", "defect", "--today", "2025/06/16"], ["YYYY-MM-DD"]),
        (["--category", "digital", "--issue", "defect", "--policy", "/nonexistent/policy.yml"], ["找不到售后政策文件"]),
    ],
)
def test_bad_input_exits_2_with_a_chinese_message(argv, words, capsys):
    code, _, err = run_policy(argv, capsys)
    assert code == 2
    for word in words:
        assert word in err
    assert "Traceback" not in err


def test_broken_policy_file_is_reported_with_its_key(tmp_path, capsys):
    broken = tmp_path / "policy.yml"
    broken.write_text(
        SHOP_POLICY_FILE.read_text(encoding="utf-8").replace("  digital: 365", '  digital: "abc"'), encoding="utf-8"
    )
    code, _, err = run_policy(["--category", "digital", "--issue", "defect", "--policy", str(broken)], capsys)
    assert code == 2
    assert "warranty_days.digital" in err


def test_unknown_order_id_in_file(tmp_path, capsys):
    orders = tmp_path / "orders.json"
    orders.write_text('{"orders": []}', encoding="utf-8")
    code, _, err = run_policy(["--order-file", str(orders), "--order-id", "42", "--issue", "defect"], capsys)
    assert code == 2
    assert "没有订单 42" in err
