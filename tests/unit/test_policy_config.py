"""The policy file: the defaults match the specification, edits change decisions without code,
and broken files are refused with a Chinese message naming the bad key."""

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.domain.vocabulary import PaymentMethod, Priority, ProductCategory, SubIssue
from bot.policy import PolicyConfigError, Situation, decide, load_policy
from tests.unit.conftest import POLICY_NOW, POLICY_TODAY, SHOP_POLICY_FILE


def edited_policy(tmp_path: Path, edit) -> Path:
    """A copy of shop/policy.yml with `edit(data)` applied."""
    data = yaml.safe_load(SHOP_POLICY_FILE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def text_edited_policy(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of shop/policy.yml with one line of text replaced (keeps comments, like a person would)."""
    text = SHOP_POLICY_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def rejection(path: Path) -> str:
    with pytest.raises(PolicyConfigError) as caught:
        load_policy(path)
    return str(caught.value)


# --- the shipped defaults ------------------------------------------------------------------


def test_shop_policy_has_the_specified_defaults(shop_policy):
    assert shop_policy.no_reason_window_days == 7
    assert shop_policy.quality_return_window_days == 7
    assert shop_policy.quality_exchange_window_days == 15
    assert {c.value: d for c, d in shop_policy.warranty_days.items()} == {
        "digital": 365,
        "appliance": 730,
        "apparel": 30,
        "beauty": 30,
        "fresh": 3,
        "custom": 30,
        "other": 90,
    }
    assert shop_policy.repairable_categories == {ProductCategory.DIGITAL, ProductCategory.APPLIANCE}
    assert shop_policy.no_reason_exempt_categories == {ProductCategory.FRESH, ProductCategory.CUSTOM}
    assert shop_policy.promised_delivery_days_cross_border == 15
    assert shop_policy.promised_delivery_days_domestic == 3
    assert shop_policy.ship_within_hours == 48
    assert shop_policy.refund_working_days == {PaymentMethod.ONLINE: 3, PaymentMethod.COD: 7}
    assert (shop_policy.first_response_hours, shop_policy.resolution_days, shop_policy.return_processing_hours) == (
        24,
        7,
        72,
    )
    assert shop_policy.high_value_threshold_cny == 2000
    assert shop_policy.urgent_rules == {"Q7", "Q8", "S2"}
    assert shop_policy.high_rules == {"S1", "L3", "L4"}
    assert any("12315" in channel for channel in shop_policy.complaint_channels)


def test_default_path_comes_from_settings():
    assert load_policy() == load_policy(SHOP_POLICY_FILE)


# --- edits change decisions ----------------------------------------------------------------


def decide_with(path: Path, order, situation):
    return decide(order, situation, POLICY_TODAY, load_policy(path), now=POLICY_NOW)


def test_longer_no_reason_window_changes_the_decision(tmp_path, shop_policy, policy_order):
    order = policy_order(ProductCategory.DIGITAL, delivered=9)
    situation = Situation.from_sub_issue(SubIssue.NO_REASON, item_unused=True)
    assert decide(order, situation, POLICY_TODAY, shop_policy, now=POLICY_NOW).rule_id == "N3"
    path = text_edited_policy(tmp_path, "window_days: 7", "window_days: 10")
    assert decide_with(path, order, situation).rule_id == "N1"


def test_longer_warranty_changes_the_decision(tmp_path, policy_order):
    path = edited_policy(tmp_path, lambda d: d["warranty_days"].update(digital=400))
    decision = decide_with(
        path,
        policy_order(ProductCategory.DIGITAL, delivered=380),
        Situation.from_sub_issue(SubIssue.DEFECT, evidence_given=True),
    )
    assert decision.rule_id == "Q3"


def test_making_a_category_repairable_adds_repair(tmp_path, policy_order):
    path = edited_policy(tmp_path, lambda d: d["repairable_categories"].append("apparel"))
    decision = decide_with(
        path,
        policy_order(ProductCategory.APPAREL, delivered=20),
        Situation.from_sub_issue(SubIssue.DEFECT, evidence_given=True),
    )
    assert decision.rule_id == "Q3"


def test_refund_working_days_and_threshold_are_editable(tmp_path, policy_order):
    def edit(data):
        data["refund_working_days"]["online"] = 5
        data["priority"]["high_value_threshold_cny"] = 400

    path = edited_policy(tmp_path, edit)
    order = policy_order(ProductCategory.DIGITAL, delivered=None, shipped=6, status="lost", total=450)
    decision = decide_with(path, order, Situation.from_sub_issue(SubIssue.LOST))
    assert decision.refund_working_days == 5
    assert decision.refund_due == POLICY_TODAY + timedelta(days=7)  # Mon + 5 working days
    situation = Situation.from_sub_issue(SubIssue.DEFECT, evidence_given=True)
    assert decide_with(path, policy_order(ProductCategory.DIGITAL, total=450), situation).priority is Priority.HIGH


def test_shipping_hours_and_promise_are_editable(tmp_path, policy_order):
    def edit(data):
        data["logistics"]["ship_within_hours"] = 72
        data["logistics"]["promised_delivery_days"]["domestic"] = 5

    path = edited_policy(tmp_path, edit)
    not_shipped = policy_order(ProductCategory.OTHER, delivered=None, shipped=None, paid=3)
    assert decide_with(path, not_shipped, Situation.from_sub_issue(SubIssue.NOT_SHIPPED)).rule_id == "L1"
    in_transit = policy_order(ProductCategory.OTHER, delivered=None, shipped=5)
    assert decide_with(path, in_transit, Situation.from_sub_issue(SubIssue.DELAY)).rule_id == "L1"


def test_complaint_channels_are_editable(tmp_path, policy_order):
    path = edited_policy(tmp_path, lambda d: d["service"].update(complaint_channels=["本店投诉邮箱 help@example.com"]))
    decision = decide_with(path, policy_order(), Situation.from_sub_issue(SubIssue.WHERE_TO_COMPLAIN))
    assert "help@example.com" in decision.explanation


def test_warranty_start_is_editable(tmp_path, policy_order):
    path = edited_policy(tmp_path, lambda d: d["warranty_start"].update(cross_border="delivered"))
    order = policy_order(ProductCategory.DIGITAL, shipped=370, delivered=358, cross_border=True)
    decision = decide_with(path, order, Situation.from_sub_issue(SubIssue.DEFECT, evidence_given=True))
    assert decision.rule_id == "Q3"


# --- broken files are refused ---------------------------------------------------------------

BROKEN_EDITS = [
    ("  digital: 365", '  digital: "abc"', "warranty_days.digital"),
    ("  apparel: 30\n", "  apparel: -30\n", "warranty_days.apparel"),
    ("  digital: 365", "  digital: 365.5", "warranty_days.digital"),
    ("  online: 3 ", "  online: true ", "refund_working_days.online"),
    ("  digital: 365\n", "  digital: 365\n  toys: 90\n", "warranty_days.toys"),
    ("  other: 90\n", "", "warranty_days.other"),
    (
        "exempt_categories: [fresh, custom]",
        "exempt_categories: [fresh, custm]",
        "no_reason_return.exempt_categories[1]",
    ),
    ("exempt_categories: [fresh, custom]", "exempt_categories: fresh", "no_reason_return.exempt_categories"),
    (
        "repairable_categories: [digital, appliance]",
        "repairable_categories: [digital, phone]",
        "repairable_categories[1]",
    ),
    ("urgent_rules: [Q7, Q8, S2]", "urgent_rules: [Q7, Q10, S2]", "priority.urgent_rules[1]"),
    ("  return_window_days: 7", "  retrun_window_days: 7", "quality.retrun_window_days"),
    ("  cross_border: shipped", "  cross_border: paid", "warranty_start.cross_border"),
    ("  high_value_threshold_cny: 2000", "  high_value_threshold_cny: -1", "priority.high_value_threshold_cny"),
    ("  first_response_hours: 24 ", "  first_response_hours: 二十四 ", "deadlines.first_response_hours"),
    ("    other: 未开封、包装完好\n", "", "no_reason_return.conditions.other"),
    (
        "    digital: 未拆封、未激活\n",
        "    digital: 未拆封、未激活\n    fresh: 未拆封\n",
        "no_reason_return.conditions.fresh",
    ),
    ("  exchange_window_days: 15", "  exchange_window_days: 5", "quality.exchange_window_days"),
    ("  urgent_contact_number: 3", "  urgent_contact_number: 0", "service.urgent_contact_number"),
]


@pytest.mark.parametrize("old, new, key_path", BROKEN_EDITS, ids=[key_path for _, _, key_path in BROKEN_EDITS])
def test_broken_values_are_refused_naming_the_key(tmp_path, old, new, key_path):
    message = rejection(text_edited_policy(tmp_path, old, new))
    assert message.startswith(f"{tmp_path / 'policy.yml'}: {key_path} ")


def test_message_shows_the_bad_value_in_chinese(tmp_path):
    message = rejection(text_edited_policy(tmp_path, "  digital: 365", '  digital: "abc"'))
    assert message.endswith('warranty_days.digital 必须是非负整数，实际是 "abc"')


def test_missing_section_is_named(tmp_path):
    message = rejection(edited_policy(tmp_path, lambda d: d.pop("deadlines")))
    assert "deadlines" in message and "缺失" in message


def test_unknown_top_level_key_is_refused(tmp_path):
    message = rejection(edited_policy(tmp_path, lambda d: d.update(warrenty_days={})))
    assert "warrenty_days" in message and "未知" in message


def test_empty_channel_list_is_refused(tmp_path):
    message = rejection(edited_policy(tmp_path, lambda d: d["service"].update(complaint_channels=[])))
    assert "service.complaint_channels" in message


def test_duplicate_key_is_refused(tmp_path):
    message = rejection(text_edited_policy(tmp_path, "  digital: 365\n", "  digital: 365\n  digital: 400\n"))
    assert "digital" in message and "两次" in message


def test_invalid_yaml_names_the_line(tmp_path):
    message = rejection(text_edited_policy(tmp_path, "  digital: 365", "  digital: [365"))
    assert "YAML" in message and "行" in message


def test_empty_and_missing_files_are_refused(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    assert "映射" in rejection(empty)
    assert "找不到" in rejection(tmp_path / "absent.yml")


# --- office hours (handoff.office_hours) -----------------------------------------------------


def test_office_hours_are_read_in_the_shop_time_zone(shop_policy):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    hours = shop_policy.office_hours
    assert hours.describe() == "每天 09:00–21:00"
    shanghai = ZoneInfo("Asia/Shanghai")
    # 2026-12-07 00:59 UTC is 08:59 in Shanghai (closed), 01:00 UTC is 09:00 (open)
    assert not hours.is_open(datetime(2026, 12, 7, 0, 59, tzinfo=timezone.utc), shanghai)
    assert hours.is_open(datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc), shanghai)
    assert hours.is_open(datetime(2026, 12, 7, 12, 59, tzinfo=timezone.utc), shanghai)  # 20:59
    assert not hours.is_open(datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc), shanghai)  # 21:00


def test_office_hours_on_some_days_only(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def weekdays(data):
        data["handoff"]["office_hours"] = {"days": [1, 2, 3, 4, 5], "open": "09:30", "close": "18:00"}

    hours = load_policy(edited_policy(tmp_path, weekdays)).office_hours
    assert hours.describe() == "周一至周五 09:30–18:00"
    shanghai = ZoneInfo("Asia/Shanghai")
    assert hours.is_open(datetime(2026, 12, 7, 10, 0, tzinfo=shanghai), shanghai)  # a Monday
    assert not hours.is_open(datetime(2026, 12, 6, 10, 0, tzinfo=shanghai), shanghai)  # a Sunday
    assert not hours.is_open(datetime(2026, 12, 7, 9, 29, tzinfo=shanghai), shanghai)


def test_broken_office_hours_are_refused_with_the_key(tmp_path):
    unquoted = text_edited_policy(tmp_path, 'open: "09:00"', "open: 9:30")  # YAML 1.1 reads 570
    assert "handoff.office_hours.open" in rejection(unquoted) and "加引号" in rejection(unquoted)
    backwards = text_edited_policy(tmp_path, 'close: "21:00"', 'close: "08:00"')
    assert "handoff.office_hours.close" in rejection(backwards) and "必须晚于 open" in rejection(backwards)
    bad_day = text_edited_policy(tmp_path, "days: [1, 2, 3, 4, 5, 6, 7]", "days: [0, 1]")
    assert "handoff.office_hours.days[0]" in rejection(bad_day)
    no_days = text_edited_policy(tmp_path, "days: [1, 2, 3, 4, 5, 6, 7]", "days: []")
    assert "handoff.office_hours.days" in rejection(no_days)
