"""A generated, seeded set of buyer messages that each carry one order number (or none),
in the formats buyers paste: labelled, bare, spaced, dashed, full-width, mid-sentence, next to
a phone suffix or a date."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Optional

SEED = 7
FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")

TEMPLATES = [
    "{n}",
    "订单号：{n}",
    "订单号:{n}",
    "订单号 {n}",
    "单号{n}",
    "我的订单号是{n}，帮我查一下",
    "订单{n}还没发货",
    "麻烦查下{n}这个单",
    "{n} 这个订单到哪了",
    "订单编号：{n}。谢谢",
    "你好，订单号{n}，手机尾号{p}",
    "{n}，尾号{p}",
    "单号是 {n} 麻烦了",
    "这是我的订单号【{n}】",
    "订单号为{n}的耳机坏了",
    "我买的电饭煲 订单{n} 想退货",
    "上周买的，订单号（{n}）",
    "订单号{n}，{d}签收的",
    "{n}\n尾号{p}",
    "就是这个：{n}!",
    "查一下订单 #{n}",
    "order {n}",
    "亲 订单号 {n} 什么时候到啊",
    "订单号发你了{n}",
    "{n}这个单子我要换货",
    "订单是{n}吗？不对，是{n2}",
]
NO_ORDER_TEMPLATES = [
    "尾号{p}",
    "我的手机号是138{p}{p}",
    "{d}买的",
    "买了2件，一共399元",
    "还没到啊",
    "订单号我找不到了",
    "我的订单号是[订单x]",
    "工单号AS20261121{p}",
]


@dataclass(frozen=True)
class OrderNumberCase:
    text: str
    expected: Optional[str]  # the canonical order number, None when the message has none


def _order_number(rng: random.Random) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(15))


def _written(rng: random.Random, digits: str) -> str:
    style = rng.random()
    if style < 0.35:
        written = digits
    elif style < 0.55:
        written = " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    elif style < 0.65:
        written = "-".join(digits[i : i + 4] for i in range(0, 16, 4))
    elif style < 0.72:
        written = " ".join([digits[:6], digits[6:12], digits[12:]])
    elif style < 0.8:
        written = digits[:8] + " " + digits[8:]
    else:
        written = digits
    if rng.random() < 0.2:
        written = written.translate(FULL_WIDTH_DIGITS)
    return written


def generate_cases(count: int = 520, seed: int = SEED) -> List[OrderNumberCase]:
    rng = random.Random(seed)
    cases: List[OrderNumberCase] = []
    while len(cases) < count:
        phone = "".join(str(rng.randint(0, 9)) for _ in range(4))
        date = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}号"
        if rng.random() < 0.1:
            text = rng.choice(NO_ORDER_TEMPLATES).format(p=phone, d=date)
            cases.append(OrderNumberCase(text, None))
            continue
        template = rng.choice(TEMPLATES)
        digits = _order_number(rng)
        if "{n2}" in template:  # the buyer corrects themselves: the last number counts
            first = _order_number(rng)
            text = template.format(n=_written(rng, first), n2=_written(rng, digits), p=phone, d=date)
        else:
            text = template.format(n=_written(rng, digits), p=phone, d=date)
        cases.append(OrderNumberCase(text, digits))
    return cases
