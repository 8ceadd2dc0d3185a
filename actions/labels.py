"""Reading the short labels (remedies, who pays) that live as responses in domain.yml."""
from __future__ import annotations

from typing import Any, Dict, Text


def label(domain: Dict[Text, Any], kind: Text, value: Any) -> Text:
    name = f"utter_label_{kind}_{value}"
    variants = (domain.get("responses") or {}).get(name) or (domain.get("responses") or {}).get(
        f"utter_label_{kind}_none"
    )
    return variants[0]["text"] if variants else str(value)
