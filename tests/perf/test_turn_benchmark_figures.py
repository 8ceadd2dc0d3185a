"""Figures of the turn benchmark (benchmarks/turns.py) that come from /proc: the CPU time of a
process, which the benchmark turns into CPU milliseconds per message of each server."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.turns import cpu_seconds


def test_cpu_seconds_grow_with_work_and_not_with_sleep():
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 1.0\nwhile time.time() < end: pass\ntime.sleep(2)"]
    )
    try:
        time.sleep(0.2)
        start = cpu_seconds(worker.pid)
        time.sleep(1.3)  # the worker spins for the rest of its first second, then sleeps
        spun = cpu_seconds(worker.pid)
        time.sleep(0.8)
        slept = cpu_seconds(worker.pid)
    finally:
        worker.wait()
    assert 0.4 <= spun - start <= 1.1
    assert slept - spun < 0.1


def test_cpu_seconds_of_a_process_that_is_gone_are_zero():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert cpu_seconds(finished.pid) == 0.0
