"""The assistant as a buyer meets it: the real Rasa server and the real action server over
HTTP, a real SQLite database, the model trained once for the session."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import requests

from bot.launcher import import_orders, running_assistant  # noqa: F401  (import_orders: used by other test folders)
from tests.conftest import PROJECT_ROOT

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"


@dataclass
class Assistant:
    rest_url: str
    api_url: str
    database_url: str
    evidence_dir: Path
    api_token: str = ""

    def say(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(self.rest_url, json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(f"{self.api_url}/conversations/{sender}/tracker", params={"token": self.api_token}, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def assistant(trained_model: Path, tmp_path_factory) -> Assistant:
    """One pair of servers for the whole session, over our demo orders and the shared fixtures."""
    shared_orders = PROJECT_ROOT.parent / "shared" / "fixtures" / "orders.json"
    order_files = [DEMO_ORDERS] + ([shared_orders] if shared_orders.exists() else [])
    with running_assistant(trained_model, tmp_path_factory.mktemp("assistant"), order_files) as running:
        yield Assistant(running.rest_url, running.api_url, running.database_url, running.evidence_dir, running.api_token)


@pytest.fixture
def buyer_id() -> str:
    return f"buyer-{uuid.uuid4().hex[:10]}"
