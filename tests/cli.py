"""The command line (`python -m bot ...`) run in the test process through `bot.cli.main(argv)`,
with its own environment, standard input and captured output: what a shop's shell would see,
without paying an interpreter start-up per command. The real entry point keeps one smoke test
of its own (tests/unit/test_policy_cli.py)."""

from __future__ import annotations

import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Mapping, Optional

from bot.cli import main
from bot.config import get_settings
from bot.db.engine import shared_engine
from bot.db.schema import forget_migrated_engines


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _forget_settings_and_engines() -> None:
    get_settings.cache_clear()
    shared_engine.cache_clear()
    forget_migrated_engines()


def run_cli(*args: str, env: Optional[Mapping[str, str]] = None, stdin: str = "") -> CliResult:
    """`python -m bot *args` with `env` added to the environment. Settings and engines are
    cached per process, so they are forgotten before (to read `env`) and after (so the rest
    of the suite sees its own)."""
    saved_env, saved_stdin = dict(os.environ), sys.stdin
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env or {})
    sys.stdin = io.StringIO(stdin)
    _forget_settings_and_engines()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as stop:  # argparse and the commands' own exits
                if isinstance(stop.code, str):
                    err.write(stop.code + "\n")
                code = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
        _forget_settings_and_engines()
    return CliResult(code, out.getvalue(), err.getvalue())
