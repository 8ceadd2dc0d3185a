"""Must-pass classifications and entities on clear, hand-written messages (real model)."""

import pytest

pytestmark = pytest.mark.rasa

CLEAR_CASES = [
    ("耳机用了三天就一边没声音了，质量太差", "complain_quality"),
    ("手机屏幕有坏点，还老是自动重启", "complain_quality"),
    ("收到的面霜不是正品，防伪码查不到", "complain_quality"),
    ("充电宝充电的时候冒烟了，太危险了", "complain_quality"),
    ("快递一个星期了还没到", "complain_logistics"),
    ("显示已签收，可是我根本没收到包裹", "complain_logistics"),
    ("箱子都压扁了，里面的杯子碎了两个", "complain_logistics"),
    ("付款三天了还不发货", "complain_logistics"),
    ("客服态度太差了，问两句就不耐烦", "complain_service"),
    ("找客服两天了都没人回", "complain_service"),
    ("售后推来推去，谁都不管", "complain_service"),
    ("不是质量问题，就是不想要了，能退吗", "request_return"),
    ("我想退货", "request_return"),
    ("尺码大了，能换小一码吗", "request_exchange"),
    ("坏了能修吗，我要申请维修", "request_repair"),
    ("我的快递到哪了", "ask_order_status"),
    ("什么时候发货", "ask_order_status"),
    ("我的退款到哪一步了", "ask_ticket_status"),
    ("退货运费谁出", "ask_policy"),
    ("保修期多久", "ask_policy"),
    ("地址填错了，帮我改一下", "change_address"),
    ("转人工", "request_human"),
    ("订单号 1234 5678 9012 3456", "inform"),
    ("尾号5678", "inform"),
    ("你好", "greet"),
    ("再见", "goodbye"),
    ("谢谢", "thank"),
    ("好的", "affirm"),
    ("算了，不用了", "deny"),
    ("今天天气怎么样", "out_of_scope"),
]


def classifier_intent(result):
    ranking = [r for r in result["intent_ranking"] if r["name"] != "nlu_fallback"]
    return ranking[0]["name"]


@pytest.mark.parametrize("text, intent", CLEAR_CASES)
def test_clear_message_gets_its_intent(loaded_model, text, intent):
    assert classifier_intent(loaded_model.parse(text)) == intent


@pytest.mark.parametrize(
    "text, topic",
    [
        ("退货运费谁出", "return_shipping"),
        ("退款多久到账", "refund_time"),
        ("生鲜能退吗", "exempt_goods"),
    ],
)
def test_policy_question_gets_its_topic(loaded_model, text, topic):
    result = loaded_model.parse(text)
    assert result["response_selector"]["ask_policy"]["response"]["intent_response_key"] == f"ask_policy/{topic}"


def entities(result):
    return {(e["entity"], e["value"]) for e in result["entities"]}


def test_parse_returns_rule_entities_with_canonical_values(loaded_model):
    text = (
        "订单号：１２３４ ５６７８ ９０１２ ３４５６，尾号5678，买的AirPods没拆封，不是质量问题，就是不想要了，想退货"
    )
    result = loaded_model.parse(text)
    assert {
        ("order_number", "1234567890123456"),
        ("phone_last4", "5678"),
        ("product", "耳机"),
        ("item_condition", "unused"),
        ("sub_issue", "no_reason"),
        ("remedy", "return_refund"),
    } <= entities(result)
    assert ("sub_issue", "defect") not in entities(result)
    for entity in result["entities"]:
        assert entity["extractor"] == "AfterSalesEntityExtractor"
        assert 0 <= entity["start"] < entity["end"] <= len(text)


@pytest.mark.parametrize("text", ["？？？", "……", "🫠🫠"])
def test_message_without_words_goes_to_clarification(loaded_model, text):
    assert loaded_model.parse(text)["intent"]["name"] == "nlu_fallback"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("iPhone１５ Pro Max 屏幕闪屏了！！", "complain_quality"),
        ("[订单x]", "inform"),
        ("５６７８", "inform"),
    ],
)
def test_full_width_placeholders_and_terse_messages(loaded_model, text, intent):
    assert classifier_intent(loaded_model.parse(text)) == intent


def test_terse_where_is_it_is_about_the_delivery(loaded_model):
    # a status question or a delay complaint: both lead the dialogue to the order's tracking and L-rules
    assert classifier_intent(loaded_model.parse("还没到?")) in {"ask_order_status", "complain_logistics"}
