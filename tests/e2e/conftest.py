"""The assistant as a buyer meets it: the real Rasa server and the real action server over
HTTP, a real SQLite database, the model trained once for the session."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests

from bot.launcher import (
    action_server_environment,
    free_port,
    rasa_model_loaded,
    start_action_server,
    start_rasa_server,
    wait_until_ready,
)
from tests.conftest import PROJECT_ROOT

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"


@dataclass
class Assistant:
    rest_url: str
    api_url: str
    database_url: str

    def say(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(self.rest_url, json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.api_url}/conversations/{sender}/tracker", timeout=30)
        response.raise_for_status()
        return response.json()


def import_orders(database_url: str, path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "orders", "import", str(path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "AFTERSALES_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory) -> Assistant:
    workdir = tmp_path_factory.mktemp("assistant")
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"
    import_orders(database_url, DEMO_ORDERS)
    shared_orders = PROJECT_ROOT.parent / "shared" / "fixtures" / "orders.json"
    if shared_orders.exists():
        import_orders(database_url, shared_orders)
    env = action_server_environment(database_url)
    action_port, rasa_port = free_port(), free_port()
    actions = start_action_server(action_port, env, workdir / "actions.log")
    rasa = start_rasa_server(trained_model, rasa_port, action_port, workdir / "tracker.db", env, workdir / "rasa.log")
    try:
        wait_until_ready(actions, 120)
        wait_until_ready(rasa, 300, accept=rasa_model_loaded)
        yield Assistant(
            rest_url=f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            api_url=f"http://127.0.0.1:{rasa_port}",
            database_url=database_url,
        )
    finally:
        rasa.stop()
        actions.stop()


@pytest.fixture
def buyer_id() -> str:
    return f"buyer-{uuid.uuid4().hex[:10]}"
