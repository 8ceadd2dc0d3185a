"""What the project's hand-written policies share: they train on nothing and, given the
conversation so far, either name one action with full confidence or abstain."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class OneActionPolicy(Policy):
    """Subclasses implement `next_action`; `priority` decides ties with the RulePolicy (4)."""

    priority = 5

    @classmethod
    def get_default_config(cls) -> Dict[Text, Any]:
        return {"priority": cls.priority}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        raise NotImplementedError

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)
