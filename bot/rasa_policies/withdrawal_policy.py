"""Cancels the task when the buyer drops it in the middle of a form ("那不用弄了").

The intent classifier reads such a line as anything ("不退了" as a return request); the rules only
cancel on `deny`. The words decide here (bot/nlu/reaction.py, cues in reaction_lexicon.yml).
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

from bot.nlu.reaction import withdraws

CANCEL_ACTION = "action_cancel_task"


def buyer_withdraws_mid_task(tracker: DialogueStateTracker) -> bool:
    if not tracker.active_loop_name or tracker.latest_action_name != ACTION_LISTEN_NAME:
        return False
    message = tracker.latest_message
    if message is None:
        return False
    entities = {entity.get("entity") for entity in message.entities or []}
    return withdraws(message.text or "", names_a_remedy="remedy" in entities)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class WithdrawalPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}  # above the RulePolicy, which would run the form on

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
        if tracker.latest_action_name == CANCEL_ACTION and not tracker.active_loop_name:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0  # cancelled: wait for the buyer
        elif buyer_withdraws_mid_task(tracker) and CANCEL_ACTION in domain.action_names_or_texts:
            probabilities[domain.index_for_action(CANCEL_ACTION)] = 1.0
        return self._prediction(probabilities)
