"""`python -m bot fuzz`: the hostile-input benchmark (benchmarks/fuzz.py), report in
docs/fuzz-report.md."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from bot.config import PROJECT_ROOT


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fuzz",
        help="恶意/畸形请求基准：对所有入口发送 Hypothesis 生成的请求，统计 5xx、进程退出和正常买家的卡顿（报告写入 docs/fuzz-report.md）",
    )
    parser.add_argument("--requests", type=int, default=10_000, help="请求总数（默认 10000）")
    parser.add_argument("--seed", type=int, default=13, help="Hypothesis 的种子（同一种子生成同样的请求）")
    parser.add_argument(
        "--model", type=Path, help="要测的模型文件（默认：与当前数据和配置对应的模型，否则 models/ 中最新的）"
    )
    parser.add_argument("--report", type=Path, default=PROJECT_ROOT / "docs" / "fuzz-report.md")
    parser.set_defaults(func=fuzz)


def fuzz(args) -> int:
    from benchmarks.fuzz import fuzzed_assistant, run_fuzz
    from bot.commands.perf import default_model

    model = args.model or default_model()
    load_before = os.getloadavg()
    started = time.gmtime()
    with tempfile.TemporaryDirectory(prefix="aftersales-fuzz-") as workdir:
        print(f"[fuzz] 启动服务（模型 {model.name}）……", flush=True)
        with fuzzed_assistant(model, Path(workdir)) as target:
            print(f"[fuzz] 发送 {args.requests} 个请求……", flush=True)
            result = run_fuzz(
                target, args.requests, args.seed, progress=lambda line: print("[fuzz] " + line, flush=True)
            )
    load_after = os.getloadavg()
    report = render_report(result, args, model, started, load_before, load_after)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    print(summary(result))
    print(f"[fuzz] 报告：{args.report}")
    return 0 if result.tally.five_xx_count == 0 and not result.exited else 1


def summary(result) -> str:
    return (
        f"请求 {result.requests} 个，用时 {result.seconds:.0f} 秒；5xx {result.tally.five_xx_count} 个；"
        f"无应答 {result.tally.no_answer_count} 个；退出的进程 {len(result.exited)} 个"
        f"{'（' + '、'.join(result.exited) + '）' if result.exited else ''}；正常买家 {len(result.buyer.latencies)} 轮，"
        f"超过 2 秒 {result.stalls} 轮"
    )


def _percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def render_report(result, args, model: Path, started, load_before, load_after) -> str:
    from benchmarks.fuzz import STALL_SECONDS, WEIGHTS

    tally = result.tally
    surfaces = list(WEIGHTS)
    rows = []
    for surface in surfaces:
        by_status = {
            key.split(" ", 1)[1]: count for key, count in tally.statuses.items() if key.split(" ", 1)[0] == surface
        }
        shown = ", ".join(f"{status}: {count}" for status, count in sorted(by_status.items()))
        rows.append(f"| {surface} | {tally.sent[surface]} | {shown} |")
    latencies = result.buyer.latencies
    lines = [
        "# Fuzz benchmark (hostile and malformed requests)",
        "",
        "Produced by `python -m bot fuzz` (benchmarks/fuzz.py); rerun it to refresh this file.",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', started)}",
        f"- machine: {platform.node() or 'unknown'}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        f"- load average (1/5/15 min) before: {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, "
        f"after: {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f} (other jobs shared the machine)",
        f"- command: `python -m bot fuzz --requests {args.requests} --seed {args.seed}`, model `{model.name}`",
        "- servers: one action server and one Rasa server (SQLite), every channel: REST, web chat (socket.io, upload,"
        " history, evidence), agent relay, agent console, WeChat (safe mode), Telegram",
        "",
        "## Figures",
        "",
        "| what | value |",
        "|---|---|",
        f"| requests sent | {result.requests} |",
        f"| time | {result.seconds:.0f} s ({result.requests / max(result.seconds, 1):.1f} requests/s) |",
        f"| answers 5xx | **{tally.five_xx_count}** |",
        f"| requests without an answer (connection error, {60} s timeout) | {tally.no_answer_count} |",
        f"| server processes that exited | **{len(result.exited)}** {'(' + ', '.join(result.exited) + ')' if result.exited else ''} |",
        f"| normal buyer's turns (one a second, beside the fuzzer) | {len(latencies)} |",
        f"| of which slower than {STALL_SECONDS:.0f} s (stalls) | **{result.stalls}** |",
        f"| normal buyer's turn time median / p95 / max | {_percentile(latencies, 0.5):.2f} / "
        f"{_percentile(latencies, 0.95):.2f} / {max(latencies, default=0):.2f} s |",
        f"| normal buyer's turns that failed or got no reply | {result.buyer.failures} |",
        "",
        "## Answers per surface",
        "",
        "| surface | requests | answers by status |",
        "|---|---|---|",
        *rows,
        "",
        "4xx answers are the intended refusals (malformed body, missing credential, unknown id);",
        "429 is a throttle. Each surface sends some requests with the right credential (relay token,",
        "console session, WeChat signature and AES envelope, Telegram secret) so that they reach the",
        "code behind the door.",
        "",
    ]
    if tally.five_xx:
        lines += ["## 5xx samples", "", *[f"- `{line}`" for line in tally.five_xx[:30]], ""]
    if tally.failures:
        lines += ["## Requests without an answer (samples)", "", *[f"- `{line}`" for line in tally.failures[:20]], ""]
    return "\n".join(lines)
