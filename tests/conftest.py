"""Suite-wide fixtures. Sub-folders: unit/ (pure Python, milliseconds), db/ (SQLite and
PostgreSQL), nlu/ (trained NLU model), e2e/ (real Rasa + action servers over HTTP).
tests/shared_assistant.py: the one pair of running servers that e2e/, channels/ and web/ share."""

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_ROOT.parent / "shared"

pytest_plugins = ["tests.shared_assistant"]

# each test's level, by its folder under tests/ (registered in pytest.ini; make test-unit, -integration, -e2e)
UNIT_FOLDERS = {"unit"}
E2E_FOLDERS = {"e2e", "channels", "web", "security", "cluster"}


def pytest_collection_modifyitems(items) -> None:
    tests_dir = Path(__file__).resolve().parent
    for item in items:
        try:
            folder = Path(item.fspath).resolve().relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        level = "unit" if folder in UNIT_FOLDERS else "e2e" if folder in E2E_FOLDERS else "integration"
        item.add_marker(level)


@pytest.fixture(scope="session")
def shared_fixture_orders() -> Path:
    path = SHARED_DIR / "fixtures" / "orders.json"
    if not path.exists():
        pytest.skip(f"../shared/fixtures/orders.json 不存在（{path}），跳过依赖共享样例订单的测试")
    return path


VENV_BIN = PROJECT_ROOT / ".venv" / "bin"


def rasa_executable() -> str:
    candidate = VENV_BIN / "rasa"
    return str(candidate) if candidate.exists() else "rasa"


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The Rasa model under test, trained at most once per session.

    The same model `python -m bot serve` uses (bot/model_store.py): reused when models/ holds
    the one for the current config, domain, data and components, trained once when not, and
    no new file per run. AFTERSALES_TEST_MODEL may name an existing model archive to test
    instead (used while iterating on the NLU alone).
    """
    import os

    from bot.commands.serve import train_if_changed

    override = os.environ.get("AFTERSALES_TEST_MODEL")
    if override:
        return Path(override)
    return train_if_changed()


class LoadedModel:
    """The model under test loaded in this process (Rasa's Agent), with an event loop of its own."""

    def __init__(self, model_path: Path) -> None:
        import asyncio

        from rasa.core.agent import Agent

        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(model_path))

    def parse(self, text: str) -> dict:
        return self.loop.run_until_complete(self.agent.parse_message(text))


@pytest.fixture(scope="session")
def loaded_model(trained_model: Path) -> LoadedModel:
    """One in-process load of the model per session, shared by the NLU and prediction tests."""
    return LoadedModel(trained_model)
