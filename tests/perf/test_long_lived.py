"""What a server keeps until it stops is frozen for the garbage collector (bot/long_lived.py)."""

from __future__ import annotations

import subprocess
import sys

from bot.config import PROJECT_ROOT
from bot.launcher import rasa_environment

ACTION_SERVER_START = """
import gc
from bot.action_server import ready_action_app
import actions.case

gc.unfreeze()
ready_action_app("token")
kept_alive = [actions.case, actions.case.ValidateCaseForm, gc.get_objects]
print(gc.get_freeze_count(), sum(any(o is kept for o in gc.get_objects()) for kept in kept_alive))
"""


def test_the_action_server_freezes_its_actions_and_libraries_once_they_are_loaded():
    """Run as the action server's start runs it, in a process of its own: before, a full collection
    walked every module of rasa_sdk, SQLAlchemy and the actions, a pause of 50-110 ms for every
    action call in flight."""
    started = subprocess.run(
        [sys.executable, "-c", ACTION_SERVER_START],
        cwd=PROJECT_ROOT,
        env=rasa_environment({"PYTHONPATH": str(PROJECT_ROOT)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    frozen, still_collected = (int(figure) for figure in started.stdout.split()[-2:])
    assert frozen > 50_000
    assert still_collected == 0
