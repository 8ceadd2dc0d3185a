"""Every rule of the after-sales policy, with its day-count boundaries and precedence."""

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from bot.domain.vocabulary import (
    ComplaintCategory,
    OrderStatus,
    PaymentMethod,
    Priority,
    ProductCategory,
    Remedy,
    ShippingPayer,
    SubIssue,
)
from bot.policy import OrderFactsError, Situation, decide
from tests.unit.conftest import POLICY_NOW, POLICY_TODAY

R = Remedy
DIGITAL, APPLIANCE, APPAREL, BEAUTY, FRESH, CUSTOM, OTHER = (
    ProductCategory.DIGITAL,
    ProductCategory.APPLIANCE,
    ProductCategory.APPAREL,
    ProductCategory.BEAUTY,
    ProductCategory.FRESH,
    ProductCategory.CUSTOM,
    ProductCategory.OTHER,
)


def issue(sub_issue: SubIssue, **details) -> Situation:
    return Situation.from_sub_issue(sub_issue, **details)


@pytest.fixture
def judge(shop_policy):
    def run(order, situation, today=POLICY_TODAY, now=POLICY_NOW, policy=shop_policy):
        return decide(order, situation, today, policy, now=now)

    return run


# --- quality: Q1–Q5 by date -----------------------------------------------------------------


@pytest.mark.parametrize(
    "category, days, rule, remedies",
    [
        (DIGITAL, 0, "Q1", (R.RETURN_REFUND, R.EXCHANGE)),
        (DIGITAL, 7, "Q1", (R.RETURN_REFUND, R.EXCHANGE)),
        (DIGITAL, 8, "Q2", (R.EXCHANGE, R.REPAIR)),
        (DIGITAL, 15, "Q2", (R.EXCHANGE, R.REPAIR)),
        (DIGITAL, 16, "Q3", (R.REPAIR,)),
        (APPAREL, 8, "Q2", (R.EXCHANGE,)),
        (APPAREL, 15, "Q2", (R.EXCHANGE,)),
        (APPAREL, 16, "Q4", (R.EXCHANGE,)),
        (APPLIANCE, 400, "Q3", (R.REPAIR,)),
    ],
)
def test_quality_rules_follow_days_since_delivery(judge, policy_order, category, days, rule, remedies):
    decision = judge(policy_order(category, delivered=days), issue(SubIssue.DEFECT, evidence_given=True))
    assert (decision.rule_id, decision.remedies) == (rule, remedies)
    assert decision.shipping_payer is ShippingPayer.SELLER
    assert decision.days_since_delivery == days


@pytest.mark.parametrize(
    "category, warranty_days, inside, after",
    [
        (DIGITAL, 365, ("Q3", (R.REPAIR,)), ("Q5", (R.PAID_REPAIR,))),
        (APPLIANCE, 730, ("Q3", (R.REPAIR,)), ("Q5", (R.PAID_REPAIR,))),
        (APPAREL, 30, ("Q4", (R.EXCHANGE,)), ("Q5", (R.REJECT,))),
        (BEAUTY, 30, ("Q4", (R.EXCHANGE,)), ("Q5", (R.REJECT,))),
        (OTHER, 90, ("Q4", (R.EXCHANGE,)), ("Q5", (R.REJECT,))),
    ],
)
def test_last_day_of_warranty_is_covered_and_the_next_is_not(
    judge, policy_order, category, warranty_days, inside, after
):
    situation = issue(SubIssue.DEFECT, evidence_given=True)
    last_day = judge(policy_order(category, delivered=warranty_days), situation)
    day_after = judge(policy_order(category, delivered=warranty_days + 1), situation)
    assert (last_day.rule_id, last_day.remedies) == inside
    assert (day_after.rule_id, day_after.remedies) == after
    assert last_day.warranty_end == POLICY_TODAY
    assert day_after.warranty_end == POLICY_TODAY - timedelta(days=1)


def test_paid_repair_after_warranty_is_at_the_buyers_cost(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=400), issue(SubIssue.DEFECT))
    assert decision.shipping_payer is ShippingPayer.BUYER
    assert not decision.evidence_required


def test_cross_border_warranty_counts_from_ship_date(judge, policy_order):
    situation = issue(SubIssue.DEFECT, evidence_given=True)
    cross_border = judge(policy_order(DIGITAL, shipped=366, delivered=354, cross_border=True), situation)
    domestic = judge(policy_order(DIGITAL, shipped=366, delivered=354, cross_border=False), situation)
    assert cross_border.rule_id == "Q5"
    assert cross_border.warranty_end == POLICY_TODAY - timedelta(days=1)
    assert domestic.rule_id == "Q3"
    assert domestic.warranty_end == POLICY_TODAY + timedelta(days=11)


def test_cross_border_ship_date_last_warranty_day_still_covered(judge, policy_order):
    decision = judge(
        policy_order(DIGITAL, shipped=365, delivered=350, cross_border=True),
        issue(SubIssue.DEFECT, evidence_given=True),
    )
    assert decision.rule_id == "Q3"


def test_quality_windows_still_count_from_delivery_for_cross_border(judge, policy_order):
    decision = judge(
        policy_order(DIGITAL, shipped=25, delivered=7, cross_border=True), issue(SubIssue.DEFECT, evidence_given=True)
    )
    assert decision.rule_id == "Q1"


def test_cross_border_without_ship_date_counts_warranty_from_delivery(judge, policy_order):
    order = policy_order(APPAREL, delivered=20, cross_border=True)
    order = replace(order, shipped_at=None)
    decision = judge(order, issue(SubIssue.DEFECT, evidence_given=True))
    assert decision.rule_id == "Q4"
    assert decision.warranty_end == POLICY_TODAY + timedelta(days=10)


def test_not_as_described_is_a_quality_problem(judge, policy_order):
    decision = judge(policy_order(APPAREL, delivered=2), issue(SubIssue.NOT_AS_DESCRIBED, evidence_given=True))
    assert decision.rule_id == "Q1"


def test_repeated_fault_after_repair_escalates_for_exchange_or_refund(judge, policy_order):
    decision = judge(
        policy_order(DIGITAL, delivered=100),
        issue(SubIssue.DEFECT, evidence_given=True, repeated_fault_after_repair=True),
    )
    assert decision.rule_id == "Q3"
    assert set(decision.remedies) == {R.EXCHANGE, R.RETURN_REFUND}
    assert decision.escalate


# --- quality: evidence ----------------------------------------------------------------------


def test_quality_without_evidence_waits_for_it_before_any_remedy(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=2), issue(SubIssue.DEFECT))
    assert decision.evidence_required
    assert "evidence" in decision.missing_facts
    assert decision.remedies == (R.RETURN_REFUND, R.EXCHANGE)
    assert "照片或视频" in decision.explanation


def test_evidence_given_clears_the_requirement(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=2), issue(SubIssue.DEFECT, evidence_given=True))
    assert not decision.evidence_required
    assert decision.missing_facts == ()


# --- quality: Q6–Q9 and precedence ---------------------------------------------------------


@pytest.mark.parametrize("days", [0, 5, 100, 900])
def test_human_damage_is_never_free(judge, policy_order, days):
    repairable = judge(policy_order(DIGITAL, delivered=days), issue(SubIssue.HUMAN_DAMAGE, evidence_given=True))
    not_repairable = judge(policy_order(APPAREL, delivered=days), issue(SubIssue.HUMAN_DAMAGE, evidence_given=True))
    assert (repairable.rule_id, repairable.remedies) == ("Q6", (R.PAID_REPAIR,))
    assert repairable.shipping_payer is ShippingPayer.BUYER
    assert (not_repairable.rule_id, not_repairable.remedies) == ("Q6", (R.REJECT,))
    for decision in (repairable, not_repairable):
        assert not {R.REPAIR, R.RETURN_REFUND, R.EXCHANGE, R.REFUND_ONLY, R.RESHIP} & set(decision.remedies)


@pytest.mark.parametrize("sub_issue, rule", [(SubIssue.COUNTERFEIT, "Q7"), (SubIssue.SAFETY, "Q8")])
@pytest.mark.parametrize("days", [1, 40, 1000])
def test_counterfeit_and_safety_apply_on_any_day(judge, policy_order, sub_issue, rule, days):
    decision = judge(policy_order(BEAUTY, delivered=days), issue(sub_issue, evidence_given=True))
    assert decision.rule_id == rule
    assert decision.remedies == (R.RETURN_REFUND,)
    assert decision.priority is Priority.URGENT
    assert decision.escalate
    assert decision.shipping_payer is ShippingPayer.SELLER


def test_safety_beats_human_damage(judge, policy_order):
    dropped_and_smoking = issue(SubIssue.HUMAN_DAMAGE, also_mentioned=(SubIssue.SAFETY,))
    assert judge(policy_order(DIGITAL, delivered=30), dropped_and_smoking).rule_id == "Q8"


def test_counterfeit_beats_human_damage_and_date_rules(judge, policy_order):
    situation = issue(SubIssue.DEFECT, also_mentioned=(SubIssue.HUMAN_DAMAGE, SubIssue.COUNTERFEIT))
    assert judge(policy_order(DIGITAL, delivered=3), situation).rule_id == "Q7"
    assert judge(policy_order(APPAREL, delivered=300), situation).rule_id == "Q7"


def test_safety_beats_counterfeit(judge, policy_order):
    situation = issue(SubIssue.COUNTERFEIT, also_mentioned=(SubIssue.SAFETY,))
    assert judge(policy_order(DIGITAL, delivered=3), situation).rule_id == "Q8"


def test_human_damage_beats_fresh_and_date_rules(judge, policy_order):
    assert judge(policy_order(FRESH, delivered=0), issue(SubIssue.HUMAN_DAMAGE)).rule_id == "Q6"
    assert judge(policy_order(DIGITAL, delivered=2), issue(SubIssue.HUMAN_DAMAGE)).rule_id == "Q6"


@pytest.mark.parametrize("days", [0, 1, 3])
def test_fresh_spoiled_within_its_warranty_is_refunded_or_reshipped(judge, policy_order, days):
    decision = judge(policy_order(FRESH, delivered=days), issue(SubIssue.SPOILED, evidence_given=True))
    assert decision.rule_id == "Q9"
    assert set(decision.remedies) == {R.REFUND_ONLY, R.RESHIP}
    assert decision.shipping_payer is ShippingPayer.NONE
    assert decision.return_processing_hours is None


def test_fresh_after_its_warranty_is_rejected(judge, policy_order):
    decision = judge(policy_order(FRESH, delivered=4), issue(SubIssue.SPOILED, evidence_given=True))
    assert (decision.rule_id, decision.remedies) == ("Q5", (R.REJECT,))


# --- returns without a reason --------------------------------------------------------------


def test_no_reason_return_day_7_allowed_day_8_rejected(judge, policy_order):
    situation = issue(SubIssue.NO_REASON, item_unused=True)
    day_7 = judge(policy_order(DIGITAL, delivered=7), situation)
    day_8 = judge(policy_order(DIGITAL, delivered=8), situation)
    assert (day_7.rule_id, day_7.remedies) == ("N1", (R.RETURN_REFUND,))
    assert day_7.shipping_payer is ShippingPayer.BUYER
    assert (day_8.rule_id, day_8.remedies) == ("N3", (R.REJECT,))
    assert not day_8.escalate


@pytest.mark.parametrize("category", [FRESH, CUSTOM])
def test_exempt_categories_are_rejected_first(judge, policy_order, category):
    for days in (0, 30):
        decision = judge(policy_order(category, delivered=days), issue(SubIssue.NO_REASON, item_unused=True))
        assert (decision.rule_id, decision.remedies) == ("N2", (R.REJECT,))


def test_window_passed_is_checked_before_used(judge, policy_order):
    decision = judge(policy_order(BEAUTY, delivered=9), issue(SubIssue.NO_REASON, item_unused=False))
    assert decision.rule_id == "N3"


def test_used_item_is_rejected(judge, policy_order):
    decision = judge(policy_order(BEAUTY, delivered=2), issue(SubIssue.NO_REASON, item_unused=False))
    assert (decision.rule_id, decision.remedies) == ("N4", (R.REJECT,))


def test_unknown_condition_is_asked_with_the_category_wording(judge, policy_order, shop_policy):
    decision = judge(policy_order(BEAUTY, delivered=2), issue(SubIssue.NO_REASON))
    assert decision.rule_id == "N1"
    assert decision.missing_facts == ("item_unused",)
    assert shop_policy.no_reason_conditions[BEAUTY] in decision.explanation


def test_apparel_size_problem_offers_exchange_too(judge, policy_order):
    decision = judge(policy_order(APPAREL, delivered=3), issue(SubIssue.SIZE, item_unused=True))
    assert decision.rule_id == "N1"
    assert set(decision.remedies) == {R.RETURN_REFUND, R.EXCHANGE}
    assert decision.shipping_payer is ShippingPayer.BUYER


def test_size_problem_reported_as_quality_is_still_a_no_reason_return(judge, policy_order):
    situation = Situation(category=ComplaintCategory.QUALITY, sub_issue=SubIssue.SIZE, item_unused=True)
    assert judge(policy_order(APPAREL, delivered=3), situation).rule_id == "N1"


def test_size_problem_with_a_fault_is_a_quality_problem(judge, policy_order):
    situation = issue(SubIssue.SIZE, also_mentioned=(SubIssue.DEFECT,), evidence_given=True)
    assert judge(policy_order(APPAREL, delivered=3), situation).rule_id == "Q1"


# --- logistics ------------------------------------------------------------------------------


def test_promised_delivery_boundary(judge, policy_order):
    situation = issue(SubIssue.DELAY)
    on_last_day = judge(policy_order(OTHER, delivered=None, shipped=15, cross_border=True), situation)
    day_after = judge(policy_order(OTHER, delivered=None, shipped=16, cross_border=True), situation)
    assert (on_last_day.rule_id, on_last_day.remedies) == ("L1", (R.INFO,))
    assert day_after.rule_id == "L2"
    assert day_after.remedies[0] is R.INVESTIGATE
    assert {R.RESHIP, R.REFUND_ONLY} <= set(day_after.remedies)


def test_domestic_default_promise_is_shorter(judge, policy_order):
    situation = issue(SubIssue.DELAY)
    assert judge(policy_order(OTHER, delivered=None, shipped=3), situation).rule_id == "L1"
    assert judge(policy_order(OTHER, delivered=None, shipped=4), situation).rule_id == "L2"


def test_the_orders_own_promise_wins(judge, policy_order):
    order = policy_order(OTHER, delivered=None, shipped=10, cross_border=True, promised=7)
    assert judge(order, issue(SubIssue.DELAY)).rule_id == "L2"


def test_info_and_reject_decisions_open_no_ticket(judge, policy_order):
    in_transit = policy_order(OTHER, delivered=None, shipped=2)
    assert judge(in_transit, issue(SubIssue.DELAY)).rule_id == "L1"
    assert not judge(in_transit, issue(SubIssue.DELAY)).opens_ticket
    late = judge(policy_order(OTHER, delivered=20), issue(SubIssue.NO_REASON))
    assert (late.rule_id, late.remedies, late.opens_ticket) == ("N3", (R.REJECT,), False)
    dropped = judge(policy_order(APPAREL, delivered=2), issue(SubIssue.HUMAN_DAMAGE))
    assert (dropped.rule_id, dropped.remedies, dropped.opens_ticket) == ("Q6", (R.REJECT,), False)


def test_decisions_that_leave_work_open_a_ticket(judge, policy_order):
    assert judge(policy_order(OTHER, delivered=None, shipped=30), issue(SubIssue.DELAY)).opens_ticket  # L2
    assert judge(policy_order(OTHER, delivered=2), issue(SubIssue.DEFECT)).opens_ticket  # Q1


def test_lost_parcel_reship_or_refund_now(judge, policy_order):
    order = policy_order(DIGITAL, delivered=None, shipped=6, status=OrderStatus.LOST)
    decision = judge(order, issue(SubIssue.LOST))
    assert (decision.rule_id, decision.remedies) == ("L3", (R.RESHIP, R.REFUND_ONLY))
    assert decision.priority is Priority.HIGH
    assert decision.refund_counted_from == "today"
    assert decision.refund_due == date(2025, 6, 19)  # Mon + 3 working days


def test_signed_but_not_received_is_investigated_first(judge, policy_order):
    decision = judge(policy_order(APPLIANCE, delivered=1), issue(SubIssue.NOT_RECEIVED))
    assert decision.rule_id == "L4"
    assert decision.remedies[0] is R.INVESTIGATE
    assert {R.RESHIP, R.REFUND_ONLY} <= set(decision.remedies)
    assert decision.priority is Priority.HIGH
    assert decision.action_due == POLICY_NOW + timedelta(hours=24)
    assert decision.refund_due is None and decision.refund_counted_from == "approval"


def test_damaged_in_transit_needs_evidence_and_seller_pays(judge, policy_order):
    decision = judge(policy_order(APPLIANCE, delivered=0), issue(SubIssue.DAMAGED_IN_TRANSIT))
    assert decision.rule_id == "L5"
    assert set(decision.remedies) == {R.RESHIP, R.RETURN_REFUND}
    assert decision.evidence_required
    assert decision.shipping_payer is ShippingPayer.SELLER


def test_address_change_before_and_after_shipping(judge, policy_order):
    not_shipped = judge(policy_order(OTHER, delivered=None, shipped=None, paid=1), issue(SubIssue.ADDRESS_CHANGE))
    shipped = judge(policy_order(OTHER, delivered=None, shipped=1), issue(SubIssue.ADDRESS_CHANGE))
    assert (not_shipped.rule_id, not_shipped.remedies) == ("L6", (R.INFO,))
    assert (shipped.rule_id, shipped.remedies) == ("L6", (R.INVESTIGATE,))


def test_not_shipped_48_hour_boundary_with_payment_time(judge, policy_order):
    def with_paid_hours_ago(hours: float):
        paid_at = POLICY_NOW - timedelta(hours=hours)
        return policy_order(OTHER, delivered=None, shipped=None, paid_at=paid_at)

    assert judge(with_paid_hours_ago(48), issue(SubIssue.NOT_SHIPPED)).rule_id == "L1"
    late = judge(with_paid_hours_ago(48.5), issue(SubIssue.NOT_SHIPPED))
    assert (late.rule_id, late.remedies) == ("L7", (R.REFUND_ONLY,))
    assert late.action_due == POLICY_NOW + timedelta(hours=24)


def test_not_shipped_with_payment_date_only_counts_whole_days(judge, policy_order):
    situation = issue(SubIssue.NOT_SHIPPED)
    assert judge(policy_order(OTHER, delivered=None, shipped=None, paid=2), situation).rule_id == "L1"
    assert judge(policy_order(OTHER, delivered=None, shipped=None, paid=3), situation).rule_id == "L7"


def test_not_shipped_without_payment_time_asks_for_it(judge, policy_order):
    decision = judge(policy_order(OTHER, delivered=None, shipped=None, paid=None), issue(SubIssue.NOT_SHIPPED))
    assert decision.rule_id == "L1"
    assert decision.missing_facts == ("paid_at",)


def test_address_change_wins_over_the_48_hour_rule(judge, policy_order):
    order = policy_order(OTHER, delivered=None, shipped=None, paid=3)
    assert judge(order, issue(SubIssue.ADDRESS_CHANGE)).rule_id == "L6"
    assert judge(order, issue(SubIssue.NOT_SHIPPED)).rule_id == "L7"


def test_quality_complaint_about_an_undelivered_order_gets_its_shipping_status(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=None, shipped=20, cross_border=True), issue(SubIssue.DEFECT))
    assert decision.rule_id == "L2"


# --- service ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sub_issue", [SubIssue.RUDE, SubIssue.NO_REPLY, SubIssue.SHIRKING, SubIssue.SLOW])
def test_service_complaint_gets_a_supervisor_within_24_hours(judge, policy_order, sub_issue):
    decision = judge(policy_order(OTHER), issue(sub_issue))
    assert decision.rule_id == "S1"
    assert decision.priority is Priority.HIGH
    assert not decision.escalate
    assert decision.action_due == POLICY_NOW + timedelta(hours=24)


def test_service_complaint_escalates_if_the_buyer_asks(judge, policy_order):
    decision = judge(policy_order(OTHER), issue(SubIssue.RUDE, buyer_asks_for_human=True))
    assert decision.rule_id == "S1" and decision.escalate


def test_third_contact_is_urgent(judge, policy_order):
    second = judge(policy_order(OTHER), issue(SubIssue.SLOW, repeat_contacts=1))
    third = judge(policy_order(OTHER), issue(SubIssue.SLOW, repeat_contacts=2))
    assert second.rule_id == "S1"
    assert (third.rule_id, third.priority, third.escalate) == ("S2", Priority.URGENT, True)


def test_overdue_earlier_ticket_is_urgent(judge, policy_order):
    decision = judge(policy_order(OTHER), issue(SubIssue.NO_REPLY, earlier_ticket_overdue=True))
    assert (decision.rule_id, decision.priority, decision.escalate) == ("S2", Priority.URGENT, True)


def test_s2_on_top_of_a_quality_rule_keeps_its_remedies(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=2), issue(SubIssue.DEFECT, repeat_contacts=2))
    assert decision.rule_id == "Q1"
    assert decision.secondary_rules == ("S2",)
    assert decision.remedies == (R.RETURN_REFUND, R.EXCHANGE)
    assert decision.priority is Priority.URGENT
    assert decision.escalate


def test_coming_back_to_complain_of_the_handling_is_a_service_complaint(judge, policy_order):
    """ "又是我…处理得也太慢了": S1 on the second contact, S2 itself (not a secondary rule on L2)
    on the third."""
    late = policy_order(DIGITAL, status=OrderStatus.IN_TRANSIT, shipped=9, delivered=None)
    handling = issue(SubIssue.DELAY, also_mentioned=(SubIssue.SLOW,), repeat_contacts=2)
    decision = judge(late, handling)
    assert (decision.rule_id, decision.priority, decision.escalate) == ("S2", Priority.URGENT, True)
    second = judge(late, issue(SubIssue.DELAY, also_mentioned=(SubIssue.SLOW,), repeat_contacts=1))
    assert second.rule_id == "S1"
    # the same words on a first contact are the logistics rule; without the handling, S2 stays secondary
    assert judge(late, issue(SubIssue.DELAY, also_mentioned=(SubIssue.SLOW,))).rule_id == "L2"
    plain = judge(late, issue(SubIssue.DELAY, repeat_contacts=2))
    assert plain.rule_id == "L2" and plain.secondary_rules == ("S2",)


def test_where_to_complain_lists_the_channels(judge, policy_order, shop_policy):
    decision = judge(policy_order(OTHER), issue(SubIssue.WHERE_TO_COMPLAIN))
    assert (decision.rule_id, decision.remedies) == ("S3", (R.INFO,))
    assert "12315" in decision.explanation
    for channel in shop_policy.complaint_channels:
        assert channel in decision.explanation
    assert not decision.opens_ticket


# --- closed orders ------------------------------------------------------------------------


@pytest.mark.parametrize("status, word", [(OrderStatus.REFUNDED, "退款"), (OrderStatus.CANCELLED, "取消")])
def test_refunded_or_cancelled_order_gets_information_only(judge, policy_order, status, word):
    decision = judge(policy_order(DIGITAL, delivered=5, status=status), issue(SubIssue.DEFECT))
    assert (decision.rule_id, decision.remedies) == ("X1", (R.INFO,))
    assert word in decision.explanation
    assert not decision.evidence_required


def test_service_complaint_about_a_refunded_order_is_still_judged(judge, policy_order):
    decision = judge(policy_order(DIGITAL, status=OrderStatus.REFUNDED), issue(SubIssue.RUDE))
    assert decision.rule_id == "S1"


# --- priority, refunds, deadlines ------------------------------------------------------------


def test_order_worth_the_threshold_is_high_priority(judge, policy_order):
    situation = issue(SubIssue.DEFECT, evidence_given=True)
    assert judge(policy_order(DIGITAL, total=1999.99), situation).priority is Priority.NORMAL
    assert judge(policy_order(DIGITAL, total=2000.0), situation).priority is Priority.HIGH


def test_refund_after_return_depends_on_payment_method(judge, policy_order):
    situation = issue(SubIssue.DEFECT, evidence_given=True)
    online = judge(policy_order(DIGITAL, delivered=2), situation)
    cod = judge(policy_order(DIGITAL, delivered=2, payment=PaymentMethod.COD), situation)
    assert (online.refund_working_days, cod.refund_working_days) == (3, 7)
    for decision in (online, cod):
        assert decision.refund_counted_from == "item_returned"
        assert decision.refund_due is None
        assert decision.return_processing_hours == 72
    assert "7 个工作日" in cod.explanation


def test_refund_dates_skip_national_day_and_count_the_make_up_saturday(judge, policy_order):
    today = date(2025, 9, 30)
    now = datetime(2025, 9, 30, 9, 0, tzinfo=POLICY_NOW.tzinfo)

    def lost(payment):
        order = policy_order(DIGITAL, delivered=None, shipped=5, status=OrderStatus.LOST, payment=payment)
        return judge(order, issue(SubIssue.LOST), today=today, now=now)

    # 10-01..10-08 are holidays, Saturday 10-11 is a 调休 working day
    assert lost(PaymentMethod.ONLINE).refund_due == date(2025, 10, 11)
    assert lost(PaymentMethod.COD).refund_due == date(2025, 10, 16)


def test_refund_waits_for_evidence(judge, policy_order):
    decision = judge(policy_order(FRESH, delivered=1), issue(SubIssue.SPOILED))
    assert decision.refund_due is None
    assert decision.refund_counted_from == "approval"


def test_no_refund_fields_without_a_refund(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=100), issue(SubIssue.DEFECT, evidence_given=True))
    assert (decision.refund_working_days, decision.refund_due, decision.refund_counted_from) == (None, None, None)
    assert decision.return_processing_hours is None


def test_every_decision_has_first_response_and_resolution_deadlines(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=2), issue(SubIssue.DEFECT))
    assert decision.first_response_due == POLICY_NOW + timedelta(hours=24)
    assert decision.resolution_due == POLICY_NOW + timedelta(days=7)


def test_naive_now_is_read_in_the_shop_time_zone(judge, policy_order):
    decision = judge(policy_order(DIGITAL), issue(SubIssue.DEFECT), now=datetime(2025, 6, 16, 10, 0))
    assert decision.first_response_due == POLICY_NOW + timedelta(hours=24)


def test_now_defaults_to_the_start_of_a_past_today(shop_policy, policy_order):
    decision = decide(policy_order(DIGITAL), issue(SubIssue.DEFECT), POLICY_TODAY, shop_policy)
    assert decision.first_response_due == datetime(2025, 6, 17, 0, 0, tzinfo=POLICY_NOW.tzinfo)


# --- the situation and the decision as data ------------------------------------------------


def test_category_follows_from_the_sub_issue():
    assert Situation.from_sub_issue(SubIssue.LOST).category is ComplaintCategory.LOGISTICS
    assert Situation.from_sub_issue(SubIssue.SIZE).category is ComplaintCategory.NO_REASON
    assert Situation.from_sub_issue(SubIssue.RUDE, repeat_contacts=2).repeat_contacts == 2


def test_category_alone_is_enough(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=10), Situation(ComplaintCategory.QUALITY, evidence_given=True))
    assert decision.rule_id == "Q2"
    assert judge(policy_order(OTHER), Situation(ComplaintCategory.SERVICE)).rule_id == "S1"


def test_delivered_order_without_delivery_date_is_an_error(judge, policy_order):
    order = policy_order(DIGITAL, delivered=None, shipped=3, status=OrderStatus.DELIVERED)
    with pytest.raises(OrderFactsError, match="签收日期"):
        judge(order, issue(SubIssue.DEFECT))


def test_to_dict_is_json_ready(judge, policy_order):
    decision = judge(policy_order(DIGITAL, delivered=2, total=2500), issue(SubIssue.DEFECT))
    data = json.loads(json.dumps(decision.to_dict(), ensure_ascii=False))
    assert data["rule_id"] == "Q1"
    assert data["remedies"] == ["return_refund", "exchange"]
    assert data["shipping_payer"] == "seller"
    assert data["priority"] == "high"
    assert data["missing_facts"] == ["evidence"]
    assert data["warranty_end"] == (POLICY_TODAY - timedelta(days=2) + timedelta(days=365)).isoformat()
    assert data["first_response_due"] == "2025-06-17T10:00:00+08:00"
    assert data["explanation"].startswith("【售后规则 Q1】")


def test_enum_fields_accept_their_string_values(policy_order):
    order = replace(policy_order(), status="delivered", payment_method="cod", item_category="beauty")
    assert (order.status, order.payment_method, order.item_category) == (
        OrderStatus.DELIVERED,
        PaymentMethod.COD,
        ProductCategory.BEAUTY,
    )
    situation = Situation(category="quality", sub_issue="defect", also_mentioned=("safety",))
    assert situation.sub_issue is SubIssue.DEFECT and situation.also_mentioned == (SubIssue.SAFETY,)
    with pytest.raises(ValueError):
        replace(policy_order(), status="shipped")


# --- what the buyer is asked to pick, and what is recorded at once ----------------------------


def test_l4_checks_first_and_offers_nothing_to_pick_yet():
    from bot.policy import buyer_choices, settled_remedy

    remedies = (R.INVESTIGATE, R.RESHIP, R.REFUND_ONLY)
    assert buyer_choices("L4", remedies) == ()
    assert settled_remedy("L4", remedies) is R.INVESTIGATE
    # under L2 the buyer may pick at once; the check runs either way
    assert buyer_choices("L2", remedies) == (R.RESHIP, R.REFUND_ONLY)
    assert settled_remedy("L2", remedies) is None


def test_a_single_remedy_is_settled_without_asking():
    from bot.policy import settled_remedy

    assert settled_remedy("Q7", (R.RETURN_REFUND,)) is R.RETURN_REFUND
    assert settled_remedy("S1", (R.INVESTIGATE,)) is R.INVESTIGATE
    assert settled_remedy("Q1", (R.RETURN_REFUND, R.EXCHANGE)) is None
    assert settled_remedy("N3", (R.REJECT,)) is None
    assert settled_remedy("L1", (R.INFO,)) is None


def test_an_l7_refund_is_offered_never_imposed():
    from bot.policy import buyer_choices, settled_remedy

    assert buyer_choices("L7", (R.REFUND_ONLY,)) == (R.REFUND_ONLY,)
    assert settled_remedy("L7", (R.REFUND_ONLY,)) is None  # the buyer may keep waiting
