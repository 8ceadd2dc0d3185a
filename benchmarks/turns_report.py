"""Markdown of the turn benchmark (docs/perf-report.md): one section per database backend."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Dict

from benchmarks.turns import Results, percentile

# each turn of the complaint against the reference turn it is compared with
REFERENCE_TURN = {
    "greeting": "greeting",
    "/model/parse": "/model/parse",
    "order check (phone)": "trivial custom action",
    "decision + ticket write": "trivial custom action",
    "remedy choice (ticket update)": "trivial custom action",
}


def _ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def markdown(results: Results, meta: Dict) -> str:
    stacks = list(results.turns)
    lines = [
        f"## Backend: {meta['backend']}",
        "",
        f"- date: {meta['date']}; run took {meta['minutes']:.1f} min",
        f"- machine: {meta['machine']}",
        f"- load average (1/5/15 min) before → after: {meta['load']}",
        f"- model: `{meta['model']}`; old checkout: {meta['old'] or '—'}"
        + (f" with its own model `{meta['old_model']}`" if meta.get("old_model") else ""),
        f"- command: `{meta['command']}`",
        "",
        "### Latency per turn (sequential, ms)",
        "",
        "| stack | turn | n | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for stack in stacks:
        for kind, values in results.turns[stack].items():
            lines.append(
                f"| {stack} | {kind} | {len(values)} | {_ms(statistics.median(values))} | "
                f"{_ms(percentile(values, 0.95))} | {_ms(percentile(values, 0.99))} |"
            )
    if "reference" in results.turns and "current" in results.turns:
        lines += [
            "",
            "### Ratios to the bare `rasa init` reference (p50, same run)",
            "",
            "| turn | reference turn | current / reference | old / reference |",
            "|---|---|---|---|",
        ]
        ref = results.turns["reference"]
        for kind, ref_kind in REFERENCE_TURN.items():
            if kind not in results.turns["current"] or ref_kind not in ref:
                continue
            base = statistics.median(ref[ref_kind])
            cur = statistics.median(results.turns["current"][kind]) / base
            old = (
                f"{statistics.median(results.turns['old'][kind]) / base:.2f} ×"
                if "old" in results.turns and kind in results.turns["old"]
                else "—"
            )
            lines.append(f"| {kind} | {ref_kind} | {cur:.2f} × | {old} |")
    if "old" in results.turns and "current" in results.turns:
        lines += ["", "### Current against old (p50 ratio, same run)", "", "| turn | old / current |", "|---|---|"]
        for kind, values in results.turns["current"].items():
            if kind in results.turns["old"]:
                lines.append(
                    f"| {kind} | {statistics.median(results.turns['old'][kind]) / statistics.median(values):.2f} × |"
                )
    lines += [
        "",
        "### Concurrent buyers (whole complaint conversations)",
        "",
        "CPU per message: the process's CPU time (user + system, /proc) during the level, over its messages.",
        "",
        "| stack | buyers | messages | messages/s | p95 (ms) | CPU per message: Rasa server (ms) | action server (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for stack, levels in results.load.items():
        for buyers, figures in levels.items():
            cpu = figures.get("cpu_ms_per_message", {})
            lines.append(
                f"| {stack} | {buyers} | {figures['messages']} | {figures['messages_per_s']:.1f} | {_ms(figures['p95_s'])}"
                f" | {cpu.get('Rasa server', float('nan')):.1f} | {cpu.get('action server', float('nan')):.1f} |"
            )
    if "old" in results.load and "current" in results.load:
        lines += ["", "| buyers | throughput current / old |", "|---|---|"]
        for buyers, figures in results.load["current"].items():
            if buyers in results.load["old"]:
                lines.append(
                    f"| {buyers} | {figures['messages_per_s'] / results.load['old'][buyers]['messages_per_s']:.2f} × |"
                )
    lines += [
        "",
        "| stack | replies without the expected text (decision Q1 / the trivial action's message) |",
        "|---|---|",
    ]
    for stack in results.load:
        lines.append(f"| {stack} | {len(results.failures.get(stack, []))} |")
    lines += ["", "### Memory, start-up, model", "", "| stack | process | RSS (MB) |", "|---|---|---|"]
    for stack, processes in results.memory.items():
        for process, mb in processes.items():
            lines.append(f"| {stack} | {process} | {mb:.0f} |")
    lines += ["", "| stack | first start (s) | restart (s) | model (MB) |", "|---|---|---|---|"]
    for stack, starts in results.starts.items():
        restart = f"{starts[1]:.1f}" if len(starts) > 1 else "—"
        lines.append(f"| {stack} | {starts[0]:.1f} | {restart} | {results.model_mb.get(stack, 0):.0f} |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, backend: str, section: str) -> None:
    """Replace this backend's section of the report (between its markers), keep the rest."""
    start, end = f"<!-- perf:{backend}:start -->", f"<!-- perf:{backend}:end -->"
    block = f"{start}\n{section}{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Turn benchmark\n\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
