"""The agent desk reaches conversations only through Rasa's HTTP API (issue #16): the relay and
the console never touch Rasa's processor, tracker store or the conversations' lock, and the API
client's only lock is the desk's own."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Tuple

import pytest

from tests.conftest import PROJECT_ROOT

DESK_FILES = ("channels/agent_relay.py", "channels/console.py")
CLIENT = "channels/dialogue_api.py"
# Rasa's agent internals the desk must not use: the tracker goes through GET/POST /conversations/
INTERNALS = {"processor", "tracker_store", "lock_store", "save_tracker", "get_tracker", "_handle_message_with_tracker"}


def attributes(path: str) -> List[Tuple[str, int]]:
    tree = ast.parse((PROJECT_ROOT / path).read_text(encoding="utf-8"))
    return [(node.attr, node.lineno) for node in ast.walk(tree) if isinstance(node, ast.Attribute)]


@pytest.mark.parametrize("path", DESK_FILES)
def test_the_desk_uses_no_rasa_internals(path):
    used = [(name, line) for name, line in attributes(path) if name in INTERNALS]
    assert used == [], f"{path} 绕过了对话服务的 HTTP 接口（channels/dialogue_api.py）：{used}"


def test_the_desk_files_do_not_import_the_processor_or_the_stores():
    for path in DESK_FILES:
        text = Path(PROJECT_ROOT / path).read_text(encoding="utf-8")
        for module in ("rasa.core.processor", "rasa.core.tracker_store", "rasa.core.lock_store"):
            assert module not in text, f"{path} imports {module}"


def test_the_client_takes_only_the_desks_own_lock():
    tree = ast.parse((PROJECT_ROOT / CLIENT).read_text(encoding="utf-8"))
    used = [(name, line) for name, line in attributes(CLIENT) if name in INTERNALS - {"lock_store"}]
    assert used == [], used
    locks = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "lock"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "lock_store"
    ]
    assert len(locks) == 1
    # the key is the conversation id plus the desk's suffix, never the conversation's own lock,
    # which the HTTP API takes for every append (holding it here would wait for ourselves)
    [key] = locks[0].args
    assert isinstance(key, ast.BinOp) and isinstance(key.right, ast.Name) and key.right.id == "DESK_LOCK_SUFFIX"
