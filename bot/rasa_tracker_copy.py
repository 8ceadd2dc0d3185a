"""A tracker copied by its state, not by replaying its events (a documented patch of Rasa 3.6.21).

Why. Before every action it runs, Rasa's processor copies the conversation's tracker
(`DialogueStateTracker.copy()`), so that the events of an action that is rejected can be
thrown away. Rasa copies by replaying every event of the conversation into an empty tracker:
about 4 % of the Rasa process's time under load here (py-spy, 16 buyers), and a message runs
two to four actions.

What changes. A tracker's state is what its events made of it, so the copy takes that state
over instead of making it again: the same events (the same objects, as in Rasa's replay), a
copy of each slot, copies of the latest action and of the active loop (which Rasa edits in
place), and the latest messages (the event objects, as in the replay). What the replayed copy
does not carry over is left unset in this one too: the model and assistant ids and the
sender's source, which the processor sets on the original only.

A tracker that keeps only its latest events (`max_event_history`), one without a domain's
slots, and any subclass (the training's trackers) are copied by Rasa, as before.

Pinned to Rasa 3.6.21 like bot/rasa_patches.py; installed with those patches.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Optional

logger = logging.getLogger(__name__)

MARKER = "_aftersales_copy_by_state"
OWN_ATTRIBUTES = (
    "_aftersales_"  # what the project keeps on a tracker (bot/rasa_tracker_store.py, bot/rasa_rule_prediction.py)
)
ORIGINAL_COPY: Optional[Callable] = None  # Rasa's own method, kept for tests


def _copy_slot(slot: Any) -> Any:
    # what copy.copy does for a slot (no __copy__ or __reduce__ of its own), without its lookups
    twin = object.__new__(type(slot))
    twin.__dict__.update(slot.__dict__)
    return twin


def _copy(self: Any) -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker or self._max_event_history is not None or type(self.slots) is not dict:
        return ORIGINAL_COPY(self)  # type: ignore[misc]
    twin = object.__new__(DialogueStateTracker)
    twin.__dict__.update({name: value for name, value in vars(self).items() if not name.startswith(OWN_ATTRIBUTES)})
    twin.events = twin._create_events(list(self.events))
    twin.slots = {name: _copy_slot(slot) for name, slot in self.slots.items()}
    twin.latest_action = dict(self.latest_action) if self.latest_action is not None else None
    twin.active_loop = copy.copy(self.active_loop)  # None, or a small dataclass Rasa edits in place
    twin.model_id = twin.assistant_id = twin.sender_source = None
    return twin


def install() -> bool:
    """Replace `DialogueStateTracker.copy`; True when the patch is (already) active."""
    global ORIGINAL_COPY
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_patches import replace_pinned

    original = replace_pinned(
        DialogueStateTracker,
        "copy",
        _copy,
        marker=MARKER,
        without_patch="a tracker is copied by replaying all its events",
        installed="Trackers are copied by their state (bot/rasa_tracker_copy.py).",
    )
    ORIGINAL_COPY = original or ORIGINAL_COPY
    return original is not None
