"""NLU benchmark: real-text accuracy, a baseline, entity checks, cross-validation, latency.

Everything here measures; nothing trains on the evaluation files. `bot.commands.nlu_eval`
is the command line around it and writes the markdown report.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from benchmarks.order_number_cases import generate_cases
from bot.nlu.identifiers import extract_identifiers
from bot.nlu.normalization import PLACEHOLDER_PATTERN, normalize_for_classifier

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NLU_DATA_DIR = PROJECT_ROOT / "data" / "nlu"
CONFIG_FILE = PROJECT_ROOT / "config.yml"
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
MODEL_DIR = PROJECT_ROOT / "models" / "nlu-eval"
FALLBACK_INTENT = "nlu_fallback"
COMPLAINT_PREFIX = "complain_"
FINGERPRINT_SOURCES = (
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/jieba",
    "bot/nlu",
    "bot/rasa_nlu",
    "bot/domain/vocabulary.py",
)


class BenchmarkError(Exception):
    """A problem the user can fix (bad file, bad option); the message is Chinese."""


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str


@dataclass
class Prediction:
    text: str
    intent: str  # the classifier's best intent (before the fallback)
    confidence: float
    final_intent: str  # after the FallbackClassifier (may be nlu_fallback)
    complaint_intent: str  # the best of the complain_* intents
    second_confidence: float = 0.0  # of the runner-up intent (the fallback's ambiguity check)
    seconds: float = 0.0


@dataclass
class ClassificationScore:
    accuracy: float
    macro_f1: float
    count: int
    labels: List[str]
    gold: List[str]
    predicted: List[str]
    confidences: List[float] = field(default_factory=list)
    margins: List[float] = field(default_factory=list)  # best minus runner-up confidence


# ---------------------------------------------------------------- input files
def load_labelled_csv(path: Path) -> List[LabelledText]:
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BenchmarkError(f"读不了评测文件 {path}：{error}") from error
    if not rows or not {"text", "label"} <= set(rows[0].keys()):
        raise BenchmarkError(f"评测文件 {path} 需要 text 和 label 两列（CSV，UTF-8）")
    items = [LabelledText(row["text"].strip(), row["label"].strip()) for row in rows if row.get("text", "").strip()]
    if not items:
        raise BenchmarkError(f"评测文件 {path} 里没有任何样例")
    return items


def training_examples() -> List[LabelledText]:
    """Our own NLU training data, retrieval sub-intents folded into their intent."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(NLU_DATA_DIR))
    return [LabelledText(m.get("text"), m.get("intent")) for m in data.intent_examples]


# ---------------------------------------------------------------- model
# what the in-process cross-validation reads besides the model's sources: its folds come from the
# generator's source groups
CROSS_VALIDATION_SOURCES = ("scripts/generate_nlu_data.py", "scripts/phrasebank", "benchmarks/nlu_cv.py")


def fingerprint(for_cross_validation: bool = False) -> str:
    """Of the model's sources; `for_cross_validation`: of what the grouped cross-validation depends
    on, i.e. without the FallbackClassifier (it acts after the classifier, so the stored
    cross-validation stays valid when only the threshold changes) and with the fold sources."""
    import yaml

    digest = hashlib.sha256()
    for source in FINGERPRINT_SOURCES + (CROSS_VALIDATION_SOURCES if for_cross_validation else ()):
        path = PROJECT_ROOT / source
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            if file.exists():
                digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
                if for_cross_validation and file == CONFIG_FILE:
                    config = yaml.safe_load(file.read_text(encoding="utf-8"))
                    config["pipeline"] = [
                        c for c in config.get("pipeline") or [] if c.get("name") != "FallbackClassifier"
                    ]
                    digest.update(yaml.safe_dump(config, sort_keys=True, allow_unicode=True).encode())
                else:
                    digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def train_nlu_model(out_dir: Path, name: str, nlu_data: Path = NLU_DATA_DIR, quiet: bool = True) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "--nlu",
        str(nlu_data),
        "-c",
        str(CONFIG_FILE),
        "-d",
        str(DOMAIN_FILE),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=quiet, text=True)
    model = out_dir / f"{name}.tar.gz"
    if result.returncode != 0 or not model.exists():
        tail = (result.stderr or result.stdout or "")[-2000:] if quiet else ""
        raise BenchmarkError(f"NLU 模型训练失败（rasa train nlu 退出码 {result.returncode}）。\n{tail}")
    return model


def up_to_date_model(quiet: bool = True) -> Tuple[Path, bool]:
    """The NLU model for the current data and config; trained only when none exists yet."""
    name = f"nlu-{fingerprint()}"
    model = MODEL_DIR / f"{name}.tar.gz"
    if model.exists():
        return model, False
    return train_nlu_model(MODEL_DIR, name, quiet=quiet), True


def quiet_rasa_logging() -> None:
    """Rasa logs every parse at debug level; a benchmark wants its own output only."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)


class NluModel:
    """A loaded model that parses synchronously."""

    def __init__(self, model_path: Path) -> None:
        from rasa.core.agent import Agent

        quiet_rasa_logging()
        if not Path(model_path).exists():
            raise BenchmarkError(f"模型文件不存在：{model_path}")
        self._loop = asyncio.new_event_loop()
        try:
            self._agent = Agent.load(str(model_path))
        except Exception as error:  # Rasa raises many kinds for a broken archive
            raise BenchmarkError(f"加载模型失败：{model_path}（{error}）") from error
        if not self._agent.is_ready():
            raise BenchmarkError(f"模型 {model_path} 里没有可用的 NLU 部分")

    def parse(self, text: str) -> dict:
        return self._loop.run_until_complete(self._agent.parse_message(text))

    def predict(self, text: str) -> Prediction:
        started = time.perf_counter()
        result = self.parse(text)
        seconds = time.perf_counter() - started
        return prediction_from_parse(text, result, seconds)


def prediction_from_parse(text: str, result: dict, seconds: float = 0.0) -> Prediction:
    ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    best = (
        ranking[0]
        if ranking
        else {"name": result["intent"]["name"], "confidence": result["intent"].get("confidence", 0.0)}
    )
    complaints = [r for r in ranking if r["name"].startswith(COMPLAINT_PREFIX)]
    return Prediction(
        text=text,
        intent=best["name"],
        confidence=float(best.get("confidence") or 0.0),
        final_intent=result["intent"]["name"],
        complaint_intent=complaints[0]["name"] if complaints else best["name"],
        second_confidence=float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0,
        seconds=seconds,
    )


def fallback_settings() -> Dict[str, float]:
    """The FallbackClassifier thresholds configured in config.yml (Rasa's defaults when unset)."""
    import yaml

    for component in yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")).get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return {
                "threshold": float(component.get("threshold", 0.3)),
                "ambiguity_threshold": float(component.get("ambiguity_threshold", 0.1)),
            }
    return {"threshold": 0.0, "ambiguity_threshold": 0.0}


# ---------------------------------------------------------------- scoring
def score(
    gold: Sequence[str], predicted: Sequence[str], confidences: Sequence[float] = (), margins: Sequence[float] = ()
) -> ClassificationScore:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(gold))
    return ClassificationScore(
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        count=len(gold),
        labels=labels,
        gold=list(gold),
        predicted=list(predicted),
        confidences=list(confidences),
        margins=list(margins),
    )


def complaint_gold(items: Iterable[LabelledText]) -> List[str]:
    return [f"{COMPLAINT_PREFIX}{item.label}" for item in items]


def order_number_exact_match(count: int = 520) -> Tuple[float, int, List[Tuple[str, Optional[str], Optional[str]]]]:
    """Share of generated messages whose last extracted order number is exactly the expected one."""
    cases = generate_cases(count)
    failures = []
    for case in cases:
        found = [i.value for i in extract_identifiers(case.text) if i.entity == "order_number"]
        got = found[-1] if found else None
        if got != case.expected:
            failures.append((case.text, case.expected, got))
    return 1 - len(failures) / len(cases), len(cases), failures


# ---------------------------------------------------------------- baseline
def baseline_classifier(train: Sequence[LabelledText]) -> Callable[[Sequence[str]], List[str]]:
    """TF-IDF over character 1-3-grams + logistic regression, on the raw training texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        LogisticRegression(C=10.0, max_iter=3000),
    )
    model.fit([item.text for item in train], [item.label for item in train])
    classes = list(model.classes_)
    complaint_columns = [i for i, c in enumerate(classes) if c.startswith(COMPLAINT_PREFIX)]

    def predict(texts: Sequence[str], complaints_only: bool = False) -> List[str]:
        if not complaints_only:
            return list(model.predict(list(texts)))
        probabilities = model.predict_proba(list(texts))
        return [classes[max(complaint_columns, key=lambda i: row[i])] for row in probabilities]

    return predict


# ---------------------------------------------------------------- fallback threshold
def threshold_table(
    correct: Sequence[bool],
    confidences: Sequence[float],
    margins: Optional[Sequence[float]] = None,
    ambiguity: float = 0.0,
    thresholds: Sequence[float] = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7),
) -> List[Dict[str, float]]:
    """Per threshold: coverage (answered share), accuracy of the answered, wrong answers given.

    Like Rasa's FallbackClassifier, a message is not answered when its best confidence is below
    the threshold or, with `ambiguity` > 0, when the runner-up is within `ambiguity` of it."""
    margins = list(margins) if margins is not None else [1.0] * len(correct)
    rows = []
    total = len(correct) or 1
    for threshold in thresholds:
        answered = [
            ok
            for ok, confidence, margin in zip(correct, confidences, margins)
            if confidence >= threshold and not margin < ambiguity
        ]
        rows.append(
            {
                "threshold": threshold,
                "coverage": len(answered) / total,
                "accuracy_answered": (sum(answered) / len(answered)) if answered else 0.0,
                "wrong_rate": (len(answered) - sum(answered)) / total,
                "clarify_rate": 1 - len(answered) / total,
            }
        )
    return rows


# ---------------------------------------------------------------- cross-validation
# grouped by source, in-process: benchmarks/nlu_cv.py


WORD_CHARACTER = re.compile(r"[^\W_]")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", normalize_for_classifier(text).text)


def _trigrams(compact: str) -> frozenset:
    return frozenset(compact[i : i + 3] for i in range(len(compact) - 2)) or frozenset([compact])


def training_overlap(
    train: Sequence[LabelledText], evaluated: Sequence[LabelledText], near_threshold: float = 0.6, min_chars: int = 6
) -> Dict[str, int]:
    """How many evaluation texts have a training text that is the same, or nearly the same
    (character-trigram Jaccard >= near_threshold), after normalisation: a leak guard, since the
    training data must never come from the evaluation sets. Turns shorter than `min_chars`
    ("好的", "谢谢", a bare "[订单x]") are everyone's and are not counted. Counts only; no text is reported."""
    train_grams = {_trigrams(_compact(item.text)) for item in train}
    index: Dict[str, List[frozenset]] = {}
    for grams in train_grams:
        for gram in grams:
            index.setdefault(gram, []).append(grams)
    identical = near = checked = 0
    for item in evaluated:
        if len(WORD_CHARACTER.findall(PLACEHOLDER_PATTERN.sub("", item.text))) < min_chars:
            continue
        compact = _compact(item.text)
        checked += 1
        grams = _trigrams(compact)
        if grams in train_grams:
            identical += 1
            continue
        candidates = {id(c): c for gram in grams for c in index.get(gram, ())}.values()
        if any(len(grams & c) / len(grams | c) >= near_threshold for c in candidates):
            near += 1
    return {"evaluated": checked, "identical": identical, "near": near}


def per_label_f1(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, float]:
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    values = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {label: float(value) for label, value in zip(labels, values)}


# ---------------------------------------------------------------- latency
def percentiles(seconds: Sequence[float]) -> Dict[str, float]:
    ordered = sorted(seconds)
    if not ordered:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "n": 0}
    p95_index = min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": ordered[p95_index] * 1000, "n": len(ordered)}


def in_process_latency(model: NluModel, texts: Sequence[str], warmup: int = 5) -> Dict[str, float]:
    for text in texts[:warmup]:
        model.parse(text)
    timings = []
    for text in texts:
        started = time.perf_counter()
        model.parse(text)
        timings.append(time.perf_counter() - started)
    return percentiles(timings)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_latency(model_path: Path, texts: Sequence[str], startup_timeout: float = 240.0) -> Dict[str, float]:
    """Starts `rasa run --enable-api` on a free loopback port, times /model/parse, stops it.

    The server gets empty endpoint and credential files: parsing needs no action server,
    tracker store or channel, and the project's own files expect deployment variables."""
    import requests

    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="nlu-http-"))
    (workdir / "endpoints.yml").write_text("{}\n", encoding="utf-8")
    (workdir / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    log_path = workdir / "rasa-run.log"
    failed = True
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rasa",
                "run",
                "--enable-api",
                "-m",
                str(Path(model_path).resolve()),
                "-i",
                "127.0.0.1",
                "--port",
                str(port),
                "--endpoints",
                str(workdir / "endpoints.yml"),
                "--credentials",
                str(workdir / "credentials.yml"),
            ],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + startup_timeout
            while True:
                if server.poll() is not None:
                    raise BenchmarkError(f"rasa run 启动失败（退出码 {server.returncode}），日志：{log_path}")
                try:
                    if requests.get(f"{base}/status", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.time() > deadline:
                    raise BenchmarkError(f"rasa run 在 {startup_timeout:.0f} 秒内没有就绪，日志：{log_path}")
                time.sleep(1)
            session = requests.Session()
            for text in texts[:5]:
                session.post(f"{base}/model/parse", json={"text": text}, timeout=30)
            timings = []
            for text in texts:
                started = time.perf_counter()
                response = session.post(f"{base}/model/parse", json={"text": text}, timeout=30)
                timings.append(time.perf_counter() - started)
                response.raise_for_status()
            failed = False
            return percentiles(timings)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if not failed:
                shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- machine and plots
def machine_description() -> str:
    cpu_model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu_model}, {memory}, Python {platform.python_version()}, {platform.system()}"


def confusion_markdown(gold: Sequence[str], predicted: Sequence[str]) -> str:
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    header = "| gold \\ predicted | " + " | ".join(labels) + " |"
    lines = [header, "|" + "---|" * (len(labels) + 1)]
    for label, row in zip(labels, matrix):
        if label in gold:
            lines.append(f"| **{label}** | " + " | ".join(str(v) if v else "·" for v in row) + " |")
    return "\n".join(lines)


def confusion_png(gold: Sequence[str], predicted: Sequence[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = max(4.0, 0.45 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)))
    axes.set_yticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticklabels(labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                axes.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
