"""The conversation harness (benchmarks/conversations.py) against the running servers:
every scripted buyer must reach the expected outcome, in the database and in the replies."""

from __future__ import annotations

import pytest

from benchmarks.conversations import (
    TARGET_MEDIAN_TURNS_TO_TICKET,
    TARGET_SUCCESS_RATE,
    ConversationHarness,
    Report,
    load_scenarios,
)

pytestmark = pytest.mark.rasa

SCENARIOS = load_scenarios()
POLICY_RULES = {
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Q5",
    "Q6",
    "Q7",
    "Q8",
    "Q9",
    "N1",
    "N2",
    "N3",
    "N4",
    "L1",
    "L2",
    "L3",
    "L4",
    "L5",
    "L6",
    "L7",
    "S1",
    "S2",
    "S3",
}
UNHAPPY_PATHS = {
    "cancel-mid-form",
    "question-mid-form",
    "three-wrong-order-numbers",
    "everything-first",
    "greeting-mid-flow",
    "switch-orders",
    "duplicate-complaint",
}


@pytest.fixture(scope="module")
def harness_report(assistant, shared_fixture_orders) -> Report:
    harness = ConversationHarness(assistant.rest_url, assistant.database_url, assistant.evidence_dir)
    return harness.run_all(SCENARIOS)


def test_the_scenarios_cover_every_policy_rule_and_unhappy_path():
    assert len(SCENARIOS) >= 30
    assert POLICY_RULES <= {scenario.rule for scenario in SCENARIOS}
    assert UNHAPPY_PATHS <= {scenario.id for scenario in SCENARIOS}


@pytest.mark.parametrize("scenario_id", [scenario.id for scenario in SCENARIOS])
def test_scripted_buyer_reaches_the_expected_outcome(harness_report, scenario_id):
    [outcome] = [o for o in harness_report.outcomes if o.scenario.id == scenario_id]
    assert outcome.passed, "\n".join(outcome.failures + ["", *outcome.transcript])


def test_task_success_and_turns_to_ticket_meet_the_targets(harness_report):
    assert harness_report.success_rate >= TARGET_SUCCESS_RATE
    assert harness_report.median_turns_to_ticket is not None
    assert harness_report.median_turns_to_ticket <= TARGET_MEDIAN_TURNS_TO_TICKET
