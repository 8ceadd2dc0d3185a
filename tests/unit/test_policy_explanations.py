"""Buyer-facing explanations: every template is reachable, renders with real data and names its rule."""

import string

import pytest

from bot.domain.vocabulary import OrderStatus, ProductCategory, SubIssue
from bot.policy import Situation, decide, explanations
from tests.unit.conftest import POLICY_NOW, POLICY_TODAY

PLACEHOLDERS = {
    "rule",
    "item",
    "category_label",
    "days_since_delivery",
    "days_since_shipment",
    "warranty_days",
    "warranty_end",
    "warranty_start_label",
    "quality_return_days",
    "quality_exchange_days",
    "no_reason_days",
    "condition",
    "promised_days",
    "expected_date",
    "ship_within_hours",
    "check_hours",
    "contact_hours",
    "supervisor_hours",
    "channels",
    "remedies",
    "refund_due",
    "refund_working_days",
    "return_processing_hours",
}

C = ProductCategory


def cases(order):
    """(order, situation) pairs that together reach every rule template and fragment."""
    s = Situation.from_sub_issue
    return [
        (order(C.DIGITAL, delivered=2), s(SubIssue.DEFECT)),
        (order(C.DIGITAL, delivered=10), s(SubIssue.DEFECT)),
        (order(C.DIGITAL, delivered=100), s(SubIssue.DEFECT)),
        (order(C.DIGITAL, delivered=100), s(SubIssue.DEFECT, repeated_fault_after_repair=True)),
        (order(C.APPAREL, delivered=20), s(SubIssue.DEFECT)),
        (order(C.DIGITAL, delivered=400), s(SubIssue.DEFECT)),
        (order(C.APPAREL, delivered=40), s(SubIssue.DEFECT)),
        (order(C.DIGITAL, delivered=4), s(SubIssue.HUMAN_DAMAGE)),
        (order(C.BEAUTY, delivered=4), s(SubIssue.HUMAN_DAMAGE)),
        (order(C.BEAUTY, delivered=4), s(SubIssue.COUNTERFEIT)),
        (order(C.DIGITAL, delivered=4), s(SubIssue.SAFETY)),
        (order(C.FRESH, delivered=1), s(SubIssue.SPOILED, evidence_given=True)),
        (order(C.APPAREL, delivered=3), s(SubIssue.SIZE)),
        (order(C.CUSTOM, delivered=3), s(SubIssue.NO_REASON)),
        (order(C.DIGITAL, delivered=30), s(SubIssue.NO_REASON)),
        (order(C.BEAUTY, delivered=3), s(SubIssue.NO_REASON, item_unused=False)),
        (order(C.OTHER, delivered=None, shipped=2), s(SubIssue.DELAY)),
        (order(C.OTHER, delivered=None, shipped=None, paid=1), s(SubIssue.NOT_SHIPPED)),
        (order(C.OTHER, delivered=None, shipped=None, paid=None), s(SubIssue.NOT_SHIPPED)),
        (order(C.OTHER, delivered=None, shipped=20), s(SubIssue.DELAY)),
        (order(C.OTHER, delivered=None, shipped=6, status=OrderStatus.LOST), s(SubIssue.LOST)),
        (order(C.OTHER, delivered=1), s(SubIssue.NOT_RECEIVED)),
        (order(C.APPLIANCE, delivered=0), s(SubIssue.DAMAGED_IN_TRANSIT)),
        (order(C.OTHER, delivered=None, shipped=None, paid=1), s(SubIssue.ADDRESS_CHANGE)),
        (order(C.OTHER, delivered=None, shipped=1), s(SubIssue.ADDRESS_CHANGE)),
        (order(C.OTHER, delivered=None, shipped=None, paid=4), s(SubIssue.NOT_SHIPPED)),
        (order(C.OTHER), s(SubIssue.RUDE)),
        (order(C.OTHER), s(SubIssue.RUDE, repeat_contacts=2)),
        (order(C.OTHER), s(SubIssue.WHERE_TO_COMPLAIN, earlier_ticket_overdue=True)),
        (order(C.OTHER, status=OrderStatus.REFUNDED), s(SubIssue.DEFECT)),
        (order(C.OTHER, status=OrderStatus.CANCELLED), s(SubIssue.DEFECT)),
    ]


def placeholders_of(template: str):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_templates_only_use_known_placeholders():
    data = explanations.templates()
    for key, template in list(data["rules"].items()) + list(data["fragments"].items()):
        assert placeholders_of(template) <= PLACEHOLDERS, key


def test_every_template_and_fragment_is_reached_and_renders(monkeypatch, shop_policy, policy_order):
    used = set()
    render, fragment = explanations.render, explanations.fragment

    def recording_render(key, context):
        used.add(key)
        return render(key, context)

    def recording_fragment(name, context):
        used.add(name)
        return fragment(name, context)

    monkeypatch.setattr(explanations, "render", recording_render)
    monkeypatch.setattr(explanations, "fragment", recording_fragment)
    for order, situation in cases(policy_order):
        decision = decide(order, situation, POLICY_TODAY, shop_policy, now=POLICY_NOW)
        text = decision.explanation
        assert text.startswith(f"【售后规则 {decision.rule_id}】")
        assert "None" not in text and "{" not in text
        assert "您" in text
    data = explanations.templates()
    assert used == set(data["rules"]) | set(data["fragments"])


@pytest.mark.parametrize("category", list(ProductCategory))
def test_every_category_has_a_label(category):
    assert explanations.category_label(category.value)
