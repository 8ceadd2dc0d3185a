"""`python -m bot persona-eval`: simulated buyers (personas) against freshly started servers;
reports task success, turns to a ticket and every failure with its transcript
(docs/persona-report.md)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from bot.config import PROJECT_ROOT

DEFAULT_REPORT = PROJECT_ROOT / "docs" / "persona-report.md"
SHARED_DIR = PROJECT_ROOT.parent / "shared"
SHARED_ORDERS = SHARED_DIR / "fixtures" / "orders.json"
DEV_PERSONAS = SHARED_DIR / "eval" / "personas_dev.yaml"
DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"


def default_persona_files() -> List[Path]:
    from benchmarks.personas import project_persona_files

    return project_persona_files() + ([DEV_PERSONAS] if DEV_PERSONAS.exists() else [])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "persona-eval",
        help="模拟买家测评：按买家画像自适应地与助手对话，核对数据库结果",
        description="启动动作服务器和 Rasa 服务器（临时数据库），让模拟买家按画像文件逐个与助手对话："
        "读懂助手的每个问题、只用画像里的事实作答、在规定时机插入行为；对话结束后按 expect 核对数据库，"
        "并写出带完整对话记录的 markdown 报告。每条依赖链开始前都把数据库恢复到测试当天的状态。",
    )
    parser.add_argument(
        "--personas",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="买家画像文件（默认：项目自带的 benchmarks/personas_*.yaml，以及存在时的 ../shared/eval/personas_dev.yaml）",
    )
    parser.add_argument("--model", type=Path, help="使用这个模型文件（.tar.gz）；默认按需训练并用 models/ 下最新的")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="报告路径（默认 docs/persona-report.md）")
    parser.add_argument(
        "--orders",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="订单文件（默认：shop/demo_orders.json，以及存在时的 ../shared/fixtures/orders.json）",
    )
    parser.add_argument("--only", nargs="*", default=(), metavar="ID", help="只播放这些买家（连同它们依赖的买家）")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from benchmarks.nlu import machine_description
    from benchmarks.personas import (
        TARGET_SUCCESS_RATE,
        PersonaFormatError,
        PersonaRunner,
        chains,
        load_average,
        load_personas,
        report_json,
        report_markdown,
        rest_sender,
    )
    from bot.commands.serve import train_if_changed
    from bot.db.engine import make_engine
    from bot.launcher import running_assistant

    files = args.personas or default_persona_files()
    orders = args.orders or [DEMO_ORDERS] + ([SHARED_ORDERS] if SHARED_ORDERS.exists() else [])
    for path in [*files, *orders]:
        if not path.exists():
            print(f"错误：找不到文件 {path}", file=sys.stderr)
            return 2
    if args.model is not None and not args.model.exists():
        print(f"错误：模型文件不存在：{args.model}", file=sys.stderr)
        return 2
    personas = []
    try:
        for path in files:
            personas += load_personas(path)
    except PersonaFormatError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    if args.only:
        known = {p.id for p in personas}
        unknown = sorted(set(args.only) - known)
        if unknown:
            print(f"错误：没有这些买家：{', '.join(unknown)}", file=sys.stderr)
            return 2
        wanted = set()
        for source in dict.fromkeys(p.source for p in personas):
            for chain in chains([p for p in personas if p.source == source]):
                if any(p.id in args.only for p in chain):
                    wanted |= {(p.source, p.id) for p in chain}
        personas = [p for p in personas if (p.source, p.id) in wanted]
    model = args.model or train_if_changed()
    with tempfile.TemporaryDirectory(prefix="persona-eval-") as workdir:
        print("启动服务器……")
        with running_assistant(model, Path(workdir), orders) as running:
            runner = PersonaRunner(
                rest_sender(running.rest_url), make_engine(running.database_url), running.evidence_dir, orders
            )
            started = time.monotonic()
            report = runner.run_all(
                personas,
                progress=lambda o: print(
                    f"{'通过' if o.passed else '失败'}  {o.persona.source}:{o.persona.id}  {'；'.join(o.failures)}",
                    flush=True,
                ),
            )
            seconds = time.monotonic() - started
    load = load_average()
    passed = sum(o.passed for o in report.outcomes)
    print(
        f"\n任务成功 {passed}/{len(report.outcomes)}（{report.success_rate:.1%}），直接作答时开单轮数中位数 "
        f"{report.median_turns_to_ticket}，用时 {seconds:.0f} 秒。"
    )
    for source, outcomes in report.by_source().items():
        print(f"  {source}：{sum(o.passed for o in outcomes)}/{len(outcomes)}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        report_markdown(
            report,
            machine=machine_description(),
            date=time.strftime("%Y-%m-%d %H:%M"),
            load=load,
            model=Path(model).name,
        ),
        encoding="utf-8",
    )
    args.report.with_suffix(".json").write_text(report_json(report), encoding="utf-8")
    print(f"报告：{args.report}")
    return 0 if report.success_rate >= TARGET_SUCCESS_RATE else 1
