"""Rasa dialogue policies of the project (adapters around plain logic in bot/)."""

# The Rasa server imports this package when it loads the model: the place to patch Rasa
# before the first turn (see bot/rasa_patches.py).
from bot import rasa_action_client as _rasa_action_client
from bot import rasa_graph_runner as _rasa_graph_runner
from bot import rasa_patches as _rasa_patches
from bot import rasa_rule_prediction as _rasa_rule_prediction
from bot import rasa_tracker_copy as _rasa_tracker_copy

_rasa_patches.install()
_rasa_patches.install_slot_mapping_skip()
_rasa_patches.install_outage_message()
_rasa_patches.install_pause_from_handoff()
_rasa_patches.install_event_class_lookup()
_rasa_patches.install_empty_domain_once()
_rasa_patches.install_gc_freeze_on_load()
_rasa_action_client.install()
_rasa_graph_runner.install()
_rasa_rule_prediction.install_kept_states()
_rasa_rule_prediction.install_rule_index()
_rasa_tracker_copy.install()
