"""Jieba tokenisation of normalised text, with token offsets in the original text."""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normalization import normalize_for_classifier

EMPTY_MESSAGE_TOKEN = "<空>"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """Featurizers see one spelling per meaning (half-width, lower case, digit shapes,
    placeholders and emoji resolved); entity offsets still refer to what the buyer typed."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        original = message.get(attribute)
        normalized = normalize_for_classifier(original)
        tokens = []
        for word, start, end in jieba.tokenize(normalized.text):
            if not word.strip():
                continue
            original_start, original_end = normalized.span_in_original(start, end)
            tokens.append(Token(word, original_start, original_end))
        if not tokens:
            tokens = [Token(EMPTY_MESSAGE_TOKEN, 0, len(original))]
        return self._apply_token_pattern(tokens)
