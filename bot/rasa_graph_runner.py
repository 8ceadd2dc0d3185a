"""Rasa's model graph run in a kept order, without dask (a documented patch of Rasa 3.6.21).

Why. Every parse and every action prediction runs a part of the model graph through
`DaskGraphRunner.run`. For each run Rasa 3.6 cuts the schema down to the targets, builds a
dask graph from it, and dask then orders the tasks, tracks their dependencies and fires
them one by one on its synchronous scheduler. The graph and the targets are the same for
every turn, and a turn runs the graph four to eight times: that bookkeeping was 8 % of the
Rasa process's time under load here (py-spy, 16 buyers), about as much as the rule policy.

What changes. `DaskGraphRunner.run` works out, once per set of targets, the nodes the
targets need in an order where every node comes after the nodes it needs, and then calls
the nodes in that order. Everything else is Rasa's: the nodes (`GraphNode.__call__`, with
their hooks and lazy loading), the inputs' check against node names, what a node gets for
an input nobody provides (the name itself, as dask passes it: the node then raises Rasa's
`GraphRunError`), the `{target: output}` answer, and `GraphRunError` for a `RuntimeError`.
dask's synchronous scheduler also ran one node at a time; only the order of nodes that do
not depend on each other (the policies, say) may differ, and none of them changes another's
input.

Pinned to Rasa 3.6.21 like bot/rasa_patches.py; installed with those patches.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

logger = logging.getLogger(__name__)

MARKER = "_aftersales_kept_order"
PLANS_ATTRIBUTE = "_aftersales_plans"
ORIGINAL_RUN: Optional[Any] = None

# (node name, the node, the names of what it needs, in the order of its parameters)
_Step = Tuple[Text, Any, Tuple[Text, ...]]


def execution_order(needs: Dict[Text, List[Text]], targets: List[Text]) -> List[Text]:
    """The nodes the targets need (targets included), each after everything it needs. Names
    that are not nodes (inputs) are left out. Depth first, parameters in their order."""
    order: List[Text] = []
    placed = set()
    for target in targets:
        if target in placed or target not in needs:
            continue
        stack = [(target, iter(needs[target]))]
        on_path = {target}
        while stack:
            name, pending = stack[-1]
            for dependency in pending:
                if dependency in needs and dependency not in placed and dependency not in on_path:
                    stack.append((dependency, iter(needs[dependency])))
                    on_path.add(dependency)
                    break
            else:
                stack.pop()
                on_path.discard(name)
                placed.add(name)
                order.append(name)
    return order


def _plan(runner: Any, targets: Tuple[Text, ...]) -> List[_Step]:
    plans: Dict[Tuple[Text, ...], List[_Step]] = runner.__dict__.setdefault(PLANS_ATTRIBUTE, {})
    plan = plans.get(targets)
    if plan is None:
        nodes = runner._graph_schema.minimal_graph_schema(list(targets)).nodes
        needs = {name: list(node.needs.values()) for name, node in nodes.items()}
        plan = [
            (name, runner._instantiated_nodes[name], tuple(needs[name]))
            for name in execution_order(needs, list(targets))
        ]
        plans[targets] = plan
    return plan


def _run(self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    plan = _plan(self, tuple(run_targets))
    results: Dict[Text, Any] = {name: None for name, _, _ in plan}
    if inputs:
        self._add_inputs_to_graph(inputs, results)  # Rasa's check, and (name, value) per input
    given = set(inputs or ())
    logger.debug("Running graph with inputs: %s, targets: %s and %s.", inputs, targets, self._execution_context)
    try:
        for name, node, needed in plan:
            if name not in given:
                results[name] = node(*[results.get(dependency, dependency) for dependency in needed])
        return dict(results[target] for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def install() -> bool:
    """Replace `DaskGraphRunner.run`; True when the patch is (already) active."""
    global ORIGINAL_RUN
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.rasa_patches import replace_pinned

    original = replace_pinned(
        DaskGraphRunner,
        "run",
        _run,
        marker=MARKER,
        without_patch="every graph run is ordered and scheduled by dask",
        installed="The model graph runs in a kept order (bot/rasa_graph_runner.py).",
    )
    ORIGINAL_RUN = original or ORIGINAL_RUN
    return original is not None
