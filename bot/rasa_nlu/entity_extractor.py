"""Rasa entity extractor around bot.nlu.entities (identifiers + lexicon, no training)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entities import extract_entities
from bot.nlu.lexicon import load_lexicon


def _shop_patterns() -> Dict[str, str]:
    """Order/ticket number patterns from the shop settings (bot/config.py)."""
    from bot.config import get_settings

    settings = get_settings()
    return {
        "order_number_pattern": settings.order_number_pattern,
        "ticket_number_pattern": settings.ticket_number_pattern,
    }


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AfterSalesEntityExtractor(GraphComponent, EntityExtractorMixin):
    """order_number, phone_last4, ticket_number, sub_issue, product, remedy, item_condition
    and satisfaction_score, with canonical values."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # None: read from the shop settings at load time, so one model serves every shop
        return {"order_number_pattern": None, "ticket_number_pattern": None, "lexicon_path": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        shop = _shop_patterns()
        self._order_number_pattern = config.get("order_number_pattern") or shop["order_number_pattern"]
        self._ticket_number_pattern = config.get("ticket_number_pattern") or shop["ticket_number_pattern"]
        self._lexicon = load_lexicon(config.get("lexicon_path"))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AfterSalesEntityExtractor":
        return cls({**cls.get_default_config(), **config})

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text: Optional[str] = message.get(TEXT)
            if not text:
                continue
            found = [
                {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end, "confidence": 1.0}
                for e in extract_entities(text, self._order_number_pattern, self._ticket_number_pattern, self._lexicon)
            ]
            found = self.add_extractor_name(found)
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
