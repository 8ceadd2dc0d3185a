"""The after-decision policy picks the action for the message that follows a decision."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_policies.after_decision_policy import action_for
from tests.conftest import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
ORDER = "8150263749901576"


def after(decision, text, intent, *, entities=(), awaiting="decision_feedback", **slots):
    events = [
        ActionExecuted("action_listen"),
        SlotSet("last_decision", decision),
        SlotSet("awaiting_reply", awaiting),
        *[SlotSet(name, value) for name, value in slots.items()],
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": intent, "confidence": 0.9}, list(entities)),
    ]
    return action_for(DialogueStateTracker.from_events("buyer", events, DOMAIN.slots))


REJECTED = {"rule": "N2", "order": ORDER, "sub_issues": ["no_reason"], "ticket": None, "wants_address": False}
ON_A_TICKET = {
    "rule": "Q1",
    "order": ORDER,
    "sub_issues": ["defect"],
    "ticket": "AS202612070001",
    "wants_address": False,
}


def test_a_typed_objection_goes_to_a_person_whatever_its_intent():
    assert after(REJECTED, "不接受，东西都没拆过凭什么不能退", "request_return") == "action_handoff"


def test_thanks_ends_the_case_but_okay_while_choosing_picks_the_first_remedy():
    assert after(ON_A_TICKET, "好的谢谢", "inform") == "action_acknowledge_decision"
    assert after(ON_A_TICKET, "好的", "affirm", awaiting="remedy_choice") is None  # the rules pick


def test_a_new_problem_or_order_starts_a_task_and_questions_are_left_to_the_rules():
    new_problem = [{"entity": "sub_issue", "value": "lost", "start": 0, "end": 2}]
    assert after(ON_A_TICKET, "另外一单丢件了", "complain_logistics", entities=new_problem) == "action_start_task"
    assert after(ON_A_TICKET, "退款几天到账", "ask_policy") is None
    assert after(ON_A_TICKET, "转人工", "request_human") is None


def test_photos_for_the_ticket_are_left_to_the_rules():
    assert after(ON_A_TICKET, "照片", "inform", files_went_to_ticket=True) is None


def test_the_address_an_address_change_asked_for_is_taken():
    wants = {**REJECTED, "rule": "L6", "wants_address": True}
    assert after(wants, "上海市浦东新区世纪大道100号8栋1201室", "inform") == "action_take_new_address"


def test_no_decision_no_reading():
    assert after(None, "不接受", "deny", awaiting=None) is None


@pytest.mark.parametrize("action", ["action_acknowledge_decision", "action_take_new_address", "action_add_remark"])
def test_after_its_own_answer_the_assistant_listens(action):
    events = [ActionExecuted("action_listen"), UserUttered("好的", {"name": "thank"}), ActionExecuted(action)]
    assert action_for(DialogueStateTracker.from_events("buyer", events, DOMAIN.slots)) == "action_listen"


def test_after_asking_whether_the_order_is_right_a_number_corrects_it_and_yes_confirms_it():
    asked = {
        "rule": None,
        "order": ORDER,
        "sub_issues": ["defect"],
        "ticket": None,
        "wants_address": False,
        "expects_order_correction": True,
    }
    number = [{"entity": "order_number", "value": "6201458839270153", "start": 0, "end": 16}]
    assert after(asked, "6201458839270153", "inform", entities=number) == "action_start_task"
    assert after(asked, "对，就是这单", "affirm") == "action_confirm_order"


def test_dropping_the_request_mid_form_cancels_whatever_the_intent_reads():
    from rasa.shared.core.events import ActiveLoop

    from bot.rasa_policies.withdrawal_policy import buyer_withdraws_mid_task

    def mid_form(text, intent, entities=()):
        events = [
            ActionExecuted("action_listen"),
            ActiveLoop("case_form"),
            ActionExecuted("action_listen"),
            UserUttered(text, {"name": intent, "confidence": 0.9}, list(entities)),
        ]
        return DialogueStateTracker.from_events("buyer", events, DOMAIN.slots)

    assert buyer_withdraws_mid_task(mid_form("那不用弄了哈，打扰了", "request_return"))
    exchange = [{"entity": "remedy", "value": "exchange", "start": 4, "end": 6}]
    assert not buyer_withdraws_mid_task(mid_form("不退了，换货吧", "request_exchange", exchange))
    assert not buyer_withdraws_mid_task(mid_form("屏幕有条线", "complain_quality"))


LATE_PARCEL = {
    "rule": "L2",
    "order": ORDER,
    "sub_issues": ["delay"],
    "ticket": "AS202612070002",
    "wants_address": False,
}


def test_a_remedy_picked_in_words_is_the_pick_whatever_else_the_message_reads_like():
    """ "这东西不要了" names a no-reason return and the intent reads a return request: while the
    buttons are shown the words pick 仅退款, they start no second case."""
    no_reason = [{"entity": "sub_issue", "value": "no_reason", "start": 18, "end": 21}]
    choosing = dict(awaiting="remedy_choice", offered_remedies=["reship", "refund_only"])
    text = "补发又要等好久，还是把钱退我吧，这东西不要了"
    assert after(LATE_PARCEL, text, "request_return", entities=no_reason, **choosing) == "action_choose_remedy"
    asked = "行，那就补发吧，大概几天能到？"
    assert after(LATE_PARCEL, asked, "ask_policy", **choosing) == "action_choose_remedy"  # the question comes too
    assert after(LATE_PARCEL, "补发要几天能到？", "ask_policy", **choosing) is None  # a question only
    assert after(LATE_PARCEL, "还是退款吧，给我转人工", "inform", **choosing) == "action_handoff"


def test_after_recording_a_pick_the_assistant_listens():
    events = [ActionExecuted("action_listen"), UserUttered("还是退款吧", {"name": "ask_policy"})]
    events.append(ActionExecuted("action_choose_remedy"))
    assert action_for(DialogueStateTracker.from_events("buyer", events, DOMAIN.slots)) == "action_listen"
