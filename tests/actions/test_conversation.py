"""Policy questions, goodbyes and the satisfaction score."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.conversation import ActionAnswerPolicyQuestion, ActionRecordSatisfaction, ActionSayGoodbye
from bot.db.tables import SatisfactionScore
from tests.actions.conftest import OWN_ORDER, OWN_ORDER_PHONE_LAST4, template_values, tickets_of
from tests.actions.flows import decided_quality_case

pytestmark = pytest.mark.usefixtures("database_url")


def selected(topic: str, confidence: float = 0.93):
    """parse_data["response_selector"] as Rasa's ResponseSelector writes it for ask_policy."""
    key = f"ask_policy/{topic}"
    response = {
        "id": 1,
        "responses": [{"text": "…"}],
        "confidence": confidence,
        "intent_response_key": key,
        "utter_action": f"utter_{key}",
    }
    return {
        "all_retrieval_intents": ["ask_policy"],
        "ask_policy": {
            "response": response,
            "ranking": [{"id": 1, "confidence": confidence, "intent_response_key": key}],
        },
    }


@pytest.mark.parametrize(
    "question, topic, values",
    [
        ("几天可以无理由退货？", "return_window", {"no_reason_days": 7}),
        ("退款多久到账", "refund_time", {"online_refund_days": 3, "cod_refund_days": 7}),
        ("保修多久", "warranty", {}),
        ("哪些东西不能退", "exempt_goods", {}),
        ("什么算质量问题", "quality_problem", {"quality_return_days": 7, "quality_exchange_days": 15}),
    ],
)
def test_a_policy_question_is_answered_from_the_shop_policy(conversation, question, topic, values):
    chat = conversation()
    chat.user(question, "ask_policy", response_selector=selected(topic))
    turn = chat.run(ActionAnswerPolicyQuestion())
    assert turn.responses == [f"utter_ask_policy/{topic}"]
    assert turn.events == []
    given = template_values(turn.messages[0])
    for name, value in values.items():
        assert given[name] == value
    if topic == "warranty":
        assert "数码产品365天" in given["warranty_summary"]
    if topic == "exempt_goods":
        assert set(given["exempt_summary"].split("、")) == {"生鲜", "定制商品"}


def test_asking_where_else_to_complain_states_rule_s3_and_records_it(conversation, db):
    from bot.services import cases

    chat = conversation()
    chat.user("除了这里还能去哪投诉", "ask_policy", response_selector=selected("complaint_channel"))
    turn = chat.run(ActionAnswerPolicyQuestion())
    assert turn.responses == ["utter_ask_policy/complaint_channel"]
    assert "12315" in template_values(turn.messages[0])["complaint_channels"]
    with db() as session:
        record = cases.latest_decision(session, chat.sender_id)
        assert (record.rule_id, record.category, record.ticket_id) == ("S3", "service", None)
        assert tickets_of(session, chat.sender_id) == []


@pytest.mark.parametrize("selector", [None, selected("lottery_numbers")])
def test_a_policy_question_without_a_known_answer_asks_again(conversation, selector):
    chat = conversation()
    chat.user("你们老板是谁", "ask_policy", response_selector=selector)
    assert chat.run(ActionAnswerPolicyQuestion()).responses == ["utter_clarify"]


def test_goodbye_without_a_ticket_just_says_goodbye(conversation):
    chat = conversation()
    chat.user("拜拜", "goodbye")
    turn = chat.run(ActionSayGoodbye())
    assert turn.responses == ["utter_goodbye"]
    assert turn.slots_set() == {"awaiting_reply": None}


def rated_chat(conversation):
    chat = conversation()
    decided_quality_case(chat, OWN_ORDER, OWN_ORDER_PHONE_LAST4)
    chat.user("好的", "affirm")
    chat.slots(awaiting_reply=None)
    chat.user("谢谢，再见", "goodbye")
    asked = chat.run(ActionSayGoodbye())
    assert asked.responses == ["utter_ask_satisfaction"]
    assert asked.slots_set() == {"awaiting_reply": "satisfaction"}
    return chat


def scores(db, chat):
    with db() as session:
        [ticket] = tickets_of(session, chat.sender_id)
        return [
            (row.score, row.conversation_id)
            for row in session.execute(
                select(SatisfactionScore).where(SatisfactionScore.ticket_id == ticket.id)
            ).scalars()
        ]


def test_a_score_out_of_range_is_asked_again_and_a_good_one_stored(conversation, db):
    chat = rated_chat(conversation)

    chat.user(
        "7", "inform", entities=[{"entity": "satisfaction_score", "value": "7"}], slots={"satisfaction_score": "7"}
    )
    refused = chat.run(ActionRecordSatisfaction())
    assert refused.responses == ["utter_ask_satisfaction"]
    assert refused.slots_set() == {"awaiting_reply": "satisfaction", "satisfaction_score": None}
    assert scores(db, chat) == []

    chat.user(
        "4分吧", "inform", entities=[{"entity": "satisfaction_score", "value": "4"}], slots={"satisfaction_score": "4"}
    )
    stored = chat.run(ActionRecordSatisfaction())
    assert stored.responses == ["utter_thanks_for_score", "utter_goodbye"]
    assert stored.slots_set() == {"awaiting_reply": None, "satisfaction_score": None}
    assert scores(db, chat) == [(4, chat.sender_id)]

    chat.user("再见", "goodbye")
    assert chat.run(ActionSayGoodbye()).responses == ["utter_goodbye"]  # rated already: no second question


@pytest.mark.parametrize("said", [None, "很好", "0", "-3"])
def test_no_usable_score_is_asked_again(conversation, db, said):
    chat = rated_chat(conversation)
    chat.user(said or "嗯", "inform", slots={"satisfaction_score": said} if said else None)
    turn = chat.run(ActionRecordSatisfaction())
    assert turn.responses == ["utter_ask_satisfaction"]
    assert scores(db, chat) == []


def test_saying_goodbye_while_the_score_is_asked_ends_politely(conversation, db):
    chat = rated_chat(conversation)
    chat.user("不打了，再见", "goodbye")
    turn = chat.run(ActionSayGoodbye())
    assert turn.responses == ["utter_goodbye"]
    assert turn.slots_set() == {"awaiting_reply": None}
    assert scores(db, chat) == []
