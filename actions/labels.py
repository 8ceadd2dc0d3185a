"""Reading the short labels (remedies, who pays) that live as responses in domain.yml."""

from __future__ import annotations

from typing import Any, Dict, Text

from bot.domain.vocabulary import buyer_label_response


def label(domain: Dict[Text, Any], kind: Text, value: Any) -> Text:
    responses = domain.get("responses") or {}
    variants = responses.get(buyer_label_response(kind, value)) or responses.get(buyer_label_response(kind, "none"))
    return variants[0]["text"] if variants else str(value)
