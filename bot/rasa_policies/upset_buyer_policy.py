"""Hands an angry or abusive buyer to a person, whatever form or rule is running.

The mood comes from bot.nlu.upset (a lexicon score). A policy rather than a rule because it
must win inside forms and after any intent; its priority is above the RulePolicy's.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.upset import assess_mood

HANDOFF_ACTION = "action_handoff"
# a 1-5 score given angrily is still a score; recording it comes first
SLOTS_THAT_EXPECT_A_SCORE = {"awaiting_reply": "satisfaction"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class UpsetBuyerPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 5}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if self._buyer_just_spoke_in_anger(tracker) and HANDOFF_ACTION in domain.action_names_or_texts:
            probabilities[domain.index_for_action(HANDOFF_ACTION)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def _buyer_just_spoke_in_anger(tracker: DialogueStateTracker) -> bool:
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return False
        if any(tracker.get_slot(slot) == value for slot, value in SLOTS_THAT_EXPECT_A_SCORE.items()):
            return False
        return assess_mood(tracker.latest_message.text or "").needs_person
