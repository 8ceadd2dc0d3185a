"""`python -m bot dialogue-eval`: plays the scripted buyers against freshly started servers and
reports task success and turns to a ticket (docs/dialogue-report.md)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bot.config import PROJECT_ROOT

DEFAULT_REPORT = PROJECT_ROOT / "docs" / "dialogue-report.md"
SHARED_ORDERS = PROJECT_ROOT.parent / "shared" / "fixtures" / "orders.json"
DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dialogue-eval",
        help="对话测评：脚本化买家与助手完整对话，统计任务成功率和开单轮数",
        description="启动动作服务器和 Rasa 服务器（临时数据库），逐个播放对话场景并写出 markdown 报告。",
    )
    parser.add_argument("--model", type=Path, help="使用这个模型文件（.tar.gz）；默认按需训练并用 models/ 下最新的")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="报告路径（默认 docs/dialogue-report.md）")
    parser.add_argument(
        "--orders", type=Path, default=SHARED_ORDERS, help="共享样例订单（默认 ../shared/fixtures/orders.json）"
    )
    parser.add_argument("--only", nargs="*", default=(), help="只播放这些场景 id")
    parser.add_argument(
        "--record-stories",
        type=Path,
        metavar="YAML",
        help="把通过的、对应政策规则的对话导出为 Rasa 测试故事（如 tests/stories/policy_paths.yml）",
    )
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from benchmarks.conversations import (
        TARGET_SUCCESS_RATE,
        ConversationHarness,
        load_scenarios,
        recorded_story,
        report_json,
        report_markdown,
        stories_yaml,
    )
    from benchmarks.nlu import machine_description
    from bot.commands.serve import train_if_changed
    from bot.launcher import running_assistant

    if not args.orders.exists():
        print(f"错误：找不到样例订单文件 {args.orders}（对话场景使用其中的订单）。", file=sys.stderr)
        return 2
    if args.model is not None and not args.model.exists():
        print(f"错误：模型文件不存在：{args.model}", file=sys.stderr)
        return 2
    scenarios = load_scenarios()
    if args.only:
        unknown = sorted(set(args.only) - {s.id for s in scenarios})
        if unknown:
            print(f"错误：没有这些场景：{', '.join(unknown)}", file=sys.stderr)
            return 2
        scenarios = [s for s in scenarios if s.id in args.only]
    model = args.model or train_if_changed()
    with tempfile.TemporaryDirectory(prefix="dialogue-eval-") as workdir:
        print("启动服务器……")
        with running_assistant(model, Path(workdir), [DEMO_ORDERS, args.orders]) as running:
            harness = ConversationHarness(running.rest_url, running.database_url, running.evidence_dir)
            started = time.monotonic()
            report = harness.run_all(
                scenarios,
                progress=lambda o: print(f"{'通过' if o.passed else '失败'}  {o.scenario.id}  {'；'.join(o.failures)}"),
            )
            seconds = time.monotonic() - started
            if args.record_stories:
                stories = [
                    recorded_story(running.api_url, o, running.api_token)
                    for o in report.outcomes
                    if o.passed and o.scenario.rule
                ]
                args.record_stories.parent.mkdir(parents=True, exist_ok=True)
                args.record_stories.write_text(stories_yaml(stories), encoding="utf-8")
                print(f"已导出 {len(stories)} 个测试故事：{args.record_stories}")
    print(
        f"\n任务成功率 {report.success_rate:.1%}，直接作答时开单轮数中位数 {report.median_turns_to_ticket}，"
        f"{len(report.outcomes)} 个场景用时 {seconds:.0f} 秒。"
    )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        report_markdown(report, machine=machine_description(), date=time.strftime("%Y-%m-%d %H:%M")), encoding="utf-8"
    )
    args.report.with_suffix(".json").write_text(report_json(report), encoding="utf-8")
    print(f"报告：{args.report}")
    return 0 if report.success_rate >= TARGET_SUCCESS_RATE else 1
