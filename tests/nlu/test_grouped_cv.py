"""Grouped cross-validation keeps every source inside one fold while every intent is learnt in every
fold, the training data carries its sources, and the fallback threshold follows the report's rule."""

from collections import Counter, defaultdict

import pytest

from benchmarks.nlu_cv import (
    Example,
    choose_threshold,
    grouped_folds,
    merge_near_variants,
    training_examples,
    wording_key,
)

FOLDS = 5


@pytest.fixture(scope="module")
def examples():
    return training_examples()


@pytest.fixture(scope="module")
def folds(examples):
    return grouped_folds(examples, FOLDS)


def test_every_training_example_has_a_known_source_group(examples):
    kinds = {e.group.split(":")[0] for e in examples}
    assert kinds == {"generator", "phrasebank", "review"}
    assert sum(e.group.startswith("review:") for e in examples) >= 1000


def test_the_folds_cover_every_example_once(examples, folds):
    tested = sorted(i for test in folds for i in test.tolist())
    assert len(folds) == FOLDS and tested == list(range(len(examples)))


def test_no_source_group_straddles_train_and_test(examples, folds):
    folds_of_group = defaultdict(set)
    for fold, test in enumerate(folds):
        for i in test:
            folds_of_group[examples[i].group].add(fold)
    straddling = [group for group, seen in folds_of_group.items() if len(seen) > 1]
    assert straddling == []
    # the groups are sources, not intents: far more groups than intents, none a large share of a fold
    assert len(folds_of_group) > 1000
    assert max(Counter(e.group for e in examples).values()) < len(examples) / FOLDS / 20


def test_every_intent_is_learnt_in_every_training_fold(examples, folds):
    total = Counter(e.intent for e in examples)
    for test in folds:
        held_out = Counter(examples[i].intent for i in test.tolist())
        trained = {intent: total[intent] - held_out[intent] for intent in total}
        # stratified: each fold trains on well over half of every intent's examples
        assert {intent: count for intent, count in trained.items() if count < 0.6 * total[intent]} == {}


def test_texts_with_the_same_wording_share_a_fold(examples, folds):
    fold_of = {i: fold for fold, test in enumerate(folds) for i in test.tolist()}
    folds_of_wording = defaultdict(set)
    for i, example in enumerate(examples):
        folds_of_wording[wording_key(example.text)].add(fold_of[i])
    assert [key for key, seen in folds_of_wording.items() if len(seen) > 1] == []


def test_variants_of_one_written_sentence_are_one_group(examples):
    groups = {e.group for e in examples if e.intent == "affirm" and wording_key(e.text) == wording_key("好的")}
    assert len(groups) == 1


def test_near_variants_from_two_sources_are_merged_and_other_sources_kept_apart():
    merged = merge_near_variants(
        [
            Example("ask_ticket_status", "我的退款什么时候到账", "generator:我的退款什么时候到账"),
            Example(
                "ask_ticket_status",
                "我的退款什么时候到账啊？？",
                "phrasebank:chat_questions:我的退款什么时候到账啊？？",
            ),
            Example(
                "ask_ticket_status", "请问我的退款什么时候到账", "phrasebank:chat_personas:请问我的退款什么时候到账"
            ),
            Example("affirm", "好的!", "generator:好的"),
            Example("affirm", "好的呀", "phrasebank:chat_conversation:好的呀"),
            Example("complain_logistics", "快递太慢了", "generator:快递太慢了"),
        ]
    )
    assert len({e.group for e in merged[:3]}) == 1
    assert merged[3].group == merged[4].group
    assert len({merged[0].group, merged[3].group, merged[5].group}) == 3


def record(right, confidence):
    return {"gold": "x", "predicted": "x" if right else "y", "confidence": confidence}


def test_threshold_steps_up_only_while_it_removes_half_a_wrong_answer_per_clarification():
    # below 0.2: 4 wrong of 5 (worth asking); 0.2-0.25: 1 wrong of 4 (not worth it)
    records = (
        [record(False, 0.1)] * 4
        + [record(True, 0.1)]
        + [record(False, 0.22)]
        + [record(True, 0.22)] * 3
        + [record(True, 0.9)] * 90
    )
    chosen, trail = choose_threshold(records)
    assert chosen == 0.2
    assert abs(trail[0]["ratio"] - 0.8) < 1e-9 and abs(trail[1]["ratio"] - 0.25) < 1e-9


def test_the_configured_threshold_is_the_rules_on_the_stored_cross_validation():
    import json

    from benchmarks.nlu import fallback_settings
    from benchmarks.nlu_cv import CROSS_VALIDATION_FILE

    stored = json.loads(CROSS_VALIDATION_FILE.read_text(encoding="utf-8"))
    assert stored["grouped"] and stored["folds"] == FOLDS
    assert choose_threshold(stored["records"])[0] == stored["rule_threshold"] == fallback_settings()["threshold"]
