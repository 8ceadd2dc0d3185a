"""`python -m bot perf`: the turn benchmark (benchmarks/turns.py), report in docs/perf-report.md."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from bot.config import PROJECT_ROOT

DEFAULT_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "perf", help="轮次性能基准：每轮延迟、并发吞吐、内存、启动时间、模型大小（报告写入 docs/perf-report.md）"
    )
    parser.add_argument(
        "--model", type=Path, help="要测的模型文件（默认：与当前数据和配置对应的模型，否则 models/ 中最新的）"
    )
    parser.add_argument("--old", type=Path, help="对比用的旧版本检出目录（git worktree add /tmp/old <commit>）")
    parser.add_argument(
        "--old-model",
        type=Path,
        help="旧版本用自己的模型（在旧检出目录里训练的 .tar.gz）；默认与当前版本用同一个模型",
    )
    parser.add_argument("--reference", action="store_true", help="同时测一个 `rasa init --no-prompt` 参考机器人")
    parser.add_argument(
        "--reference-dir",
        type=Path,
        default=Path("/tmp/aftersales-perf-reference"),
        help="参考机器人的目录（已训练时复用）",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("AFTERSALES_PERF_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--rounds", type=int, default=5, help="逐句延迟的对话轮数（每个版本交替进行）")
    parser.add_argument("--concurrency", default="1,4,16,64", help="同时对话的买家数，逗号分隔")
    parser.add_argument("--conversations", type=int, default=2, help="每个并发级别每个买家的对话数")
    parser.add_argument("--report", type=Path, default=PROJECT_ROOT / "docs" / "perf-report.md")
    parser.add_argument("--json", type=Path, help="同时写一份 JSON 原始数据")
    parser.set_defaults(func=perf)


def perf(args) -> int:
    from benchmarks import turns

    if args.model is None:
        args.model = default_model()
    # each stack runs in its own checkout: a model named relative to here must still be found there
    args.model = args.model.resolve()
    if args.old_model is not None:
        args.old_model = args.old_model.resolve()
    try:
        return _run(args)
    finally:
        turns.drop_created_databases()


def _run(args) -> int:
    from benchmarks import turns, turns_report

    workdir = turns.temporary_directory()
    concurrency = [int(x) for x in args.concurrency.split(",") if x]
    # an order of its own for every conversation of the run: a reused order already has a
    # ticket, and its conversation would take the "ticket exists" path instead of the decision
    buyers = sum(concurrency) * args.conversations + args.rounds + 8
    stacks = [
        turns.prepare_project_stack(
            "current", PROJECT_ROOT, args.model, workdir / "current", args.backend, args.postgres_url, buyers
        )
    ]
    if args.old:
        stacks.append(
            turns.prepare_project_stack(
                "old",
                args.old.resolve(),
                args.old_model or args.model,
                workdir / "old",
                args.backend,
                args.postgres_url,
                buyers,
            )
        )
    if args.reference:
        print("[perf] 准备参考机器人（rasa init --no-prompt，首次需要训练）……")
        stacks.append(turns.reference_stack(turns.reference_bot(args.reference_dir), workdir / "reference"))
    load_before = os.getloadavg()
    started = time.time()
    results = turns.run_benchmark(stacks, args.rounds, concurrency, lambda n: max(n, n * args.conversations))
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "machine": f"{platform.node()} · {platform.machine()} · {os.cpu_count()} CPU · Python {platform.python_version()}",
        "load": f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f} → "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "backend": args.backend,
        "model": args.model.name,
        "old": str(args.old) if args.old else None,
        "old_model": args.old_model.name if args.old and args.old_model else None,
        "minutes": (time.time() - started) / 60,
        "command": "python -m bot perf "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in (
                ("backend", args.backend),
                ("rounds", args.rounds),
                ("concurrency", args.concurrency),
                ("conversations", args.conversations),
            )
        )
        + (" --old OLD" if args.old else "")
        + (" --old-model OLD_MODEL" if args.old and args.old_model else "")
        + (" --reference" if args.reference else ""),
    }
    text = turns_report.markdown(results, meta)
    print(text)
    if args.report:
        turns_report.write_section(args.report, args.backend, text)
        print(f"[perf] 报告已写入 {args.report}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "meta": meta,
                    "turns": results.turns,
                    "load": results.load,
                    "memory": results.memory,
                    "starts": results.starts,
                    "model_mb": results.model_mb,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 0


def default_model() -> Path:
    from bot import model_store

    model = model_store.current_model()
    if model is None:
        models = sorted((PROJECT_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
        if not models:
            raise SystemExit("models/ 里没有模型：先运行 `python -m bot serve`（会训练），或用 --model 指定。")
        model = models[-1]
    return model
