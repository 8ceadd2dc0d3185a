"""Order numbers, ticket numbers and phone suffixes, extracted without a model."""

import pytest

from bot.nlu.identifiers import extract_identifiers, order_numbers

ORDER = "1234567890123456"


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123456",
        "订单号：1234567890123456",
        "订单号:1234567890123456。",
        "单号 1234 5678 9012 3456 麻烦查下",
        "1234-5678-9012-3456",
        "１２３４５６７８９０１２３４５６",
        "１２３４ ５６７８ ９０１２ ３４５６",
        "我的订单1234567890123456还没到",
        "你好，订单号【1234567890123456】，帮我看看",
        "iPhone订单1234567890123456坏了",
        "order 1234567890123456",
        "12345678 90123456",
    ],
)
def test_order_number_in_many_formats(text):
    assert order_numbers(text) == [ORDER]


def test_order_number_offsets_point_into_the_original_text():
    text = "单号：１２３４ ５６７８ ９０１２ ３４５６！"
    [found] = [i for i in extract_identifiers(text) if i.entity == "order_number"]
    assert found.value == ORDER
    assert text[found.start : found.end] == "１２３４ ５６７８ ９０１２ ３４５６"


@pytest.mark.parametrize("text", ["12345678901234567890", "123456789012345", "买了1234个", "[订单x]", "还没到？"])
def test_no_order_number_from_longer_or_shorter_numbers(text):
    assert order_numbers(text) == []


def test_order_number_pattern_is_configurable():
    assert order_numbers("订单 SO-20261121-0042", pattern=r"SO\d{12}") == ["SO202611210042"]
    assert order_numbers("订单 1234567890123456", pattern=r"\d{12}") == []


def test_bad_pattern_gives_a_clear_error():
    with pytest.raises(ValueError, match="正则"):
        order_numbers("1234", pattern="(")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("尾号1234", "1234"),
        ("手机尾号是 5678", "5678"),
        ("后四位是 5678", "5678"),
        ("后4位：０９８７", "0987"),
        ("5678", "5678"),
        ("５６７８", "5678"),
        (" 4321。", "4321"),
        ("手机13812345678", "5678"),
        ("1234567890123456 5678", "5678"),
        ("订单号1234567890123456，尾号5678", "5678"),
    ],
)
def test_phone_last4(text, expected):
    phones = [i.value for i in extract_identifiers(text) if i.entity == "phone_last4"]
    assert phones == [expected]


@pytest.mark.parametrize("text", ["2023年买的", "花了1299元", "买了1234个", "我等了1234天", "订单号1234567890123456"])
def test_no_phone_from_dates_prices_or_order_numbers(text):
    assert [i for i in extract_identifiers(text) if i.entity == "phone_last4"] == []


@pytest.mark.parametrize(
    "text", ["工单AS202611210001进度", "as 2026 1121 0001", "售后单号：ＡＳ２０２６１１２１０００１"]
)
def test_ticket_number(text):
    tickets = [i.value for i in extract_identifiers(text) if i.entity == "ticket_number"]
    assert tickets == ["AS202611210001"]
    assert order_numbers(text) == []


def test_generated_order_number_benchmark_meets_target():
    from benchmarks.nlu import order_number_exact_match

    rate, count, failures = order_number_exact_match()
    assert count >= 500
    assert rate >= 0.99, failures[:5]


def test_the_most_telling_problem_wins_when_a_message_names_several():
    from bot.nlu.entities import extract_entities

    def sub_issues(text):
        return [e.value for e in extract_entities(text) if e.entity == "sub_issue"]

    assert sub_issues("电饭煲今天到的，外箱压扁了，锅都变形了") == ["damaged_in_transit"]
    assert sub_issues("充电宝坏了，还冒烟了") == ["safety"]
    assert sub_issues("耳机坏了") == ["defect"]


@pytest.mark.parametrize(
    "text, last4", [("尾号六七一二", "6712"), ("手机尾号是幺三八零", "1380"), ("后四位：零零九五", "0095")]
)
def test_phone_digits_spelled_out_one_by_one_are_read(text, last4):
    found = [(i.entity, i.value, text[i.start : i.end]) for i in extract_identifiers(text)]
    assert found == [("phone_last4", last4, text[-4:])]


@pytest.mark.parametrize("text", ["一一得一，二二得四", "他说三四天就到", "十二三块钱"])
def test_number_words_in_a_sentence_are_no_identifier(text):
    assert extract_identifiers(text) == []


@pytest.mark.parametrize("text", ["订单号94710382655309O8", "9471 0382 6553 O918", "947l038265530918"])
def test_a_letter_that_looks_like_a_digit_among_digits_is_that_digit(text):
    assert order_numbers(text) == [text.replace("订单号", "").replace(" ", "").translate(str.maketrans("Ol", "01"))]


def test_letters_beside_digits_that_are_words_stay_letters():
    assert extract_identifiers("型号O2 pro") == [] and order_numbers("AS202612070001") == []
