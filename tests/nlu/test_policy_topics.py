"""Policy topics come from PolicyTopicClassifier (a linear model, no TensorFlow) in the place
the dialogue reads them, for questions the model was never trained on."""

from pathlib import Path

import pytest
import yaml

from benchmarks.nlu import LabelledText, training_examples, training_overlap
from benchmarks.nlu_policy import heldout_questions, topic_of

pytestmark = pytest.mark.rasa
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, topic",
    [
        ("海淘保修从哪天算", "warranty"),
        ("退货地址是哪里", "return_address"),
        ("退款几天到账", "refund_time"),
    ],
)
def test_policy_question_gets_the_topic_that_answers_it(loaded_model, text, topic):
    selector = loaded_model.parse(text)["response_selector"]["ask_policy"]
    assert selector["response"]["intent_response_key"] == f"ask_policy/{topic}"
    assert selector["response"]["utter_action"] == f"utter_ask_policy/{topic}"
    assert 0.0 < selector["response"]["confidence"] <= 1.0
    ranking = selector["ranking"]
    assert ranking[0]["intent_response_key"] == f"ask_policy/{topic}"
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)


def test_no_response_selector_and_no_tensorflow_component_in_the_pipeline():
    names = [c["name"] for c in yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]]
    assert "ResponseSelector" not in names and "DIETClassifier" not in names
    assert "bot.rasa_nlu.policy_topic_classifier.PolicyTopicClassifier" in names


def test_held_out_policy_questions_are_not_in_the_training_data():
    questions = [LabelledText(text, topic) for text, topic in heldout_questions()]
    assert len(questions) >= 60
    overlap = training_overlap(training_examples(), questions)
    assert (overlap["identical"], overlap["near"]) == (0, 0)


def test_most_held_out_policy_questions_get_their_topic(loaded_model):
    questions = heldout_questions()
    right = sum(topic_of(loaded_model.parse(text))[0] == topic for text, topic in questions)
    assert right / len(questions) >= 0.85
