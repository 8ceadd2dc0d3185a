"""Grouped cross-validation and the held-out real-review slice, in-process.

The intent model of the pipeline (bot.nlu.linear_intent_model: character n-grams of the
normalised text, the lexicon's sentence features, optionally the sentence encoder's) is fitted
here directly on the features the Rasa components compute, so a fold takes seconds instead of a
`rasa train`. Folds are grouped by the source an example comes from (scripts/generate_nlu_data.py
`build_examples`: the written sentence or fault fragment a generated example says, a phrasebank
sentence, a real review; sources with nearly the same wording merged), so paraphrases of one source
never sit on both sides of a fold, and stratified by intent, so every intent is learnt in every fold.

The held-out slice is the quarter of data/reviews/reviews.tsv marked `heldout`, never trained on.
Every choice in config.yml and the generator is made on these two (docs/nlu-report.md); the dev
sets are scored once, at the end, by `python -m bot nlu-eval`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sparse
import yaml

from benchmarks.nlu import PROJECT_ROOT, per_label_f1, score

GENERATOR = PROJECT_ROOT / "scripts" / "generate_nlu_data.py"
CONFIG_FILE = PROJECT_ROOT / "config.yml"
EMBEDDING_CACHE = PROJECT_ROOT / "models" / "nlu-eval" / "sentence_embeddings.npz"
CROSS_VALIDATION_FILE = PROJECT_ROOT / "docs" / "nlu" / "cross_validation.json"
LEXICON = "LexiconFeaturizer"
ENCODER = "SentenceEncoderFeaturizer"
COMPLAINT_OF = {"quality": "complain_quality", "logistics": "complain_logistics", "service": "complain_service"}


@dataclass(frozen=True)
class Example:
    intent: str  # folded: ask_policy/<topic> -> ask_policy
    text: str
    group: str


@dataclass
class Settings:
    """The intent model's settings, as config.yml gives them (overridable for a comparison)."""

    ngram_range: Tuple[int, int] = (1, 3)
    regularization: float = 10.0
    weights: Optional[Dict[str, float]] = None  # block -> weight
    lexicon_groups: Optional[List[str]] = None

    @classmethod
    def from_config(cls, path: Path = CONFIG_FILE) -> "Settings":
        settings = cls(weights={})
        for component in yaml.safe_load(path.read_text(encoding="utf-8")).get("pipeline") or []:
            name = component.get("name", "")
            if name.endswith("LinearIntentClassifier"):
                settings.ngram_range = tuple(component.get("ngram_range", [1, 3]))
                settings.regularization = float(component.get("regularization", 10.0))
                settings.weights = {k: float(v) for k, v in (component.get("feature_weights") or {}).items()}
            elif name.endswith("LexiconFeaturizer"):
                settings.lexicon_groups = component.get("feature_groups")
        return settings

    def with_weights(self, **weights: float) -> "Settings":
        merged = {**(self.weights or {}), **weights}
        return Settings(
            self.ngram_range, self.regularization, {k: v for k, v in merged.items() if v}, self.lexicon_groups
        )


def _generator():
    spec = importlib.util.spec_from_file_location("generate_nlu_data", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def training_examples(review_intents: Optional[Dict[str, str]] = None) -> List[Example]:
    """The training data as the generator builds it, with each example's source group (merged
    where two sources wrote nearly the same words: `merge_near_variants`).
    `review_intents` overrides which review labels join which intent (a variant to compare)."""
    generator = _generator()
    if review_intents is not None:
        generator.REVIEW_INTENTS = review_intents
    return merge_near_variants(
        [Example(intent.split("/")[0], text, group) for intent, text, group in generator.build_examples()]
    )


EMOJI_CHARACTERS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")
NOT_WORDS = re.compile(r"[\W_]+")
TRAILING_PARTICLES = re.compile(r"[啊呢吧了哦呀啦嘛么]+$")
NEAR_VARIANT_JACCARD = 0.6  # the leak guard's "nearly the same" (benchmarks.nlu.training_overlap)
NEAR_VARIANT_MIN_CHARS = 6


def wording_key(text: str) -> str:
    """The words of a text without what the generator varies: case and width, digits (order
    cards), emoji, punctuation, spacing and trailing particles."""
    from bot.nlu.normalization import normalize_for_classifier

    words = NOT_WORDS.sub("", EMOJI_CHARACTERS.sub("", normalize_for_classifier(text).text))
    return TRAILING_PARTICLES.sub("", re.sub(r"\d+", "9", words)) or words


def _trigrams(key: str) -> frozenset:
    return frozenset(key[i : i + 3] for i in range(len(key) - 2))


def merge_near_variants(examples: Sequence[Example]) -> List[Example]:
    """One group for all sources whose texts share a wording, or nearly (character-trigram
    Jaccard >= 0.6 on texts of 6+ characters, as the leak guard judges), so that, say, a
    generator sentence a phrasebank writer also wrote never sits on both sides of a fold."""
    parent: Dict[str, str] = {}

    def root(group: str) -> str:
        while parent.setdefault(group, group) != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    def union(a: str, b: str) -> None:
        a, b = root(a), root(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    group_of_key: Dict[str, str] = {}
    grams_of: Dict[str, frozenset] = {}
    index: Dict[str, List[str]] = {}
    for example in examples:
        key = wording_key(example.text)
        if key in group_of_key:
            union(group_of_key[key], example.group)
            continue
        group_of_key[key] = example.group
        if len(key) < NEAR_VARIANT_MIN_CHARS:
            continue
        grams = grams_of[key] = _trigrams(key)
        for other in {other for gram in grams for other in index.get(gram, ())}:
            if len(grams & grams_of[other]) / len(grams | grams_of[other]) >= NEAR_VARIANT_JACCARD:
                union(group_of_key[other], example.group)
        for gram in grams:
            index.setdefault(gram, []).append(key)
    return [Example(e.intent, e.text, root(e.group)) for e in examples]


def heldout_reviews() -> List[Tuple[str, str]]:
    """(text, label) of the held-out real reviews (labels quality/logistics/service/other)."""
    return [(text, label) for text, label, _ in _generator().labelled_reviews("heldout")]


def all_labelled_reviews():
    """Every labelled review (both splits) as LabelledText, for the leak guard."""
    from benchmarks.nlu import LabelledText

    generator = _generator()
    return [
        LabelledText(text, label)
        for split in ("train", "heldout")
        for text, label, _ in generator.labelled_reviews(split)
    ]


# ---------------------------------------------------------------- features
class FeatureCache:
    """Normalised texts, lexicon vectors and sentence embeddings, computed once per text."""

    def __init__(self, settings: Settings) -> None:
        from bot.nlu.features import FEATURE_NAMES
        from bot.nlu.lexicon import load_lexicon

        groups = settings.lexicon_groups
        names = [n for n in FEATURE_NAMES if not groups or n.split(":")[0] in groups]
        self._index = {name: column for column, name in enumerate(names)}
        self._lexicon = load_lexicon()
        self._normalised: Dict[str, str] = {}
        self._lexical: Dict[str, np.ndarray] = {}
        self._embeddings: Dict[str, np.ndarray] = self._load_embeddings()

    def normalised(self, texts: Sequence[str]) -> List[str]:
        from bot.nlu.normalization import normalize_for_classifier

        for text in texts:
            if text not in self._normalised:
                self._normalised[text] = normalize_for_classifier(text).text
        return [self._normalised[t] for t in texts]

    def lexicon(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from bot.nlu.features import lexicon_feature_spans

        for text in texts:
            if text not in self._lexical:
                row = np.zeros(len(self._index), dtype=np.float32)
                for name, _, _ in lexicon_feature_spans(text, self._lexicon):
                    if name in self._index:
                        row[self._index[name]] = 1.0
                self._lexical[text] = row
        return sparse.csr_matrix(np.vstack([self._lexical[t] for t in texts]))

    def embeddings(self, texts: Sequence[str]) -> sparse.csr_matrix:
        from bot.nlu import sentence_encoder

        normalised = self.normalised(texts)
        missing = sorted({n for n in normalised if self._key(n) not in self._embeddings})
        if missing:
            for start in range(0, len(missing), 512):
                chunk = missing[start : start + 512]
                for text, vector in zip(chunk, sentence_encoder.encode(chunk)):
                    self._embeddings[self._key(text)] = vector
            self._save_embeddings()
        return sparse.csr_matrix(np.vstack([self._embeddings[self._key(n)] for n in normalised]))

    def blocks(self, texts: Sequence[str], settings: Settings) -> Dict[str, sparse.csr_matrix]:
        blocks = {}
        if (settings.weights or {}).get(LEXICON):
            blocks[LEXICON] = self.lexicon(texts)
        if (settings.weights or {}).get(ENCODER):
            blocks[ENCODER] = self.embeddings(texts)
        return blocks

    @staticmethod
    def _key(normalised: str) -> str:
        return hashlib.sha1(normalised.encode("utf-8")).hexdigest()

    def _load_embeddings(self) -> Dict[str, np.ndarray]:
        if not EMBEDDING_CACHE.exists():
            return {}
        with np.load(EMBEDDING_CACHE, allow_pickle=False) as arrays:
            return dict(zip(arrays["keys"].tolist(), arrays["vectors"]))

    def _save_embeddings(self) -> None:
        EMBEDDING_CACHE.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._embeddings)
        np.savez(EMBEDDING_CACHE, keys=np.array(keys), vectors=np.vstack([self._embeddings[k] for k in keys]))


# ---------------------------------------------------------------- models
def fit_ours(texts: Sequence[str], labels: Sequence[str], settings: Settings, cache: FeatureCache):
    from bot.nlu.linear_intent_model import LinearIntentModel

    blocks = cache.blocks(texts, settings)
    model = LinearIntentModel.fit(
        cache.normalised(texts),
        labels,
        blocks=blocks,
        block_weights={name: settings.weights[name] for name in blocks},
        ngram_range=settings.ngram_range,
        regularization=settings.regularization,
    )

    def predict(new_texts: Sequence[str]) -> Tuple[List[str], np.ndarray]:
        probabilities = model.predict_proba(cache.normalised(new_texts), cache.blocks(new_texts, settings))
        return [model.classes[i] for i in probabilities.argmax(axis=1)], probabilities

    return predict, model.classes


def fit_baseline(texts: Sequence[str], labels: Sequence[str]):
    """TF-IDF over character 1-3-grams of the raw text + logistic regression (C = 10)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=3000),
    )
    model.fit(list(texts), list(labels))

    def predict(new_texts: Sequence[str]) -> Tuple[List[str], np.ndarray]:
        probabilities = model.predict_proba(list(new_texts))
        return [model.classes_[i] for i in probabilities.argmax(axis=1)], probabilities

    return predict, list(model.classes_)


# ---------------------------------------------------------------- measures
FOLD_SEED = 14


def grouped_folds(examples: Sequence[Example], folds: int = 5) -> List[np.ndarray]:
    """Test indices per fold: a source group never straddles two folds, and each fold's intent
    mix is kept close to the whole (scikit-learn's StratifiedGroupKFold), so every intent is
    learnt in every fold from its other sources."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=FOLD_SEED)
    return [
        test
        for _, test in splitter.split(
            np.zeros(len(examples)), [e.intent for e in examples], groups=[e.group for e in examples]
        )
    ]


def cross_validate(
    examples: Sequence[Example], fit: Callable, folds: int = 5, progress: Callable[[str], None] = lambda _: None
) -> Dict:
    """Held-out predictions for every example, by grouped k-fold."""
    predicted: List[str] = [""] * len(examples)
    confidence = np.zeros(len(examples))
    margin = np.zeros(len(examples))
    fold_of = np.zeros(len(examples), dtype=int)
    started = time.time()
    for fold, test_index in enumerate(grouped_folds(examples, folds), start=1):
        test_set = set(test_index.tolist())
        train = [e for i, e in enumerate(examples) if i not in test_set]
        progress(f"fold {fold}/{folds}: train {len(train)}, test {len(test_index)}")
        predict, _ = fit([e.text for e in train], [e.intent for e in train])
        labels, probabilities = predict([examples[i].text for i in test_index])
        ordered = np.sort(probabilities, axis=1)
        for row, i in enumerate(test_index):
            predicted[i] = labels[row]
            confidence[i] = ordered[row, -1]
            margin[i] = ordered[row, -1] - (ordered[row, -2] if ordered.shape[1] > 1 else 0.0)
            fold_of[i] = fold
    gold = [e.intent for e in examples]
    overall = score(gold, predicted)
    reviews = [i for i, e in enumerate(examples) if e.group.startswith("review:")]
    return {
        "folds": folds,
        "seconds": round(time.time() - started, 1),
        "count": len(examples),
        "accuracy": overall.accuracy,
        "macro_f1": overall.macro_f1,
        "per_intent_f1": per_label_f1(gold, predicted),
        "review_accuracy": (sum(predicted[i] == gold[i] for i in reviews) / len(reviews)) if reviews else None,
        "review_count": len(reviews),
        "records": [
            {
                "fold": int(fold_of[i]),
                "group": examples[i].group.split(":")[0],
                "gold": gold[i],
                "predicted": predicted[i],
                "confidence": round(float(confidence[i]), 4),
                "margin": round(float(margin[i]), 4),
            }
            for i in range(len(examples))
        ],
    }


def heldout_scores(predict: Callable, reviews: Sequence[Tuple[str, str]], classes: Sequence[str]) -> Dict:
    """Complaint accuracy on the held-out reviews labelled quality/logistics/service: over all
    intents, and among the three complaint intents only; and where the `other` reviews go."""
    complaints = [(t, COMPLAINT_OF[label]) for t, label in reviews if label in COMPLAINT_OF]
    labels, probabilities = predict([t for t, _ in complaints])
    columns = [i for i, c in enumerate(classes) if c.startswith("complain_")]
    only = [classes[columns[int(np.argmax(row[columns]))]] for row in probabilities]
    gold = [g for _, g in complaints]
    overall, restricted = score(gold, labels), score(gold, only)
    others = [t for t, label in reviews if label == "other"]
    other_labels = predict(others)[0] if others else []
    return {
        "count": len(complaints),
        "accuracy": overall.accuracy,
        "macro_f1": overall.macro_f1,
        "complaint_only_accuracy": restricted.accuracy,
        "gold": gold,
        "predicted": labels,
        "other_count": len(others),
        "other_as_complaint": (sum(label.startswith("complain_") for label in other_labels) / len(others))
        if others
        else None,
    }


def evaluate(
    settings: Settings,
    examples: Sequence[Example],
    reviews: Sequence[Tuple[str, str]],
    cache: FeatureCache,
    folds: int = 5,
    progress: Callable[[str], None] = lambda _: None,
) -> Dict:
    """Ours and the baseline, on grouped CV and on the held-out reviews (trained on everything)."""

    def ours(texts, labels):
        return fit_ours(texts, labels, settings, cache)

    result = {}
    for name, fit in (("ours", ours), ("baseline", fit_baseline)):
        cv = cross_validate(examples, fit, folds, progress)
        predict, classes = fit([e.text for e in examples], [e.intent for e in examples])
        result[name] = {"cv": cv, "heldout": heldout_scores(predict, reviews, classes)}
    return result


def grouped_cross_validation(folds: int = 5) -> Dict:
    """The configured intent model and the baseline, grouped k-fold over the training data, and
    the fallback threshold the report's rule gives on it (what `nlu-eval --cross-validation` and
    `python -m benchmarks.nlu_cv --store` keep for the report)."""
    from benchmarks.nlu import fingerprint

    settings = Settings.from_config()
    cache = FeatureCache(settings)
    examples = training_examples()
    started = time.time()

    def ours(texts, labels):
        return fit_ours(texts, labels, settings, cache)

    result = cross_validate(examples, ours, folds, progress=print)
    ours_seconds = result["seconds"]
    baseline = cross_validate(examples, fit_baseline, folds)
    threshold, trail = choose_threshold(result["records"])
    result.update(
        {
            "fingerprint": fingerprint(for_cross_validation=True),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": round(time.time() - started, 1),
            "seconds_ours": ours_seconds,
            "seconds_baseline": baseline["seconds"],
            "grouped": True,
            "groups": len({e.group for e in examples}),
            "baseline": {k: baseline[k] for k in ("accuracy", "macro_f1", "review_accuracy")},
            "rule_threshold": threshold,
            "rule_steps": [
                {**step, "ratio": round(step["ratio"], 3) if step["ratio"] != float("inf") else None} for step in trail
            ],
        }
    )
    return result


def store_cross_validation(result: Dict, path: Path = CROSS_VALIDATION_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


def summary_line(name: str, result: Dict) -> str:
    cv, held = result["cv"], result["heldout"]
    return (
        f"{name:40s} CV acc {cv['accuracy']:.3f} macro-F1 {cv['macro_f1']:.3f} reviews {cv['review_accuracy'] or 0:.3f} | "
        f"held-out complaints {held['accuracy']:.3f} (3-way {held['complaint_only_accuracy']:.3f}, macro-F1 {held['macro_f1']:.3f}), "
        f"other->complaint {held['other_as_complaint'] or 0:.2f}"
    )


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="grouped cross-validation + held-out reviews for NLU choices")
    parser.add_argument("--encoder-weights", type=float, nargs="*", default=[])
    parser.add_argument("--other-as", default=None, help="also try the `other` reviews as this intent")
    parser.add_argument("--no-reviews", action="store_true", help="also try without the training reviews")
    parser.add_argument("--out", type=Path, default=None, help="write all results as JSON")
    parser.add_argument("--baseline", action="store_true", help="also score the TF-IDF baseline")
    parser.add_argument("--skip-configured", action="store_true", help="only the variants")
    parser.add_argument(
        "--store",
        action="store_true",
        help="only the report's grouped CV (ours + baseline + the threshold rule) into "
        "docs/nlu/cross_validation.json; no dev set is read",
    )
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if args.store:
        result = grouped_cross_validation(args.folds)
        store_cross_validation(result)
        print(
            f"ours {result['accuracy']:.3f} / {result['macro_f1']:.3f}, baseline {result['baseline']['accuracy']:.3f} / "
            f"{result['baseline']['macro_f1']:.3f}, {result['seconds']:.0f} s; rule threshold {result['rule_threshold']}; "
            + ", ".join(f"{s['from']}->{s['to']}: {s['ratio']}" for s in result["rule_steps"])
        )
        return 0
    settings = Settings.from_config()
    cache = FeatureCache(settings)
    reviews = heldout_reviews()
    variants: List[Tuple[str, Settings, List[Example]]] = []
    examples = training_examples()
    if not args.skip_configured:
        variants.append(("configured", settings, examples))
    for weight in args.encoder_weights:
        variants.append((f"encoder x{weight}", settings.with_weights(**{ENCODER: weight}), examples))
    if args.no_reviews:
        variants.append(("no training reviews", settings, training_examples({})))
    if args.other_as:
        with_other = dict(COMPLAINT_OF, other=args.other_as)
        variants.append((f"other reviews as {args.other_as}", settings, training_examples(with_other)))
    results = {}
    for name, variant, data in variants:

        def ours(texts, labels, variant=variant):
            return fit_ours(texts, labels, variant, cache)

        cv = cross_validate(data, ours)
        predict, classes = ours([e.text for e in data], [e.intent for e in data])
        results[name] = {"cv": cv, "heldout": heldout_scores(predict, reviews, classes), "weights": variant.weights}
        print(summary_line(name, results[name]), flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.baseline:
        cv = cross_validate(examples, fit_baseline)
        predict, classes = fit_baseline([e.text for e in examples], [e.intent for e in examples])
        results["baseline"] = {"cv": cv, "heldout": heldout_scores(predict, reviews, classes)}
        print(summary_line("baseline (TF-IDF char 1-3 + LR)", results["baseline"]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


# ---------------------------------------------------------------- policy topics
def topic_examples() -> List[Example]:
    """The ask_policy examples, labelled with their topic, grouped by writer (a phrasebank file, or
    the generator)."""
    return [
        Example(
            intent.split("/", 1)[1],
            text,
            ":".join(group.split(":")[:2]) if group.startswith("phrasebank:") else "generator",
        )
        for intent, text, group in _generator().build_examples()
        if intent.startswith("ask_policy/")
    ]


def policy_topic_comparison(variants: Dict[str, Settings], cache: FeatureCache) -> Dict[str, Dict]:
    """Per variant of the topic model: grouped CV over the topic examples (a phrasebank file or the
    generator's sentences held out at a time) and accuracy on the held-out policy questions."""
    from benchmarks.nlu_policy import heldout_questions

    examples = topic_examples()
    folds = len({e.group for e in examples})
    questions = heldout_questions()
    results = {}
    for name, settings in variants.items():

        def fit(texts, labels, settings=settings):
            return fit_ours(texts, labels, settings, cache)

        cv = cross_validate(examples, fit, folds)
        predict, _ = fit([e.text for e in examples], [e.intent for e in examples])
        predicted, _ = predict([q for q, _ in questions])
        results[name] = {
            "cv_accuracy": cv["accuracy"],
            "cv_macro_f1": cv["macro_f1"],
            "folds": folds,
            "heldout_accuracy": sum(p == g for p, (_, g) in zip(predicted, questions)) / len(questions),
        }
    return results


# ---------------------------------------------------------------- fallback threshold
THRESHOLD_STEPS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)
WRONG_PER_CLARIFICATION = 0.5  # a wrong answer is taken to cost two clarifying questions


def choose_threshold(records: Sequence[Dict], steps: Sequence[float] = THRESHOLD_STEPS) -> Tuple[float, List[Dict]]:
    """The report's rule on cross-validated confidences: step the threshold up while a step removes
    at least 0.5 wrong answers per clarification it adds; returns the threshold and each step's ratio."""
    from benchmarks.nlu import threshold_table

    table = threshold_table(
        [r["gold"] == r["predicted"] for r in records], [r["confidence"] for r in records], thresholds=steps
    )
    chosen, trail, stopped = steps[0], [], False
    for before, after in zip(table, table[1:]):
        added = after["clarify_rate"] - before["clarify_rate"]
        removed = before["wrong_rate"] - after["wrong_rate"]
        ratio = removed / added if added > 0 else float("inf")
        trail.append({"from": before["threshold"], "to": after["threshold"], "ratio": ratio})
        if not stopped and ratio >= WRONG_PER_CLARIFICATION:
            chosen = after["threshold"]
        else:
            stopped = True
    return chosen, trail


if __name__ == "__main__":
    raise SystemExit(main())
