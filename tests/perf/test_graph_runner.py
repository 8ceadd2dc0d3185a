"""The model graph run in a kept order (bot/rasa_graph_runner.py): in place once the project's
Rasa modules are imported, every node after the nodes it needs, and the same answers, errors
and hook calls as Rasa's dask runner on a graph of real Rasa graph components."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

import pytest

rasa = pytest.importorskip("rasa")
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphNodeHook, GraphSchema, SchemaNode  # noqa: E402
from rasa.engine.runner.dask import DaskGraphRunner  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402

import bot.rasa_policies  # noqa: E402,F401  (the import the Rasa server does when it loads the model)
from bot import rasa_graph_runner  # noqa: E402
from bot.rasa_graph_runner import execution_order  # noqa: E402


def test_patch_is_installed_by_the_policy_package():
    assert getattr(DaskGraphRunner.run, rasa_graph_runner.MARKER, False)
    assert rasa_graph_runner.ORIGINAL_RUN is not None and DaskGraphRunner.run is not rasa_graph_runner.ORIGINAL_RUN


def test_every_node_comes_after_what_it_needs_and_only_needed_nodes_run():
    needs = {
        "parse": ["featurize", "__message__"],
        "featurize": ["tokenize", "lexicon"],
        "lexicon": ["tokenize"],
        "tokenize": ["__message__"],
        "unrelated": ["tokenize"],
        "predict": ["parse", "domain"],
        "domain": [],
    }
    order = execution_order(needs, ["predict"])
    assert set(order) == {"predict", "parse", "featurize", "lexicon", "tokenize", "domain"}
    for node, needed in needs.items():
        for dependency in needed:
            if node in order and dependency in needs:
                assert order.index(dependency) < order.index(node), (dependency, node, order)
    assert execution_order(needs, ["parse", "parse", "tokenize"]) == execution_order(needs, ["parse"])
    assert execution_order(needs, ["__message__"]) == []


class Constant(GraphComponent):
    def __init__(self, config: Dict[str, Any]) -> None:
        self.value = config["value"]

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config)

    def provide(self) -> Any:
        return self.value


class Add(GraphComponent):
    calls: List[str] = []

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config, execution_context.node_name)

    def add(self, first: Any, second: Any) -> Any:
        Add.calls.append(self.name)
        return first + second


class Fail(GraphComponent):
    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls()

    def run(self, value: Any) -> Any:
        raise RuntimeError("broken component")


class Recorder(GraphNodeHook):
    def __init__(self) -> None:
        self.seen: List[tuple] = []

    def on_before_node(self, node_name, execution_context, config, received_inputs):
        self.seen.append(("before", node_name, tuple(sorted(received_inputs))))
        return {}

    def on_after_node(self, node_name, execution_context, config, output, input_hook_data):
        self.seen.append(("after", node_name, output))


def toy_schema() -> GraphSchema:
    def node(uses, fn, needs, **config):
        return SchemaNode(needs=needs, uses=uses, constructor_name="create", fn=fn, config=config)

    return GraphSchema(
        {
            "two": node(Constant, "provide", {}, value=2),
            "three": node(Constant, "provide", {}, value=3),
            "five": node(Add, "add", {"first": "two", "second": "three"}),
            "plus_input": node(Add, "add", {"first": "five", "second": "__number__"}),
            "both": node(Add, "add", {"first": "five", "second": "plus_input"}),
            "broken": node(Fail, "run", {"value": "two"}),
        }
    )


def run_both(tmp_path, inputs=None, targets=None):
    """(answer or error, hook calls, node calls) from Rasa's runner and from the kept order."""
    results = []
    for run in (rasa_graph_runner.ORIGINAL_RUN, DaskGraphRunner.run):
        schema = toy_schema()
        hook = Recorder()
        runner = DaskGraphRunner(
            schema, LocalModelStorage(tmp_path / str(len(results))), ExecutionContext(schema), [hook]
        )
        Add.calls = []
        try:
            answer: Any = run(runner, inputs=inputs, targets=targets)
        except Exception as error:  # the error itself is what is compared
            answer = (type(error), str(error), type(error.__cause__))
        results.append((answer, sorted(hook.seen, key=repr), sorted(Add.calls)))
    return results


@pytest.mark.parametrize(
    "inputs, targets",
    [
        ({"__number__": 10}, ["both"]),
        ({"__number__": 10}, ["both", "five", "two"]),
        ({"__number__": 10, "unused": 1}, ["five"]),
        ({}, ["plus_input"]),  # an input nobody gave: the node gets its name and refuses
        ({"__number__": "five"}, ["both"]),  # an input value that clashes with a node name
        ({"__number__": 1}, ["broken"]),
    ],
)
def test_answers_errors_and_hooks_as_rasa_runs_them(tmp_path, inputs, targets):
    rasa_run, kept_order = run_both(tmp_path, inputs, targets)
    assert kept_order == rasa_run


def test_a_second_run_reuses_the_order_and_runs_every_node_again(tmp_path):
    schema = toy_schema()
    runner = DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema), [])
    Add.calls = []
    assert runner.run({"__number__": 1}, ["both"]) == {"both": 11}
    plans = dict(runner.__dict__[rasa_graph_runner.PLANS_ATTRIBUTE])
    assert runner.run({"__number__": 5}, ["both"]) == {"both": 15}
    assert runner.__dict__[rasa_graph_runner.PLANS_ATTRIBUTE] == plans
    assert sorted(Add.calls) == sorted(["five", "plus_input", "both"] * 2)


def test_other_rasa_versions_are_left_alone(monkeypatch, caplog):
    monkeypatch.setattr(DaskGraphRunner, "run", rasa_graph_runner.ORIGINAL_RUN)
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with caplog.at_level(logging.INFO, logger="bot.rasa_patches"):
        assert rasa_graph_runner.install() is False
    assert DaskGraphRunner.run is rasa_graph_runner.ORIGINAL_RUN
    assert "3.7.0" in caplog.text
