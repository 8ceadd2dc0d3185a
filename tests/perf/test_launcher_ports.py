"""free_port() gives its port back before the server binds it, so on a busy machine another
process may take it first: bot.launcher.start_on_free_ports starts such a server again on a
new port, and gives up at once on any other start-up failure."""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlsplit

import pytest

from bot import launcher


def test_a_server_that_lost_its_port_is_started_again_on_a_new_one(tmp_path, monkeypatch):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        offered = iter([taken])  # the first "free" port is already someone else's
        real_free_port = launcher.free_port
        monkeypatch.setattr(launcher, "free_port", lambda: next(offered, None) or real_free_port())
        log = tmp_path / "actions.log"
        env = {
            **launcher.action_server_environment(f"sqlite:///{tmp_path / 'aftersales.db'}"),
            "AFTERSALES_ACTIONS_TOKEN": "ports-test-token",
        }
        [server] = launcher.start_on_free_ports(
            lambda port: [launcher.start_action_server(port, env, log)],
            1,
            lambda processes: launcher.wait_until_ready(processes[0], 120),
        )
        try:
            assert server.is_running()
            assert urlsplit(server.ready_url).port != taken
            assert "address already in use" in log.read_text(errors="replace").lower()  # the first try
        finally:
            server.stop()


def test_any_other_start_up_failure_is_not_retried(tmp_path):
    started = []

    def start(port):
        process = launcher.start_process(
            "broken server",
            [sys.executable, "-c", "raise SystemExit(3)"],
            f"http://127.0.0.1:{port}/",
            {},
            tmp_path / "broken.log",
        )
        started.append(process)
        return [process]

    with pytest.raises(RuntimeError, match="启动失败"):
        launcher.start_on_free_ports(start, 1, lambda processes: launcher.wait_until_ready(processes[0], 60))
    assert len(started) == 1
