"""Policy topics on held-out questions: which topic a trained model answers for each question
of benchmarks/policy_questions_heldout.yml (never trained on), and whether the intent
classifier sends the question to ask_policy at all.

    python -m benchmarks.nlu_policy MODEL.tar.gz [MODEL2.tar.gz ...]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

HELDOUT_FILE = Path(__file__).resolve().parent / "policy_questions_heldout.yml"
RETRIEVAL_INTENT = "ask_policy"


def heldout_questions(path: Path = HELDOUT_FILE) -> List[Tuple[str, str]]:
    """(question, topic) pairs."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(question), str(topic)) for topic, questions in data.items() for question in questions]


def topic_of(parse: dict) -> Tuple[str, float]:
    """The policy topic a parse result answers, as the dialogue reads it, and its confidence."""
    response = ((parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}).get("response") or {}
    key = response.get("intent_response_key") or ""
    return (key.split("/", 1)[1] if "/" in key else ""), float(response.get("confidence") or 0.0)


def evaluate(model, questions: Sequence[Tuple[str, str]]) -> Dict:
    """Topic accuracy (the selector's answer, whatever the intent) and end-to-end accuracy
    (intent ask_policy and the right topic), with the misses."""
    topic_right = both_right = 0
    misses = []
    for question, gold in questions:
        parse = model.parse(question)
        topic, confidence = topic_of(parse)
        intent = (parse.get("intent") or {}).get("name")
        topic_right += topic == gold
        both_right += topic == gold and intent == RETRIEVAL_INTENT
        if topic != gold or intent != RETRIEVAL_INTENT:
            misses.append(
                {"text": question, "gold": gold, "topic": topic, "confidence": round(confidence, 3), "intent": intent}
            )
    count = len(questions) or 1
    return {
        "count": len(questions),
        "topic_accuracy": topic_right / count,
        "end_to_end_accuracy": both_right / count,
        "misses": misses,
    }


def main(argv: Sequence[str]) -> int:
    from benchmarks.nlu import NluModel

    questions = heldout_questions()
    for path in argv:
        result = evaluate(NluModel(Path(path)), questions)
        print(
            f"{path}: topic {result['topic_accuracy']:.3f}, intent+topic {result['end_to_end_accuracy']:.3f} (n={result['count']})"
        )
        for miss in result["misses"]:
            print(
                f"   {miss['text']}  gold={miss['gold']} topic={miss['topic']} ({miss['confidence']}) intent={miss['intent']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
