"""The composition root (bot/bootstrap.py): one runtime per process, built from the settings,
and a broken policy file stops the action server's start with a Chinese message."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import text

from bot import bootstrap
from bot.config import Settings
from bot.db.schema import current_revision, forget_migrated_engines, head_revision
from bot.launcher import free_port, start_action_server


def test_the_process_builds_its_runtime_once_from_the_settings(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'aftersales.db'}"
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", url)
    monkeypatch.setenv("AFTERSALES_TIMEZONE", "Europe/Berlin")
    previous = bootstrap.install(bootstrap.bootstrap(Settings.from_env()))
    try:
        seen = []
        threads = [threading.Thread(target=lambda: seen.append(bootstrap.current())) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runtime = seen[0]
        assert all(other is runtime for other in seen)
        assert runtime.clock.zone.key == "Europe/Berlin" and runtime.clock.now().tzinfo is runtime.clock.zone
        assert current_revision(url) == head_revision(), "the schema is brought up to date when the runtime is built"
        with runtime.unit_of_work() as unit:
            assert unit.session.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 0
        changed = dataclasses.replace(runtime, policy=dataclasses.replace(runtime.policy))
        assert bootstrap.install(changed) is runtime and bootstrap.current() is changed
    finally:
        bootstrap.install(previous)
        forget_migrated_engines()


def test_a_broken_policy_file_stops_the_action_server_with_a_chinese_message(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text("windows:\n  return_days: 7\n", encoding="utf-8")
    log = tmp_path / "actions.log"
    server = start_action_server(
        free_port(),
        {"AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "AFTERSALES_POLICY_FILE": str(policy)},
        log,
    )
    try:
        assert server.popen.wait(timeout=120) != 0
    finally:
        server.stop()
    said = log.read_text(encoding="utf-8")
    assert "动作服务器没有启动" in said and "windows 是未知的配置项" in said
