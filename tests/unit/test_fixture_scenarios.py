"""Every demo order in ../shared/fixtures/orders.json gets the outcome its `scenario` names.

The table maps each order to the buyer situations its scenario talks about and the rule and
remedies each must produce. A new fixture order without a row here fails the completeness test.
"""

import json
import re
from datetime import date

import pytest

from bot.domain.vocabulary import Priority, ProductCategory, Remedy, SubIssue
from bot.policy import Situation, decide
from bot.policy.interchange import interchange_orders, order_facts_from_interchange

R = Remedy
TODAY = date(2025, 6, 16)


def said(sub_issue: SubIssue, **details) -> Situation:
    return Situation.from_sub_issue(sub_issue, evidence_given=True, **details)


# order_id -> [(situation, expected rule, expected remedies)]
SCENARIOS = {
    "9537610396283960": [(said(SubIssue.DEFECT), "Q1", (R.RETURN_REFUND, R.EXCHANGE))],
    "1629201619997851": [(said(SubIssue.DEFECT), "Q2", (R.EXCHANGE, R.REPAIR))],
    "8732395222603582": [(said(SubIssue.DEFECT), "Q3", (R.REPAIR,))],
    "4354258595926213": [(said(SubIssue.DEFECT), "Q5", (R.PAID_REPAIR,))],
    "8155133114278519": [(said(SubIssue.DEFECT), "Q3", (R.REPAIR,))],
    "2485845731875048": [(said(SubIssue.DEFECT), "Q3", (R.REPAIR,))],
    "5109131778694365": [(said(SubIssue.SIZE, item_unused=True), "N1", (R.RETURN_REFUND, R.EXCHANGE))],
    "6502674166691814": [(said(SubIssue.DEFECT), "Q4", (R.EXCHANGE,))],
    "3502550954186769": [(said(SubIssue.SPOILED), "Q9", (R.REFUND_ONLY, R.RESHIP))],
    "5368153590534302": [
        (said(SubIssue.SPOILED), "Q5", (R.REJECT,)),
        (said(SubIssue.NO_REASON, item_unused=True), "N2", (R.REJECT,)),
    ],
    "7663391260930779": [(said(SubIssue.NO_REASON, item_unused=True), "N2", (R.REJECT,))],
    "2461897090886705": [
        (said(SubIssue.NO_REASON, item_unused=True), "N1", (R.RETURN_REFUND,)),
        (said(SubIssue.NO_REASON, item_unused=False), "N4", (R.REJECT,)),
    ],
    "2338021367550282": [(said(SubIssue.DELAY), "L2", (R.INVESTIGATE, R.RESHIP, R.REFUND_ONLY))],
    "4086190625071445": [(said(SubIssue.DELAY), "L1", (R.INFO,))],
    "3351919132524790": [(said(SubIssue.LOST), "L3", (R.RESHIP, R.REFUND_ONLY))],
    "8235717401432423": [(said(SubIssue.NOT_RECEIVED), "L4", (R.INVESTIGATE, R.RESHIP, R.REFUND_ONLY))],
    "7513360583565063": [(said(SubIssue.DAMAGED_IN_TRANSIT), "L5", (R.RESHIP, R.RETURN_REFUND))],
    "6881506350319427": [
        (said(SubIssue.ADDRESS_CHANGE), "L6", (R.INFO,)),
        (said(SubIssue.NOT_SHIPPED), "L7", (R.REFUND_ONLY,)),
    ],
    "7695525025925454": [(said(SubIssue.NO_REASON, item_unused=True), "N3", (R.REJECT,))],
    "5938518962175006": [(said(SubIssue.DEFECT), "Q1", (R.RETURN_REFUND, R.EXCHANGE))],
    "7878614495952204": [(said(SubIssue.COUNTERFEIT), "Q7", (R.RETURN_REFUND,))],
    "5598597962467097": [(said(SubIssue.SAFETY), "Q8", (R.RETURN_REFUND,))],
    "5668872899511472": [(said(SubIssue.DEFECT), "Q1", (R.RETURN_REFUND, R.EXCHANGE))],
    "3932867566451210": [(said(SubIssue.DEFECT), "X1", (R.INFO,))],
}

CASES = [
    pytest.param(order_id, situation, rule, remedies, id=f"{order_id}-{rule}")
    for order_id, rows in SCENARIOS.items()
    for situation, rule, remedies in rows
]


@pytest.fixture(scope="module")
def fixture_orders(shared_fixture_orders):
    return interchange_orders(json.loads(shared_fixture_orders.read_text(encoding="utf-8")))


def decide_for(order, situation, policy, item_index=0):
    return decide(order_facts_from_interchange(order, TODAY, item_index), situation, TODAY, policy)


def test_every_fixture_order_has_a_scenario_row(fixture_orders):
    assert set(fixture_orders) == set(SCENARIOS)


@pytest.mark.parametrize("order_id, situation, rule, remedies", CASES)
def test_fixture_order_gets_its_scenarios_outcome(fixture_orders, shop_policy, order_id, situation, rule, remedies):
    order = fixture_orders[order_id]
    decision = decide_for(order, situation, shop_policy)
    assert (decision.rule_id, decision.remedies) == (rule, remedies)
    scenario = order["scenario"]
    named_rules = re.findall(r"\b([QNLS][1-9])\b", scenario)
    if named_rules:
        assert rule in named_rules, f"{scenario!r} does not name {rule}"


def test_cash_on_delivery_refunds_in_seven_working_days(fixture_orders, shop_policy):
    decision = decide_for(fixture_orders["5938518962175006"], said(SubIssue.DEFECT), shop_policy)
    assert decision.refund_working_days == 7


def test_high_value_fixture_orders_are_high_priority(fixture_orders, shop_policy):
    laptop = decide_for(fixture_orders["8732395222603582"], said(SubIssue.DEFECT), shop_policy)
    purifier = decide_for(fixture_orders["2485845731875048"], said(SubIssue.DEFECT), shop_policy)
    assert laptop.priority is Priority.HIGH  # 8999 CNY
    assert purifier.priority is Priority.NORMAL  # 1899 CNY


def test_counterfeit_and_safety_fixtures_are_urgent_and_escalated(fixture_orders, shop_policy):
    for order_id, sub_issue in (("7878614495952204", SubIssue.COUNTERFEIT), ("5598597962467097", SubIssue.SAFETY)):
        decision = decide_for(fixture_orders[order_id], said(sub_issue), shop_policy)
        assert decision.priority is Priority.URGENT and decision.escalate


def test_two_item_order_is_decided_per_item(fixture_orders, shop_policy):
    order = fixture_orders["5668872899511472"]
    console = order_facts_from_interchange(order, TODAY, item_index=0)
    case = order_facts_from_interchange(order, TODAY, item_index=1)
    assert (console.item_category, case.item_category) == (ProductCategory.DIGITAL, ProductCategory.OTHER)
    situation = Situation.from_sub_issue(SubIssue.DEFECT, evidence_given=True)
    console_decision = decide(console, situation, TODAY, shop_policy)
    case_decision = decide(case, situation, TODAY, shop_policy)
    assert console.item_name in console_decision.explanation
    assert case.item_name in case_decision.explanation
    assert console_decision.warranty_end != case_decision.warranty_end  # 365 vs 90 days from shipping
