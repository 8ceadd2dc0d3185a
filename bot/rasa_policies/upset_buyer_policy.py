"""Hands an angry or abusive buyer to a person, whatever form or rule is running.

The mood comes from bot.nlu.upset (a lexicon score). A policy rather than a rule because it
must win inside forms and after any intent; its priority is above the RulePolicy's.
"""

from __future__ import annotations

from typing import Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.upset import assess_mood
from bot.rasa_policies.base import OneActionPolicy

HANDOFF_ACTION = "action_handoff"
# a 1-5 score given angrily is still a score; recording it comes first
SLOTS_THAT_EXPECT_A_SCORE = {"awaiting_reply": "satisfaction"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class UpsetBuyerPolicy(OneActionPolicy):
    priority = 5

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        return HANDOFF_ACTION if self._buyer_just_spoke_in_anger(tracker) else None

    @staticmethod
    def _buyer_just_spoke_in_anger(tracker: DialogueStateTracker) -> bool:
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return False
        if any(tracker.get_slot(slot) == value for slot, value in SLOTS_THAT_EXPECT_A_SCORE.items()):
            return False
        return assess_mood(tracker.latest_message.text or "").needs_person
