"""Rasa intent classifier around bot.nlu.linear_intent_model: n-grams of the normalised text,
plus chosen featurizers' sentence features (the lexicon's sparse ones, the sentence encoder's
dense ones), each block times its weight."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text, Type

import scipy.sparse as sparse

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent_model import LinearIntentModel
from bot.nlu.normalization import normalize_for_classifier

logger = logging.getLogger(__name__)
WORD_CHARACTER = re.compile(r"[^\W_]")


def _origin_name(origin: Any) -> str:
    return origin if isinstance(origin, str) else "+".join(origin)


def sentence_feature_blocks(messages: List[Message], widths: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
    """One (messages × features) matrix per featurizer, from the sentence-level features, sparse
    (the lexicon) or dense (the sentence encoder); a message without them gets a row of zeros."""
    rows: Dict[str, Dict[int, sparse.spmatrix]] = {}
    found_widths: Dict[str, int] = dict(widths or {})
    for index, message in enumerate(messages):
        for feature in message.features:
            if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE:
                name = _origin_name(feature.origin)
                rows.setdefault(name, {})[index] = feature.features
                found_widths.setdefault(name, feature.features.shape[1])
    blocks = {}
    for name, width in found_widths.items():
        by_row = rows.get(name, {})
        if len(messages) == 1 and 0 in by_row:  # a buyer's message at run time: no stacking
            blocks[name] = by_row[0]
            continue
        stacked = [
            sparse.csr_matrix(by_row[i]) if i in by_row else sparse.csr_matrix((1, width)) for i in range(len(messages))
        ]
        blocks[name] = sparse.vstack(stacked).tocsr() if stacked else sparse.csr_matrix((0, width))
    return blocks


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "ngram_range": [1, 3],
            "regularization": 10.0,
            "class_weight": None,  # or "balanced"
            "max_iter": 3000,
            # sentence features of these featurizers (matched by name) join the n-grams, times the weight
            "feature_weights": {"LexiconFeaturizer": 0.3},
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearIntentModel] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    def _used_blocks(self, blocks: Dict[str, sparse.csr_matrix]) -> Dict[str, Any]:
        return {name: m for name, m in blocks.items() if self._weight_of(name) is not None}

    def _weight_of(self, block_name: str) -> Optional[float]:
        for origin, weight in self._config["feature_weights"].items():
            if origin in block_name:
                return float(weight)
        return None

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples; %s not trained.", self.__class__.__name__)
            return self._resource
        blocks = self._used_blocks(sentence_feature_blocks(examples))
        self._model = LinearIntentModel.fit(
            [normalize_for_classifier(e.get(TEXT)).text for e in examples],
            [e.get(INTENT) for e in examples],
            blocks=blocks,
            block_weights={name: self._weight_of(name) for name in blocks},
            ngram_range=tuple(self._config["ngram_range"]),
            regularization=self._config["regularization"],
            class_weight=self._config["class_weight"],
            max_iter=self._config["max_iter"],
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearIntentModel.load(directory)
        except (ValueError, FileNotFoundError):
            logger.debug("No trained %s in the model; it will predict nothing.", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None or not messages:
            return messages
        widths = dict(zip(self._model.block_names, self._model.block_widths))
        texts = [normalize_for_classifier(m.get(TEXT) or "").text for m in messages]
        probabilities = self._model.predict_proba(texts, sentence_feature_blocks(messages, widths))
        for text, row in zip(texts, probabilities):
            if not WORD_CHARACTER.search(text):  # only punctuation or unknown emoji: no evidence
                row[:] = 1.0 / len(row)
        for message, row in zip(messages, probabilities):
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in zip(self._model.classes, row)),
                key=lambda entry: -entry["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self._config["ranking_length"]], add_to_output=True)
        return messages
