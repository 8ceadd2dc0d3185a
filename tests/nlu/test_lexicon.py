"""Sub-issue, remedy, item-condition, product and score extraction, including negation."""

import pytest

from bot.domain.vocabulary import Remedy, SubIssue
from bot.nlu.entities import extract_entities
from bot.nlu.lexicon import Lexicon, LexiconError


def values(text, entity):
    return [e.value for e in extract_entities(text) if e.entity == entity]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("手机屏幕碎了", SubIssue.DEFECT),
        ("耳机一边没声音", SubIssue.DEFECT),
        ("显示签收了但我没收到", SubIssue.NOT_RECEIVED),
        ("感觉不是正品", SubIssue.COUNTERFEIT),
        ("充电器冒烟了", SubIssue.SAFETY),
        ("手机不小心摔了", SubIssue.HUMAN_DAMAGE),
        ("尺码不合适", SubIssue.SIZE),
        ("就是不想要了", SubIssue.NO_REASON),
        ("车厘子烂了好几个", SubIssue.SPOILED),
        ("买的牛奶坏了", SubIssue.SPOILED),
        ("快递丢了", SubIssue.LOST),
        ("一直没到", SubIssue.DELAY),
        ("外箱破了", SubIssue.DAMAGED_IN_TRANSIT),
        ("压坏了", SubIssue.DAMAGED_IN_TRANSIT),
        ("还没发货", SubIssue.NOT_SHIPPED),
        ("想改地址", SubIssue.ADDRESS_CHANGE),
        ("客服态度差", SubIssue.RUDE),
        ("发消息没人回", SubIssue.NO_REPLY),
        ("推来推去的", SubIssue.SHIRKING),
        ("和描述不符", SubIssue.NOT_AS_DESCRIBED),
    ],
)
def test_sub_issue(text, expected):
    assert expected.value in values(text, "sub_issue")


def test_broken_electronics_is_a_defect_not_spoiled():
    assert values("电饭煲坏了", "sub_issue") == [SubIssue.DEFECT.value]


@pytest.mark.parametrize(
    "text, absent",
    [
        ("不是质量问题，就是不想要了", SubIssue.DEFECT),
        ("东西没坏，就是不喜欢", SubIssue.DEFECT),
        ("并不是什么质量问题", SubIssue.DEFECT),
        ("也不是假货", SubIssue.COUNTERFEIT),
        ("不是人为损坏", SubIssue.HUMAN_DAMAGE),
        ("没几天就坏了", None),
    ],
)
def test_negated_sub_issue_is_not_extracted(text, absent):
    found = values(text, "sub_issue")
    if absent is None:
        assert SubIssue.DEFECT.value in found  # "没几天" negates nothing
    else:
        assert absent.value not in found


def test_negation_with_stated_reason():
    assert values("不是质量问题，就是不想要了", "sub_issue") == [SubIssue.NO_REASON.value]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我要退货", Remedy.RETURN_REFUND),
        ("退货退款", Remedy.RETURN_REFUND),
        ("能换货吗", Remedy.EXCHANGE),
        ("换一个新的", Remedy.EXCHANGE),
        ("申请维修", Remedy.REPAIR),
        ("能修吗", Remedy.REPAIR),
        ("仅退款", Remedy.REFUND_ONLY),
        ("退款不退货", Remedy.REFUND_ONLY),
        ("快递丢了，补发一个吧", Remedy.RESHIP),
        ("没收到货，我要退款", Remedy.REFUND_ONLY),
        ("质量太差，我要退款", Remedy.RETURN_REFUND),
    ],
)
def test_remedy(text, expected):
    assert values(text, "remedy") == [expected.value]


def test_negated_remedy_is_dropped():
    assert values("不想退货了，换个新的吧", "remedy") == [Remedy.EXCHANGE.value]


def test_warranty_period_question_is_not_a_repair_request():
    assert values("保修期多久", "remedy") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("没拆封", "unused"),
        ("还没拆", "unused"),
        ("吊牌还在", "unused"),
        ("全新的没用过", "unused"),
        ("拆封了", "used"),
        ("已经激活了", "used"),
        ("吊牌剪了", "used"),
        ("用过两次", "used"),
    ],
)
def test_item_condition(text, expected):
    assert values(text, "item_condition") == [expected]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("买的蓝牙耳机", "耳机"),
        ("AirPods有杂音", "耳机"),
        ("ＡｉｒＰｏｄｓ", "耳机"),
        ("iPhone 15", "手机"),
        ("iPhone１５坏了", "手机"),
        ("mate60", "手机"),
        ("电饭煲", "电饭煲"),
        ("戴森吹风机", "吹风机"),
        ("羽绒服", "衣服"),
        ("车厘子", "水果"),
    ],
)
def test_product(text, expected):
    assert values(text, "product") == [expected]


def test_ascii_brand_inside_another_word_is_not_a_product():
    assert values("ultimate版", "product") == []


def test_phone_number_words_are_not_a_product():
    assert values("手机尾号1234", "product") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5分", "5"),
        ("五星好评", "5"),
        ("非常满意", "5"),
        ("一般", "3"),
        ("不满意", "2"),
        ("一星", "1"),
        ("非常不满意", "1"),
    ],
)
def test_satisfaction_score(text, expected):
    assert values(text, "satisfaction_score") == [expected]


def test_entity_offsets_point_into_the_original_text():
    text = "ＡｉｒＰｏｄｓ有杂音，想换货"
    for entity in extract_entities(text):
        assert text[entity.start : entity.end] == entity.text


def test_lexicon_rejects_unknown_product_category():
    with pytest.raises(LexiconError):
        Lexicon.from_mapping({"product": {"spaceships": [["飞船"]]}})


@pytest.mark.parametrize(
    "text",
    [
        "平板被我家狗狗啃了个角",
        "充电线被宝宝咬得露铜了，被宝宝咬断的",
        "女儿把台灯从书桌上碰掉了，灯罩碎了",
        "吹风机从洗手台上滑下去了，现在不转",
        "猫抓破了沙发套",
        "我一不小心踩到了眼镜，镜腿断了",
    ],
)
def test_damage_by_the_household_in_words_no_phrase_lists(text):
    assert SubIssue.HUMAN_DAMAGE.value in values(text, "sub_issue")


@pytest.mark.parametrize(
    "text",
    [
        "不是孩子把它摔坏的，拿到就这样",
        "我把盒子拆开一看就是坏的",
        "我把吊牌剪了",
        "从快递柜里拿出来就碎了",
    ],
)
def test_household_shapes_do_not_fire_on_unboxing_or_denial(text):
    assert SubIssue.HUMAN_DAMAGE.value not in values(text, "sub_issue")


@pytest.mark.parametrize("text", ["才穿了还不到两个礼拜鞋底就掉了", "没到一个月就开不了机"])
def test_a_length_of_time_is_not_a_parcel_that_has_not_arrived(text):
    assert SubIssue.DELAY.value not in values(text, "sub_issue")
    assert values("三天了还不到货", "sub_issue") == [SubIssue.DELAY.value]


def test_a_bad_pattern_is_a_lexicon_error():
    with pytest.raises(LexiconError):
        Lexicon.from_mapping({"patterns": {"sub_issue": {"human_damage": ["(unclosed"]}}})
    with pytest.raises(LexiconError):
        Lexicon.from_mapping({"patterns": {"colour": {"red": ["红"]}}})


def test_a_child_handling_it_roughly_at_some_length_is_household_damage():
    assert SubIssue.HUMAN_DAMAGE.value in values("小孩拿着台灯当玩具，两只手使劲往两边扳，灯杆就裂了", "sub_issue")


@pytest.mark.parametrize(
    "text",
    [
        "快递小哥送货的时候把箱子往地上一扔，烤箱门摔裂了",
        "配送员当面把纸箱砸在台阶上，回来一看台灯摔坏了",
        "物流把包裹丢在楼下淋了一晚上雨，打开全进水了",
    ],
)
def test_damage_the_carrier_did_is_transit_damage_not_the_buyers(text):
    found = values(text, "sub_issue")
    assert SubIssue.DAMAGED_IN_TRANSIT.value in found and SubIssue.HUMAN_DAMAGE.value not in found


@pytest.mark.parametrize(
    "text",
    [
        "快递到了以后我不小心把它摔地上了",
        "不是快递员摔的，是孩子把它摔坏的",
    ],
)
def test_the_household_still_owns_what_it_did_after_the_parcel_came(text):
    assert SubIssue.HUMAN_DAMAGE.value in values(text, "sub_issue")


@pytest.mark.parametrize("text", ["拆开发现纸箱塌了一块，杯子碎了", "外盒都湿透了，里面的书泡皱了"])
def test_a_parcel_that_came_damaged_is_told_by_its_box(text):
    assert SubIssue.DAMAGED_IN_TRANSIT.value in values(text, "sub_issue")


def test_a_spot_on_the_screen_is_a_fault_that_outranks_a_no_reason_question():
    from bot.nlu.entities import most_telling_sub_issue

    found = values("kindle屏幕上有一块亮斑 另外这个能不能无理由退啊", "sub_issue")
    assert most_telling_sub_issue(found) == SubIssue.DEFECT.value


@pytest.mark.parametrize(
    "text, value",
    [
        ("就试了一下，没穿出去过，吊牌还挂着呢", "unused"),
        ("只试穿了一下", "unused"),
        ("穿出去跑了两天", "used"),
    ],
)
def test_worn_or_not_in_a_buyers_own_words(text, value):
    assert values(text, "item_condition") == [value]


@pytest.mark.parametrize("text", ["跑鞋我想换个颜色，换成黑的行吗", "白色太容易脏，想换黑色，鞋没问题"])
def test_a_colour_wish_with_nothing_wrong_is_no_reason(text):
    assert values(text, "sub_issue") == [SubIssue.NO_REASON.value]
