"""Cancels the task when the buyer drops it in the middle of a form ("那不用弄了").

The intent classifier reads such a line as anything ("不退了" as a return request); the rules only
cancel on `deny`. The words decide here (bot/nlu/reaction.py, cues in reaction_lexicon.yml).
"""

from __future__ import annotations

from typing import Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.reaction import withdraws
from bot.rasa_policies.base import OneActionPolicy

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
class WithdrawalPolicy(OneActionPolicy):
    priority = 7  # above the RulePolicy, which would run the form on

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        if tracker.latest_action_name == CANCEL_ACTION and not tracker.active_loop_name:
            return ACTION_LISTEN_NAME  # cancelled: wait for the buyer
        return CANCEL_ACTION if buyer_withdraws_mid_task(tracker) else None
