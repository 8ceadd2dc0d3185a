"""The assistant as a buyer meets it: the real Rasa server and the real action server over
HTTP (the session's shared pair, tests/shared_assistant.py), a real SQLite database, the model
trained once for the session."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests

from tests.shared_assistant import SharedAssistant, SharedView


class Assistant(SharedView):
    """The session's shared servers as a REST client sees them."""

    @property
    def rest_url(self) -> str:
        return self.shared.rest_url

    @property
    def api_url(self) -> str:
        return self.shared.api_url

    def say(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(self.rest_url, json=body, timeout=120)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def assistant(shared_assistant: SharedAssistant) -> Assistant:
    """The session's one pair of servers (tests/shared_assistant.py), over our demo orders and the shared fixtures."""
    return Assistant(shared_assistant)


@pytest.fixture
def buyer_id() -> str:
    return f"buyer-{uuid.uuid4().hex[:10]}"
