"""The after-sales policy engine: plain Python, no Rasa.

    policy = load_policy()                      # shop/policy.yml, validated
    decision = decide(order_facts, situation, today, policy)
    decision.rule_id, decision.remedies, decision.explanation, decision.to_dict()

Modules: `model` (OrderFacts, Situation, Decision), `config` (the policy file), `engine`
(the rules), `explanations` (buyer-facing Chinese text), `workdays` (official working days),
`interchange` (orders in the interchange JSON format).
"""

from bot.policy.config import PolicyConfig, PolicyConfigError, load_policy
from bot.policy.engine import MAY_KEEP_WAITING_RULES, OrderFactsError, buyer_choices, decide, settled_remedy
from bot.policy.model import (
    ORDER_CLOSED_RULE,
    REFUND_AFTER_APPROVAL,
    REFUND_AFTER_RETURN,
    REFUND_FROM_TODAY,
    RULE_IDS,
    Decision,
    OrderFacts,
    Situation,
)

__all__ = [
    "Decision",
    "MAY_KEEP_WAITING_RULES",
    "ORDER_CLOSED_RULE",
    "OrderFacts",
    "OrderFactsError",
    "PolicyConfig",
    "PolicyConfigError",
    "REFUND_AFTER_APPROVAL",
    "REFUND_AFTER_RETURN",
    "REFUND_FROM_TODAY",
    "RULE_IDS",
    "Situation",
    "buyer_choices",
    "decide",
    "load_policy",
    "settled_remedy",
]
