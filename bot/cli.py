"""`python -m bot ...`: the command line for shop staff and agents.

Each sub-command lives in its own module under `bot/commands/` and registers itself here.
`main` is the command line's composition root: the commands take the settings, the shop's
policy and clock, the database and the message bus from `args.runtime`, one
`bootstrap.CommandLine` per run (a test passes its own).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from bot import bootstrap

# module names under bot.commands; each defines register(subparsers) and sets `func` defaults
COMMAND_MODULES = (
    "orders",
    "db",
    "policy",
    "tickets",
    "nlu_eval",
    "dialogue_eval",
    "persona_eval",
    "serve",
    "chat",
    "agents",
    "perf",
    "fuzz",
)


class ChineseArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own message stays, a Chinese hint leads
        self.print_usage(sys.stderr)
        self.exit(2, f"参数有误：{message}\n用 `python -m bot --help` 查看用法。\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="python -m bot",
        description="跨境电商售后助手的命令行工具（订单导入、政策查询、工单、NLU 评测）。",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ChineseArgumentParser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"bot.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None, runtime: Optional[bootstrap.CommandLine] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    args.runtime = runtime or bootstrap.command_line()
    if getattr(args, "database_url", "") is None:  # --database-url not given: the runtime's database
        args.database_url = args.runtime.settings.database_url
    return int(args.func(args) or 0)
