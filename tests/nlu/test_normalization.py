from bot.nlu.normalization import normalize_for_classifier, normalize_width


def test_full_width_to_half_width_keeps_length():
    normalized = normalize_width("订单号：１２３４ＡＢ")
    assert normalized.text == "订单号:1234AB"
    assert len(normalized.text) == len(normalized.original)


def test_classifier_text_shapes_digits_placeholders_and_emoji():
    normalized = normalize_for_classifier("[数字x]天无理由😡ＯＫ！！！！！")
    assert normalized.text == "9天无理由生气ok!!!"


def test_placeholder_maps_back_to_its_whole_span():
    original = "订单[订单x]到哪了"
    normalized = normalize_for_classifier(original)
    start = normalized.text.index("9")
    end = start + 16
    assert normalized.span_in_original(start, end) == (2, 7)


def test_unknown_placeholder_keeps_its_kind_word():
    assert normalize_for_classifier("[站点x]").text == "站点"
