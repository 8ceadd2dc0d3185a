"""Issue 16: the actions' blocking database work runs off the action server's event loop, so one
action waiting for the database does not stall every other conversation's action call."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest
import requests

from bot.db.schema import upgrade_database
from bot.launcher import free_port, start_action_server, wait_until_ready

pytestmark = pytest.mark.rasa


def action_call(action: str, sender: str, slots: dict) -> dict:
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {"responses": {}},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "好的", "intent": {}},
            "events": [],
            "paused": False,
            "active_loop": {},
        },
    }


def test_an_action_waiting_for_the_database_does_not_stall_other_conversations(tmp_path):
    database = tmp_path / "aftersales.db"
    upgrade_database(f"sqlite:///{database}")
    port, token = free_port(), "actions-token-" + uuid.uuid4().hex
    server = start_action_server(
        port,
        {"AFTERSALES_DATABASE_URL": f"sqlite:///{database}", "AFTERSALES_ACTIONS_TOKEN": token},
        tmp_path / "actions.log",
    )
    webhook = f"http://127.0.0.1:{port}/webhook"
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        wait_until_ready(server, 120)
        writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock for a while
        waiting: dict = {}

        def goodbye_that_reads_the_ticket() -> None:
            call = action_call("action_say_goodbye", "waits-" + uuid.uuid4().hex[:6], {"case_ticket_number": "T1"})
            waiting["response"] = requests.post(webhook, params={"token": token}, json=call, timeout=60)

        blocked = threading.Thread(target=goodbye_that_reads_the_ticket)
        blocked.start()
        blocked.join(1.0)
        assert blocked.is_alive(), "the goodbye action should be waiting for the database's write lock"

        other = requests.post(
            webhook,
            params={"token": token},
            timeout=5,
            json=action_call("action_answer_policy_question", "other-" + uuid.uuid4().hex[:6], {}),
        )
        assert other.status_code == 200 and other.json()["responses"][0]["response"] == "utter_clarify"
        assert blocked.is_alive(), "the other conversation was answered while the first still waited"
        writer.execute("COMMIT")
        blocked.join(30)
        assert waiting["response"].status_code == 200
        assert [reply["response"] for reply in waiting["response"].json()["responses"]] == ["utter_ask_satisfaction"]
    finally:
        writer.close()
        server.stop()
