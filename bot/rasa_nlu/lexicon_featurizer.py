"""Sparse features from the lexicon: which complaint categories, sub-issues and remedies a
message names (and which it negates), per token and per message."""

from __future__ import annotations

import bisect
from typing import Any, Dict, List, Text, Type

import numpy as np
import scipy.sparse

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.features import FEATURE_NAMES, lexicon_feature_spans
from bot.nlu.lexicon import load_lexicon


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LexiconFeaturizer(SparseFeaturizer, GraphComponent):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # feature_groups: name prefixes from bot.nlu.features.FEATURE_NAMES to emit; None = all
        return {**SparseFeaturizer.get_default_config(), "lexicon_path": None, "feature_groups": None}

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        self._lexicon = load_lexicon(config.get("lexicon_path"))
        groups = config.get("feature_groups")
        names = [n for n in FEATURE_NAMES if not groups or n.split(":")[0] in groups]
        self._index = {name: column for column, name in enumerate(names)}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LexiconFeaturizer":
        return cls({**cls.get_default_config(), **config}, execution_context)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            if message.get(TEXT) and tokens:
                self._featurize(message, tokens)
        return messages

    def _featurize(self, message: Message, tokens: List[Any]) -> None:
        """Linear in the message length: each span finds the tokens it overlaps by binary
        search over the token offsets (tokens come in text order and do not overlap), not by
        testing every token (spans × tokens grew with the square of the length)."""
        width = len(self._index)
        sequence = np.zeros((len(tokens), width), dtype=np.float32)
        sentence = np.zeros((1, width), dtype=np.float32)
        starts = [token.start for token in tokens]
        ends = [token.end for token in tokens]
        for name, start, end in lexicon_feature_spans(message.get(TEXT), self._lexicon):
            column = self._index.get(name)
            if column is None:
                continue
            sentence[0, column] = 1.0
            first = bisect.bisect_right(ends, start)  # the first token ending after the span starts
            last = bisect.bisect_left(starts, end)  # tokens from here on start at or after its end
            sequence[first:last, column] = 1.0
        self.add_features_to_message(
            scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
        )
