"""`python -m bot nlu-eval`: measures the NLU on real buyer text and writes the report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
DEFAULT_REPORT = PROJECT_ROOT / "docs" / "nlu-report.md"
FIGURES_DIR_NAME = "nlu"
CROSS_VALIDATION_FILE = "cross_validation.json"
TARGETS = {
    "complaint_accuracy": 0.90,
    "intent_macro_f1": 0.82,
    "order_number_exact_match": 0.99,
    "in_process_p50_ms": 20.0,
}
LATENCY_TEXTS = [
    "耳机一边没声音了",
    "订单号 1234 5678 9012 3456",
    "我的快递到哪了",
    "客服态度太差了",
    "转人工",
    "退货运费谁出",
    "尾号5678",
    "不是质量问题，就是不想要了",
    "你好",
    "谢谢",
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nlu-eval",
        help="评测 NLU：真实文本准确率、订单号抽取、基线对比、延迟，并写报告",
        description="训练（或复用/加载）NLU 模型，在真实买家文本上评测并写出 markdown 报告。",
    )
    parser.add_argument("--model", type=Path, help="直接评测这个模型文件（.tar.gz），不训练")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="报告路径（默认 docs/nlu-report.md）")
    parser.add_argument(
        "--complaints",
        type=Path,
        default=DEFAULT_EVAL_DIR / "complaints_dev.csv",
        help="投诉类别评测集 CSV（text,label；label 为 quality/logistics/service）",
    )
    parser.add_argument(
        "--intents",
        type=Path,
        default=DEFAULT_EVAL_DIR / "intents_dev.csv",
        help="意图评测集 CSV（text,label；label 为意图名）",
    )
    parser.add_argument(
        "--cross-validation", action="store_true", help="在自有训练数据上做按来源分组的 5 折交叉验证（进程内，含基线）"
    )
    parser.add_argument("--folds", type=int, default=5, help="交叉验证折数（默认 5）")
    parser.add_argument("--latency-requests", type=int, default=200, help="测延迟的请求数（默认 200）")
    parser.add_argument("--no-http", action="store_true", help="跳过 HTTP /model/parse 延迟测量")
    parser.add_argument(
        "--leak-guard",
        action="store_true",
        help="只做防泄漏检查：训练数据和全部标注评论里与评测文本相同/几乎相同的条数（只报数量，不训练）",
    )
    parser.add_argument("--order-cases", type=int, default=520, help="订单号抽取生成样例数（默认 520，至少 500）")
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from benchmarks.nlu import BenchmarkError

    try:
        return _run(args)
    except BenchmarkError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


def _validate(args: argparse.Namespace) -> None:
    from benchmarks.nlu import BenchmarkError

    if args.folds < 2:
        raise BenchmarkError("--folds 至少为 2")
    if args.latency_requests < 10:
        raise BenchmarkError("--latency-requests 至少为 10")
    if args.order_cases < 500:
        raise BenchmarkError("--order-cases 至少为 500")
    if args.model is not None and (not args.model.exists() or not args.model.name.endswith(".tar.gz")):
        raise BenchmarkError(f"--model 需要一个已存在的 Rasa 模型文件（.tar.gz）：{args.model}")
    if args.report.exists() and args.report.is_dir():
        raise BenchmarkError(f"--report 应该是文件路径，不是目录：{args.report}")


def _load_eval(path: Path, what: str) -> Optional[list]:
    from benchmarks.nlu import load_labelled_csv

    try:
        return load_labelled_csv(path)
    except FileNotFoundError:
        print(f"提示：找不到{what}评测文件 {path}，跳过这一部分。")
        return None


def _run(args: argparse.Namespace) -> int:
    from benchmarks import nlu

    _validate(args)
    complaints = _load_eval(args.complaints, "投诉类别")
    intents = _load_eval(args.intents, "意图")
    if args.leak_guard:
        return _leak_guard(complaints, intents)
    results: Dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": nlu.machine_description()}

    if args.model:
        model_path, trained = args.model, False
    else:
        print("检查 NLU 模型（数据和配置没变就复用）...")
        model_path, trained = nlu.up_to_date_model()
    results["model"] = str(
        model_path.relative_to(PROJECT_ROOT)
        if model_path.is_absolute() and PROJECT_ROOT in model_path.parents
        else model_path
    )
    results["trained"] = trained
    results["fingerprint"] = nlu.fingerprint()
    print(f"模型：{model_path}{'（新训练）' if trained else ''}")
    model = nlu.NluModel(model_path)

    train = nlu.training_examples()
    baseline = nlu.baseline_classifier(train)
    results["training_counts"] = _counts(train)
    results["overlap"] = {
        name: nlu.training_overlap(train, items)
        for name, items in (("complaints_dev", complaints), ("intents_dev", intents))
        if items
    }
    results["fallback"] = nlu.fallback_settings()
    figures_dir = args.report.parent / FIGURES_DIR_NAME

    from benchmarks.nlu_cv import COMPLAINT_OF, heldout_reviews

    held = [(text, COMPLAINT_OF[label]) for text, label in heldout_reviews() if label in COMPLAINT_OF]
    if held:
        predictions = [model.predict(text) for text, _ in held]
        gold = [label for _, label in held]
        texts = [text for text, _ in held]
        results["heldout_reviews"] = {
            "ours": nlu.score(gold, [p.intent for p in predictions]),
            "ours_complaint_only": nlu.score(gold, [p.complaint_intent for p in predictions]),
            "baseline": nlu.score(gold, baseline(texts)),
            "baseline_complaint_only": nlu.score(gold, baseline(texts, complaints_only=True)),
            "fallback_rate": sum(p.final_intent == nlu.FALLBACK_INTENT for p in predictions) / len(predictions),
        }
    if complaints:
        predictions = [model.predict(item.text) for item in complaints]
        gold = nlu.complaint_gold(complaints)
        texts = [item.text for item in complaints]
        results["complaints"] = {
            "ours": nlu.score(
                gold,
                [p.intent for p in predictions],
                [p.confidence for p in predictions],
                [p.confidence - p.second_confidence for p in predictions],
            ),
            "ours_complaint_only": nlu.score(gold, [p.complaint_intent for p in predictions]),
            "baseline": nlu.score(gold, baseline(texts)),
            "baseline_complaint_only": nlu.score(gold, baseline(texts, complaints_only=True)),
            "fallback_rate": sum(p.final_intent == nlu.FALLBACK_INTENT for p in predictions) / len(predictions),
        }
        nlu.confusion_png(
            gold, [p.intent for p in predictions], figures_dir / "confusion_complaints.png", "complaints_dev"
        )
    if intents:
        predictions = [model.predict(item.text) for item in intents]
        gold = [item.label for item in intents]
        results["intents"] = {
            "ours": nlu.score(
                gold,
                [p.intent for p in predictions],
                [p.confidence for p in predictions],
                [p.confidence - p.second_confidence for p in predictions],
            ),
            "baseline": nlu.score(gold, baseline([item.text for item in intents])),
            "fallback_rate": sum(p.final_intent == nlu.FALLBACK_INTENT for p in predictions) / len(predictions),
        }
        nlu.confusion_png(gold, [p.intent for p in predictions], figures_dir / "confusion_intents.png", "intents_dev")

    rate, count, failures = nlu.order_number_exact_match(args.order_cases)
    results["order_numbers"] = {"exact_match": rate, "count": count, "failures": failures[:10]}

    from benchmarks.entity_comparison import compare_entity_extractors

    results["entities"] = compare_entity_extractors()

    cv_file = figures_dir / CROSS_VALIDATION_FILE
    if args.cross_validation:
        from benchmarks.nlu_cv import grouped_cross_validation, store_cross_validation

        store_cross_validation(grouped_cross_validation(args.folds), cv_file)
    results["cross_validation"] = _stored_cross_validation(cv_file)
    results["cross_validation_fingerprint"] = nlu.fingerprint(for_cross_validation=True)

    latency_texts = _latency_texts(args.latency_requests, [item.text for item in intents or []])
    print(f"测延迟：进程内 {len(latency_texts)} 次 ...")
    results["latency_in_process"] = nlu.in_process_latency(model, latency_texts)
    if not args.no_http:
        print("测延迟：HTTP /model/parse（启动 rasa run，约需一分钟）...")
        try:
            results["latency_http"] = nlu.http_latency(model_path, latency_texts)
        except nlu.BenchmarkError as error:
            print(f"提示：HTTP 延迟没测成：{error}")
            results["latency_http"] = None

    from benchmarks.nlu_report import render_report

    report = render_report(results, TARGETS, args.report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    print(_summary(results))
    print(f"报告已写入 {args.report}")
    return 0


def _leak_guard(complaints: Optional[list], intents: Optional[list]) -> int:
    """Counts only: dev texts found (or nearly) in the training data plus every labelled review."""
    from benchmarks import nlu
    from benchmarks.nlu_cv import all_labelled_reviews

    train = nlu.training_examples() + all_labelled_reviews()
    found = 0
    for name, items in (("complaints_dev", complaints), ("intents_dev", intents)):
        if items:
            overlap = nlu.training_overlap(train, items)
            found += overlap["identical"] + overlap["near"]
            print(
                f"{name}: {overlap['identical']} 条相同 / {overlap['near']} 条几乎相同（共检查 {overlap['evaluated']} 条）"
            )
    return 1 if found else 0


def _latency_texts(count: int, real_texts: List[str]) -> List[str]:
    """Half real chat turns (when available), half our fixed sample, `count` in all."""
    fixed = (LATENCY_TEXTS * (count // len(LATENCY_TEXTS) + 1))[:count]
    if not real_texts:
        return fixed
    real = (real_texts * (count // len(real_texts) + 1))[: count // 2]
    return real + fixed[: count - len(real)]


def _counts(examples: List) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for example in examples:
        counts[example.label] = counts.get(example.label, 0) + 1
    return dict(sorted(counts.items()))


def _stored_cross_validation(path: Path) -> Optional[Dict]:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _summary(results: Dict) -> str:
    lines = ["", "== NLU 评测摘要 =="]
    if "complaints" in results:
        ours, base = results["complaints"]["ours"], results["complaints"]["baseline"]
        lines.append(
            f"投诉类别  准确率 {ours.accuracy:.3f}  macro-F1 {ours.macro_f1:.3f}   （基线 {base.accuracy:.3f} / {base.macro_f1:.3f}）"
        )
    if "intents" in results:
        ours, base = results["intents"]["ours"], results["intents"]["baseline"]
        lines.append(
            f"意图      准确率 {ours.accuracy:.3f}  macro-F1 {ours.macro_f1:.3f}   （基线 {base.accuracy:.3f} / {base.macro_f1:.3f}）"
        )
    lines.append(
        f"订单号抽取 完全匹配 {results['order_numbers']['exact_match']:.3f}（{results['order_numbers']['count']} 条生成样例）"
    )
    cv = results.get("cross_validation")
    if cv:
        lines.append(
            f"交叉验证  准确率 {cv['accuracy']:.3f}  macro-F1 {cv['macro_f1']:.3f}（{cv['folds']} 折，{cv['date']}）"
        )
    latency = results["latency_in_process"]
    lines.append(f"延迟（进程内） p50 {latency['p50_ms']:.1f} ms  p95 {latency['p95_ms']:.1f} ms")
    if results.get("latency_http"):
        http = results["latency_http"]
        lines.append(f"延迟（HTTP）   p50 {http['p50_ms']:.1f} ms  p95 {http['p95_ms']:.1f} ms")
    return "\n".join(lines)
