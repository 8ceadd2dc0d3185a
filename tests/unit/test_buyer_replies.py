"""Reading a buyer's reply in its context: after a decision (bot/nlu/reaction.py) and as the
answer to a form question (bot/nlu/answers.py). Pure Python, no model."""

from __future__ import annotations

import pytest

from bot.nlu.answers import (
    condition_from_short_answer,
    problem_beside_a_question,
    problem_from_answer,
    remedy_choice_in,
    score_in_text,
)
from bot.nlu.answers import sub_issues_named_in_words
from bot.nlu.reaction import DecisionContext, Reaction, classify_reaction, looks_like_address

DECIDED = DecisionContext(decided_order="6201458839270153", decided_sub_issues=("no_reason",), leaves_work=False)


def react(text, intent="inform", *, orders=(), sub_issues=(), facts=(), context=DECIDED):
    return classify_reaction(
        text, intent=intent, order_numbers=orders, sub_issues=sub_issues, facts=facts, context=context
    )


@pytest.mark.parametrize(
    "text, intent",
    [
        ("不接受，东西都没拆过凭什么不能退", "request_return"),  # reads like a new return request
        ("这个处理我不同意", "inform"),
        ("收货还不到一年啊", "complain_logistics"),
        ("不要", "deny"),
    ],
)
def test_disagreement_with_the_decision_is_an_objection(text, intent):
    assert react(text, intent) is Reaction.OBJECTION


@pytest.mark.parametrize("text, intent", [("好的谢谢", "inform"), ("知道了", "affirm"), ("ok, thanks", "inform")])
def test_thanks_and_okay_acknowledge(text, intent):
    assert react(text, intent) is Reaction.ACKNOWLEDGEMENT


def test_asking_for_a_person_in_other_words_is_heard_after_a_decision():
    assert react("你们这个机器说了不算，给我找个真人聊", "complain_service") is Reaction.PERSON
    assert react("不用转人工了，谢谢", "thank") is Reaction.ACKNOWLEDGEMENT


def test_restating_a_fact_is_no_objection():
    # "已经用过了" often reads as "deny"; it confirms the facts the decision was made on
    assert react("已经用过了，拆开用了", "deny", facts=["item_condition"]) is Reaction.REMARK
    assert react("不要", "deny") is Reaction.OBJECTION


def test_another_order_number_is_a_correction_only_when_the_buyer_says_the_first_was_wrong():
    other = "3817702946615580"
    assert react(f"订单号发错了，应该是这个 {other}", orders=[other]) is Reaction.ORDER_CORRECTION
    assert react(f"还有一单 {other} 也有问题", orders=[other]) is Reaction.NEW_TASK
    assert react("6201458839270153", orders=["6201458839270153"]) is not Reaction.ORDER_CORRECTION


def test_a_new_problem_is_a_new_task_and_a_question_is_left_to_the_rules():
    assert react("另外屏幕也有划痕", "complain_quality", sub_issues=["defect"]) is Reaction.NEW_TASK
    assert react("退款几天到账", "ask_policy") is Reaction.OTHER
    assert react("我要转人工", "request_human") is Reaction.OTHER


def test_the_address_is_kept_without_what_comes_before_it():
    from bot.nlu.reaction import address_part

    assert (
        address_part("麻烦把地址改成：上海市浦东新区世纪大道100号8栋1201室。") == "上海市浦东新区世纪大道100号8栋1201室"
    )
    assert address_part("上海市浦东新区世纪大道100号") == "上海市浦东新区世纪大道100号"


def test_an_address_answers_an_address_change_only():
    address = "浙江省杭州市西湖区文三路100号3栋2单元501"
    assert looks_like_address(address)
    assert not looks_like_address("东西坏了")
    wants = DecisionContext(decided_order="7065291384470285", wants_address=True)
    assert react(address, context=wants) is Reaction.NEW_ADDRESS
    assert react(address) is Reaction.REMARK  # no address was asked for


def test_a_confident_reading_of_the_answer_itself_beats_the_case_category():
    answer = dict(intent="complain_quality", case_category="logistics")
    assert problem_from_answer("被套中间破了一块", intent_confidence=0.8, **answer) == "defect"
    assert problem_from_answer("被套中间破了一块", intent_confidence=0.3, **answer) == "delay"


@pytest.mark.parametrize(
    "text, intent, category, expected",
    [
        ("屏幕中间有一条绿线", "inform", "quality", "defect"),
        ("物流好几天都不动", "complain_logistics", None, "delay"),
        ("火星溅到衣服上烧了几处", "complain_logistics", "quality", "defect"),  # the question's context wins
        ("客服一直不理人", "complain_service", None, "slow"),
        ("不想要了", "request_return", None, "no_reason"),
    ],
)
def test_a_free_text_problem_is_read_in_the_context_of_the_case(text, intent, category, expected):
    assert problem_from_answer(text, intent=intent, case_category=category) == expected


@pytest.mark.parametrize("text, intent", [("你好", "greet"), ("嗯", "inform"), ("退货要几天", "ask_policy")])
def test_what_describes_no_problem_is_not_taken_for_one(text, intent):
    assert problem_from_answer(text, intent=intent, case_category="quality") is None


@pytest.mark.parametrize("text, score", [("5", 5), ("５", 5), ("5分", 5), ("五星", 5), ("1", 1), ("两分", 2)])
def test_a_typed_score_is_the_score_itself(text, score):
    assert score_in_text(text) == score


@pytest.mark.parametrize("text", ["6", "12", "很好", ""])
def test_anything_else_is_no_score(text):
    assert score_in_text(text) is None


REJECTED = DecisionContext(
    decided_order="6201458839270153", decided_sub_issues=("no_reason",), leaves_work=False, rejected=True
)


@pytest.mark.parametrize(
    "text, intent, sub_issues",
    [
        ("呵呵 坑人的店 什么售后", "complain_service", ["rude"]),
        ("破玩意儿 质量差成这样", "complain_quality", ["defect"]),
    ],
)
def test_displeasure_right_after_a_no_disputes_the_no(text, intent, sub_issues):
    from bot.nlu.upset import assess_mood

    displeased = assess_mood(text).score > 0
    assert (
        classify_reaction(text, intent=intent, sub_issues=sub_issues, context=REJECTED, displeased=displeased)
        is Reaction.OBJECTION
    )
    # the same words after a decision that was no "no" are a new problem, not an objection
    assert (
        classify_reaction(text, intent=intent, sub_issues=sub_issues, context=DECIDED, displeased=displeased)
        is Reaction.NEW_TASK
    )


def test_a_calm_new_problem_after_a_no_is_still_a_new_task():
    assert (
        classify_reaction(
            "另外还有个充电宝也充不进电", intent="complain_quality", sub_issues=["defect"], context=REJECTED
        )
        is Reaction.NEW_TASK
    )


@pytest.mark.parametrize("text", ["那就不麻烦您了", "算了算了", "行吧，我自己想办法修吧", "取消这个申请", "这事别管了"])
def test_withdrawals_in_words_no_list_holds(text):
    from bot.nlu.reaction import withdraws

    assert withdraws(text)


@pytest.mark.parametrize("text", ["你们不处理了吗", "怎么就算了？", "我要投诉你们", "算一下运费"])
def test_questions_and_complaints_are_no_withdrawal(text):
    from bot.nlu.reaction import withdraws

    assert not withdraws(text)


def test_after_a_no_a_remark_that_adds_no_facts_disputes_it():
    words = "一句话就把人打发了？四百块的东西你们就这么处理"
    assert classify_reaction(words, intent="inform", context=REJECTED) is Reaction.OBJECTION
    assert classify_reaction(words, intent="inform", context=DECIDED) is Reaction.REMARK
    assert classify_reaction("好的知道了", intent="affirm", context=REJECTED) is Reaction.ACKNOWLEDGEMENT
    assert (
        classify_reaction("已经用过了，拆开用了", intent="deny", facts=["item_condition"], context=REJECTED)
        is Reaction.REMARK
    )


@pytest.mark.parametrize("text", ["哎呀算了算了，来回寄太折腾", "不值当为这点事跑一趟", "never mind, not worth it"])
def test_giving_up_because_it_is_not_worth_the_trouble_withdraws(text):
    from bot.nlu.reaction import withdraws

    assert withdraws(text)


@pytest.mark.parametrize(
    "text, entities, problem",
    [
        (
            "9471 0382 6553 0918 被套上有个破洞 另外想问下退款多久能到",
            [{"entity": "order_number", "value": "9471038265530918"}, {"entity": "sub_issue", "value": "defect"}],
            "defect",
        ),
        (
            "衣服有个破洞，退款多久到账",
            [{"entity": "product", "value": "衣服"}, {"entity": "sub_issue", "value": "defect"}],
            "defect",
        ),
        (
            "如果收到的衣服有破洞能退吗",
            [{"entity": "product", "value": "衣服"}, {"entity": "sub_issue", "value": "defect"}],
            None,
        ),
        ("质量问题退货运费谁出", [{"entity": "sub_issue", "value": "defect"}], None),
        (
            "衣服不想要了能无理由退吗",
            [{"entity": "product", "value": "衣服"}, {"entity": "sub_issue", "value": "no_reason"}],
            None,
        ),
    ],
)
def test_a_problem_told_beside_a_policy_question_is_a_case_of_its_own(text, entities, problem):
    assert problem_beside_a_question(text, entities) == problem


# ---- the condition question is asked in the negative: "请问商品还没用过吗？" ----------------------


@pytest.mark.parametrize("typed", ["没", "没有", "没有。", "没呢", "还没有", "没没没", "没穿过", "嗯嗯", "对的", "是"])
def test_a_one_word_yes_to_still_unused_means_unused(typed):
    assert condition_from_short_answer(typed) == "unused"


@pytest.mark.parametrize("typed", ["用过", "用了", "已经用过了", "穿过了", "拆了", "不是"])
def test_a_one_word_answer_saying_it_was_used(typed):
    assert condition_from_short_answer(typed) == "used"


@pytest.mark.parametrize("typed", ["没坏", "没照片", "没问题", "是不是", "好", "没用过，就是盒子拆了", ""])
def test_other_words_are_left_to_the_lexicon_and_the_intent(typed):
    assert condition_from_short_answer(typed) is None


# ---- one complaint, two rules: the words that let the policy's precedence apply ------------------


@pytest.mark.parametrize(
    "text, named",
    [
        ("音箱上周从书架上掉下来过，今晚插着电冒出一股黑烟", {"human_damage", "safety"}),
        ("手机摔过一次，这两天充电的时候后盖胀起来了", {"safety"}),
        ("卫衣码数偏小，关键是帽子那里的缝线都开了", {"size", "defect"}),
        ("裤子有点紧也就算了，一拉就是一个大口子", {"size", "defect"}),
    ],
)
def test_a_hazard_or_a_fault_told_in_everyday_words_is_heard_beside_the_other_problem(text, named):
    assert named <= set(sub_issues_named_in_words(text))


def test_no_smoke_is_no_hazard():
    assert "safety" not in sub_issues_named_in_words("没冒烟，也没发烫，就是充不进电")


# ---- a remedy picked in words among the buttons -------------------------------------------------

LATE = ("reship", "refund_only")  # L2
IN_WEEK = ("return_refund", "exchange")  # Q1
SECOND_WEEK = ("exchange", "repair")  # Q2


@pytest.mark.parametrize(
    "text, offered, picked",
    [
        ("唉还是把钱退我吧", LATE, "refund_only"),  # "退钱" under L2: nothing can come back
        ("重新寄一份要等太久了，算了，还是退款吧", LATE, "refund_only"),  # the reship named first is dropped
        ("不用补发了，退款", LATE, "refund_only"),
        ("行，那就换货吧，换回来的邮费也是你们出吧？", IN_WEEK, "exchange"),  # a pick and a question
        ("换新的话还得寄回去，麻烦，干脆帮我修吧", SECOND_WEEK, "repair"),
        ("就退货吧", IN_WEEK, "return_refund"),
    ],
)
def test_a_remedy_typed_with_other_words_is_read_against_the_offered_ones(text, offered, picked):
    assert remedy_choice_in(text, offered) == picked


@pytest.mark.parametrize(
    "text, offered",
    [
        ("退款要多久才到？", LATE),  # a question about a remedy picks nothing
        ("换货的话运费谁出", IN_WEEK),
        ("换货吧，不过退款也行", IN_WEEK),  # two, none said as the pick
        ("修一下要多少钱", IN_WEEK),  # not offered
        ('/inform{"remedy":"exchange"}', IN_WEEK),  # a button is read by the rules
    ],
)
def test_no_clear_pick_is_left_to_the_rules(text, offered):
    assert remedy_choice_in(text, offered) is None


@pytest.mark.parametrize(
    "text",
    ["快递显示驿站代收，我去驿站问，老板说压根没见过这个包裹", "物流写着物业代签了，物业翻了登记本说根本没收过"],
)
def test_the_place_that_signed_saying_it_never_had_the_parcel_is_not_received(text):
    """Said of a front desk or a door guard, these are no complaint about the shop's service."""
    assert sub_issues_named_in_words(text) == ["not_received"]
