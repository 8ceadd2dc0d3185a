"""Grouped cross-validation keeps every source group inside one fold, the training data carries
its sources, and the fallback threshold follows the report's rule."""
from collections import defaultdict

from bot.benchmarks.nlu_cv import Example, choose_threshold, grouped_folds, training_examples


def test_every_training_example_has_a_known_source_group():
    examples = training_examples()
    kinds = {e.group.split(":")[0] for e in examples}
    assert kinds == {"generator", "phrasebank", "review"}
    assert sum(e.group.startswith("review:") for e in examples) >= 1000


def test_a_group_never_straddles_two_folds():
    examples = [Example("a" if i % 3 else "b", f"t{i}", f"g{i % 17}") for i in range(340)]
    fold_of_group = defaultdict(set)
    for fold, test_index in enumerate(grouped_folds(examples, 5)):
        for i in test_index:
            fold_of_group[examples[i].group].add(fold)
    assert len(fold_of_group) == 17 and all(len(folds) == 1 for folds in fold_of_group.values())


def record(right, confidence):
    return {"gold": "x", "predicted": "x" if right else "y", "confidence": confidence}


def test_threshold_steps_up_only_while_it_removes_half_a_wrong_answer_per_clarification():
    # below 0.2: 4 wrong of 5 (worth asking); 0.2-0.25: 1 wrong of 4 (not worth it)
    records = ([record(False, 0.1)] * 4 + [record(True, 0.1)] + [record(False, 0.22)] + [record(True, 0.22)] * 3
               + [record(True, 0.9)] * 90)
    chosen, trail = choose_threshold(records)
    assert chosen == 0.2
    assert abs(trail[0]["ratio"] - 0.8) < 1e-9 and abs(trail[1]["ratio"] - 0.25) < 1e-9
