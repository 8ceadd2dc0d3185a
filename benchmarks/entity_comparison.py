"""Does a spaCy `blank("zh")` EntityRuler add anything to the lexicon extractor?

A seeded set of annotated messages (product, sub_issue, remedy, item_condition, some negated)
is run through: the lexicon extractor alone, a spaCy EntityRuler built from the same phrases
over jieba tokens, and the union of both. Scores are micro precision/recall/F1 over
(entity, value) pairs per message, plus time per message.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from bot.nlu.entities import extract_entities
from bot.nlu.lexicon import load_lexicon

SEED = 11
COMPARED_ENTITIES = ("product", "sub_issue", "remedy", "item_condition")
Pair = Tuple[str, str]

PRODUCTS = [
    ("耳机", "耳机"),
    ("蓝牙耳机", "耳机"),
    ("AirPods", "耳机"),
    ("手机", "手机"),
    ("iPhone", "手机"),
    ("电饭煲", "电饭煲"),
    ("吹风机", "吹风机"),
    ("羽绒服", "衣服"),
    ("运动鞋", "鞋"),
    ("洗发水", "洗发水"),
    ("车厘子", "水果"),
    ("牛奶", "牛奶"),
    ("笔记本电脑", "笔记本电脑"),
    ("平板", "平板"),
    ("热水器", "热水器"),
]
ISSUES = [
    ("屏幕碎了", "defect"),
    ("开不了机", "defect"),
    ("有杂音", "defect"),
    ("不是正品", "counterfeit"),
    ("冒烟了", "safety"),
    ("不小心摔了", "human_damage"),
    ("尺码不合适", "size"),
    ("一直没到", "delay"),
    ("显示签收但没收到", "not_received"),
    ("快递丢了", "lost"),
    ("外箱破了", "damaged_in_transit"),
    ("还没发货", "not_shipped"),
    ("与描述不符", "not_as_described"),
    ("掉色", "defect"),
]
REMEDIES = [
    ("想退货", "return_refund"),
    ("换一个", "exchange"),
    ("能维修吗", "repair"),
    ("补发一个", "reship"),
    ("仅退款", "refund_only"),
    ("", None),
]
CONDITIONS = [("没拆封", "unused"), ("吊牌还在", "unused"), ("已经拆封了", "used"), ("用过两次", "used"), ("", None)]
NEGATED_ISSUES = [("不是质量问题", None), ("没坏", None), ("也不是假货", None)]


@dataclass(frozen=True)
class EntityCase:
    text: str
    expected: FrozenSet[Pair]


def generate_entity_cases(count: int = 300, seed: int = SEED) -> List[EntityCase]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        product, product_value = rng.choice(PRODUCTS)
        remedy, remedy_value = rng.choice(REMEDIES)
        condition, condition_value = rng.choice(CONDITIONS)
        expected: Set[Pair] = {("product", product_value)}
        if rng.random() < 0.2:
            issue, issue_value = rng.choice(NEGATED_ISSUES)
            issue += "，就是不想要了"
            expected.add(("sub_issue", "no_reason"))
        else:
            issue, issue_value = rng.choice(ISSUES)
            expected.add(("sub_issue", issue_value))
        if remedy_value:
            expected.add(("remedy", remedy_value))
        if condition_value:
            expected.add(("item_condition", condition_value))
        parts = [f"买的{product}{issue}", condition, remedy]
        text = rng.choice(["，", " ", "。"]).join(part for part in parts if part)
        cases.append(EntityCase(text + rng.choice(["", "！", "？", "啊"]), frozenset(expected)))
    return cases


def lexicon_extractor(text: str) -> Set[Pair]:
    return {(e.entity, e.value) for e in extract_entities(text) if e.entity in COMPARED_ENTITIES}


def build_spacy_ruler_extractor() -> Optional[Callable[[str], Set[Pair]]]:
    """The same lexicon as spaCy phrase patterns over jieba tokens; None when spaCy is missing."""
    try:
        import spacy
    except ImportError:
        return None
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    lexicon = load_lexicon()
    patterns = []
    for phrase in lexicon.phrases():
        if phrase.entity in COMPARED_ENTITIES or phrase.entity == "remedy":
            patterns.append({"label": phrase.entity, "pattern": phrase.text, "id": phrase.value})
    ruler.add_patterns(patterns)

    def extract(text: str) -> Set[Pair]:
        found = set()
        for span in nlp(text).ents:
            value = span.ent_id_
            if span.label_ == "remedy" and value == "refund":
                value = "return_refund"
            found.add((span.label_, value))
        return found

    return extract


def _score(extractor: Callable[[str], Set[Pair]], cases: List[EntityCase]) -> Dict[str, float]:
    true_positive = false_positive = false_negative = 0
    started = time.perf_counter()
    for case in cases:
        found = extractor(case.text)
        true_positive += len(found & case.expected)
        false_positive += len(found - case.expected)
        false_negative += len(case.expected - found)
    seconds = time.perf_counter() - started
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "ms_per_message": seconds * 1000 / len(cases)}


def compare_entity_extractors(count: int = 300) -> Dict[str, Dict[str, float]]:
    cases = generate_entity_cases(count)
    results = {"lexicon": _score(lexicon_extractor, cases)}
    spacy_extractor = build_spacy_ruler_extractor()
    if spacy_extractor is not None:
        spacy_extractor("预热")
        results["spacy_entity_ruler"] = _score(spacy_extractor, cases)
        results["lexicon_plus_spacy"] = _score(lambda text: lexicon_extractor(text) | spacy_extractor(text), cases)
    results["cases"] = {"count": float(len(cases))}
    return results
