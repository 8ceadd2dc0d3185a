"""A loaded NLU model shared by the model tests in this folder (trained once per session)."""

import asyncio

import pytest


class SyncParser:
    def __init__(self, model_path):
        from rasa.core.agent import Agent

        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))

    def parse(self, text):
        return self._loop.run_until_complete(self._agent.parse_message(text))


@pytest.fixture(scope="session")
def nlu_parser(trained_model):
    return SyncParser(trained_model)
