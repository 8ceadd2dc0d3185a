"""Policy topics (the retrieval intent ask_policy) with the linear model of the intent
classifier instead of Rasa's TensorFlow ResponseSelector.

It trains on the examples of `ask_policy/<topic>` and puts its answer where the
ResponseSelector put it, so the dialogue reads it unchanged:
`response_selector.ask_policy.response.intent_response_key` = `ask_policy/<topic>`, with
`confidence`, `utter_action`, `responses` and a `ranking`. Measured against the
ResponseSelector in docs/nlu-report.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent_model import LinearIntentModel
from bot.nlu.normalization import normalize_for_classifier
from bot.rasa_nlu.intent_classifier import sentence_feature_blocks

logger = logging.getLogger(__name__)
RESPONSES_FILE = "responses.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class PolicyTopicClassifier(GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "retrieval_intent": "ask_policy",
            "ngram_range": [1, 3],
            "regularization": 10.0,
            "max_iter": 3000,
            # sentence features of these featurizers (matched by name) join the n-grams, times the weight
            "feature_weights": {},
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearIntentModel] = None,
        responses: Optional[Dict[str, List[Dict[str, Any]]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._responses = responses or {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PolicyTopicClassifier":
        return cls(config, model_storage, resource)

    @property
    def _intent(self) -> str:
        return self._config["retrieval_intent"]

    def _weight_of(self, block_name: str) -> Optional[float]:
        for origin, weight in (self._config["feature_weights"] or {}).items():
            if origin in block_name:
                return float(weight)
        return None

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(INTENT) == self._intent and e.get(TEXT) and e.get(INTENT_RESPONSE_KEY)
        ]
        topics = {e.get(INTENT_RESPONSE_KEY) for e in examples}
        if len(topics) < 2:
            logger.debug("Fewer than two %s topics; %s not trained.", self._intent, self.__class__.__name__)
            return self._resource
        blocks = {name: m for name, m in sentence_feature_blocks(examples).items() if self._weight_of(name) is not None}
        self._model = LinearIntentModel.fit(
            [normalize_for_classifier(e.get(TEXT)).text for e in examples],
            [e.get(INTENT_RESPONSE_KEY) for e in examples],
            blocks=blocks,
            block_weights={name: self._weight_of(name) for name in blocks},
            ngram_range=tuple(self._config["ngram_range"]),
            regularization=self._config["regularization"],
            max_iter=self._config["max_iter"],
        )
        self._responses = {
            key: value
            for key, value in (training_data.responses or {}).items()
            if key.startswith(f"utter_{self._intent}/")
        }
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
            (directory / RESPONSES_FILE).write_text(json.dumps(self._responses, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "PolicyTopicClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearIntentModel.load(directory)
                responses = json.loads((directory / RESPONSES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.debug("No trained %s in the model; it will predict nothing.", cls.__name__)
            model, responses = None, {}
        return cls(config, model_storage, resource, model, responses)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None or not messages:
            return messages
        widths = dict(zip(self._model.block_names, self._model.block_widths))
        texts = [normalize_for_classifier(m.get(TEXT) or "").text for m in messages]
        probabilities = self._model.predict_proba(texts, sentence_feature_blocks(messages, widths))
        for message, row in zip(messages, probabilities):
            ranking = sorted(
                (
                    {"id": index, "intent_response_key": key, "confidence": float(p)}
                    for index, (key, p) in enumerate(zip(self._model.classes, row))
                ),
                key=lambda entry: -entry["confidence"],
            )[: self._config["ranking_length"]]
            best = ranking[0]
            utter_action = f"utter_{best['intent_response_key']}"
            selector = dict(message.get("response_selector") or {})
            selector["all_retrieval_intents"] = [self._intent]
            selector[self._intent] = {
                "response": {
                    "responses": self._responses.get(utter_action, []),
                    "confidence": best["confidence"],
                    "intent_response_key": best["intent_response_key"],
                    "utter_action": utter_action,
                },
                "ranking": ranking,
            }
            message.set("response_selector", selector, add_to_output=True)
        return messages
