"""The NLU training data covers the public intent contract with enough examples."""

import importlib.util
from collections import Counter
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_INTENTS = [
    "complain_quality",
    "complain_logistics",
    "complain_service",
    "request_return",
    "request_exchange",
    "request_repair",
    "ask_order_status",
    "ask_ticket_status",
    "ask_policy",
    "change_address",
    "request_human",
    "inform",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "out_of_scope",
]
POLICY_TOPICS = [
    "return_window",
    "return_shipping",
    "refund_time",
    "warranty",
    "exchange_time",
    "delivery_time",
    "exempt_goods",
    "complaint_channel",
    "quality_problem",
    "return_address",
]
MINIMUM_COMPLAINT_EXAMPLES = 60
MINIMUM_OTHER_EXAMPLES = 25


def nlu_examples():
    examples = []
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        examples.append((block["intent"], line.strip()[2:].strip()))
    return examples


@pytest.fixture(scope="module")
def domain():
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def counts():
    return Counter(intent.split("/")[0] for intent, _ in nlu_examples())


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_contract_intent_is_in_domain(domain, intent):
    assert intent in domain["intents"]


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_contract_intent_has_enough_training_examples(counts, intent):
    minimum = MINIMUM_COMPLAINT_EXAMPLES if intent.startswith("complain_") else MINIMUM_OTHER_EXAMPLES
    assert counts[intent] >= minimum, f"{intent}: {counts[intent]} < {minimum}"


def test_complaint_intents_have_several_hundred_examples(counts):
    for intent in ("complain_quality", "complain_logistics", "complain_service"):
        assert counts[intent] >= 300


@pytest.mark.parametrize("topic", POLICY_TOPICS)
def test_every_policy_topic_has_examples_and_a_response(domain, topic):
    topics = Counter(intent for intent, _ in nlu_examples() if intent.startswith("ask_policy/"))
    assert topics[f"ask_policy/{topic}"] >= 15
    assert f"utter_ask_policy/{topic}" in domain["responses"]


def test_no_intent_outside_the_domain(domain):
    assert {intent.split("/")[0] for intent, _ in nlu_examples()} <= set(domain["intents"])


def test_no_example_under_two_intents():
    owners = {}
    for intent, text in nlu_examples():
        owners.setdefault(text, set()).add(intent)
    assert [text for text, intents in owners.items() if len(intents) > 1] == []


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_nlu_data", PROJECT_ROOT / "scripts" / "generate_nlu_data.py"
    )
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    return generator


def test_data_files_are_what_the_generator_writes(tmp_path):
    generator = load_generator()
    generator.write(tmp_path)
    for path in tmp_path.glob("*.yml"):
        committed = PROJECT_ROOT / "data" / "nlu" / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{committed} differs from the generator output: run scripts/generate_nlu_data.py"
        )


def test_every_phrasebank_sentence_reaches_the_training_data():
    examples = set(nlu_examples())
    bank = load_generator().phrasebank(known_intents={intent for intent, _ in examples})
    # a sentence two writers put under different intents is dropped, so allow those
    missing = [
        (intent, text) for intent, texts in bank.items() for text, _writer in texts if (intent, text) not in examples
    ]
    assert len(missing) <= 5, missing


def test_phrasebank_rejects_an_unknown_intent(tmp_path):
    (tmp_path / "bad.yml").write_text("ask_policy:\n  - 保修多久\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="ask_policy/<话题>"):
        load_generator().phrasebank(known_intents={"ask_policy/warranty"}, directory=tmp_path)
