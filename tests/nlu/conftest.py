"""The NLU model tests in this folder parse with the session's one loaded model (tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def nlu_parser(loaded_model):
    return loaded_model
