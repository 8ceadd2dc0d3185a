"""Seven documented patches of Rasa 3.6.21: five take work off every turn, one answers outages,
one keeps the hand-over pause.

1. Action-server replies checked by a validator compiled once (`install()`).
2. No call of `action_validate_slot_mappings` on a turn that gives it nothing to do
   (`install_slot_mapping_skip()`, see its docstring).
3. An action the action server cannot run is answered with `utter_technical_problem`
   (`install_outage_message()`, see its docstring).
4. The pause follows the hand-off rows: a conversation with an active hand-off stays paused
   even when its tracker lost the pause, and one whose hand-back was lost is resumed
   (`install_pause_from_handoff()`, see its docstring).
5. An event's class found once per type name, not by walking the class tree for every event
   read back (`install_event_class_lookup()`, see its docstring).
6. The empty domain that every parse compares the model's domain with is built once
   (`install_empty_domain_once()`, see its docstring).
7. The loaded model is moved out of the garbage collector's way (`install_gc_freeze_on_load()`,
   see its docstring).

The calls to the action server keep their connections (bot/rasa_action_client.py), the model
graph runs in a kept order (bot/rasa_graph_runner.py), and the rule policy keeps its states and
indexes its rules (bot/rasa_rule_prediction.py): pinned and installed the same way.

All are applied by `bot/rasa_policies/__init__.py` and pinned to Rasa 3.6.21 in the same way.

Patch 1 in detail.

Why. Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(reply,
schema)` for every reply of the action server. `jsonschema.validate` first checks the schema
itself against its metaschema, then builds a new validator, on every call: 30-68 ms per reply
here, the largest single cost of a turn (a complaint conversation makes 17 such calls). The
schema (`RemoteAction.action_response_format_spec()`, events + responses) never changes, so
this module checks it once, builds one `jsonschema` validator for it, and validates every
reply with that validator: under a millisecond per reply.

What stays the same. A reply that Rasa would reject is still rejected with the same
`jsonschema.ValidationError` (the best-matching error, as `jsonschema.validate` picks it) and
the same explanation appended to its message; a valid reply still returns True.

Where it is applied. `bot/rasa_policies/__init__.py` imports this module and calls
`install()` and `install_slot_mapping_skip()`. The Rasa server imports that package whenever it loads the model (config.yml
names `bot.rasa_policies.upset_buyer_policy.UpsetBuyerPolicy`), so every `rasa run`,
`rasa shell` and `python -m bot serve` gets it before the first turn.

Pinned. The patch is installed only on Rasa 3.6.21, the version it was written against;
on any other version it logs one line and leaves Rasa untouched. When upgrading Rasa, check
whether the new version still validates this way, then update `PATCHED_RASA_VERSION` or
drop the patch.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Mapping, Optional

from bot.long_lived import freeze_long_lived_objects

logger = logging.getLogger(__name__)

PATCHED_RASA_VERSION = "3.6.21"
# set on the replacement function, so tests (and a curious operator) can see it is in place
MARKER = "_aftersales_compiled_validator"
ORIGINAL_VALIDATION: Optional[Callable] = None  # Rasa's own method, kept for tests and rollback


def _rasa_is_pinned(without_patch: str) -> bool:
    """True on the Rasa version the patches were written against; otherwise logs what Rasa does
    without the patch and leaves it untouched."""
    import rasa

    if rasa.__version__ == PATCHED_RASA_VERSION:
        return True
    logger.info(
        "Rasa %s is not %s: %s (bot/rasa_patches.py not applied).",
        rasa.__version__,
        PATCHED_RASA_VERSION,
        without_patch,
    )
    return False


ORIGINAL_ATTRIBUTE = "_aftersales_rasa_original"  # on a replacement: the callable it replaced


def replace_pinned(
    owner: Any, name: str, replacement: Callable, *, marker: str, without_patch: str, installed: str
) -> Optional[Callable]:
    """Put `replacement` in the place of `owner.name` on the pinned Rasa version, once. Returns
    Rasa's own callable when the replacement is in place (now or from an earlier call), None
    when this Rasa is another version and was left alone (`_rasa_is_pinned` logs why)."""
    current = getattr(owner, name)
    if getattr(current, marker, False):
        return getattr(current, ORIGINAL_ATTRIBUTE)
    if not _rasa_is_pinned(without_patch):
        return None
    setattr(replacement, marker, True)
    setattr(replacement, ORIGINAL_ATTRIBUTE, current)
    setattr(owner, name, replacement)
    logger.info("%s", installed)
    return current


def install() -> bool:
    """Replace `RemoteAction._validate_action_result`; True when the patch is (already) active."""
    global ORIGINAL_VALIDATION
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction._validate_action_result
    if getattr(current, MARKER, False):
        return True
    if not _rasa_is_pinned("action-server replies are validated by Rasa's own code"):
        return False
    ORIGINAL_VALIDATION = current
    RemoteAction._validate_action_result = _compiled_validation(RemoteAction.action_response_format_spec())
    logger.info("Action-server replies are validated by a validator compiled once (bot/rasa_patches.py).")
    return True


def is_installed() -> bool:
    from rasa.core.actions.action import RemoteAction

    return bool(getattr(RemoteAction._validate_action_result, MARKER, False))


def _compiled_validation(schema: Dict[str, Any]) -> Callable[[Any, Dict[str, Any]], bool]:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    from rasa.shared.constants import DOCS_BASE_URL

    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of once per reply
    validator = validator_class(schema)
    is_valid = _valid_by_event_type(schema, validator_class)

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        if is_valid(result):
            return True
        error: Optional[ValidationError] = best_match(validator.iter_errors(result))
        if error is None:
            return True
        # Rasa's own explanation, word for word
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, MARKER, True)
    return _validate_action_result


def _valid_by_event_type(schema: Dict[str, Any], validator_class: Any) -> Callable[[Any], bool]:
    """Whether a reply is valid, checking each event against its own type's schema only.

    Rasa's schema lists the 23 event types under `oneOf`, so a validator checks every event
    against all of them (half of the remaining validation time). Each of those schemas fixes
    `event` to its own constant, so an event is valid exactly when the common part and the
    schema of its own type accept it. A reply this check refuses goes to the full validator,
    which finds the error Rasa would report."""
    import copy

    events = schema["properties"]["events"]
    common = {key: value for key, value in events["items"].items() if key != "oneOf"}
    by_type = {
        variant["properties"]["event"]["const"]: validator_class(variant) for variant in events["items"]["oneOf"]
    }
    shell_schema = copy.deepcopy(schema)
    shell_schema["properties"]["events"]["items"] = {}
    shell, common_validator = validator_class(shell_schema), validator_class(common)

    def is_valid(reply: Any) -> bool:
        if not shell.is_valid(reply):
            return False
        for event in reply.get("events") or []:
            if not common_validator.is_valid(event):
                return False
            own = by_type.get(event["event"])
            if own is None or not own.is_valid(event):
                return False
        return True

    return is_valid


# --- patch 2: action_validate_slot_mappings only when the turn carries something for it ------

SKIP_MARKER = "_aftersales_slot_mapping_skip"
ORIGINAL_VALIDATION_ACTION: Optional[Callable] = None


def turn_needs_slot_mapping_action(
    metadata: Optional[Mapping[str, Any]], files_went_to_ticket: Any, customer_id: Any = None
) -> bool:
    """Whether the action server's `action_validate_slot_mappings` (actions/evidence.py) can
    change anything on this turn.

    It only reads the user message's metadata: `attachments` (evidence files) and
    `customer_id` (a shop-verified identity); it resets `files_went_to_ticket` once the files of
    the turn that set it are past, and clears a `customer_id` slot that no valid identity backs
    any more (the token expired). A turn with none of these, and both slots unset, gets an
    empty answer: Rasa can skip the round trip (the domain plus the whole tracker, 35-70 KB)
    and keep the slots it extracted itself, exactly as it does when no such action exists.
    Keep this in step with actions/evidence.py `ValidateSlotMappings`."""
    metadata = metadata or {}
    return bool(metadata.get("attachments") or metadata.get("customer_id") or files_went_to_ticket or customer_id)


def install_slot_mapping_skip() -> bool:
    """Wrap `ActionExtractSlots._execute_validation_action` so the remote call happens only when
    `turn_needs_slot_mapping_action` says so. True when active."""
    global ORIGINAL_VALIDATION_ACTION
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.events import SlotSet

    current = ActionExtractSlots._execute_validation_action
    if getattr(current, SKIP_MARKER, False):
        return True
    if not _rasa_is_pinned("action_validate_slot_mappings runs after every message"):
        return False
    ORIGINAL_VALIDATION_ACTION = original = current

    async def _execute_validation_action(self, extraction_events, output_channel, nlg, tracker, domain):
        if turn_needs_slot_mapping_action(
            tracker.latest_message.metadata, tracker.get_slot("files_went_to_ticket"), tracker.get_slot("customer_id")
        ):
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        # what Rasa 3.6.21 returns when the domain has no action_validate_slot_mappings
        return [event for event in extraction_events if isinstance(event, SlotSet)]

    setattr(_execute_validation_action, SKIP_MARKER, True)
    ActionExtractSlots._execute_validation_action = _execute_validation_action
    logger.info(
        "action_validate_slot_mappings is called only on turns with files or an identity (bot/rasa_patches.py)."
    )
    return True


# --- patch 3: an action the action server cannot run gives the buyer a Chinese message -------

OUTAGE_MARKER = "_aftersales_outage_message"
OUTAGE_RESPONSE = "utter_technical_problem"  # in domain.yml


def install_outage_message() -> bool:
    """Wrap `RemoteAction.run`: when the action server cannot be reached or fails (it is down,
    or its database is), Rasa 3.6 logs the error and goes on with no events, so the buyer gets
    an empty reply. Here the buyer is told `utter_technical_problem` instead, and the turn ends
    (`action_listen`), so one outage is one message. The buyer's message is in the tracker as
    always; the conversation continues once the action server is back. A rejection (400, e.g.
    a form that does not apply) is still raised for Rasa to handle."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_VALIDATE_SLOT_MAPPINGS
    from rasa.shared.core.events import BotUttered, FollowupAction, UserUttered

    current = RemoteAction.run
    if getattr(current, OUTAGE_MARKER, False):
        return True
    if not _rasa_is_pinned("an action-server outage gives an empty reply"):
        return False
    original = current

    async def run(self, output_channel, nlg, tracker, domain):
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:
            if self.name() == ACTION_VALIDATE_SLOT_MAPPINGS:
                logger.error(
                    "Custom action %s failed (%s): this message fills no slots.", self.name(), type(error).__name__
                )
                # only the slots this message could fill are lost; the turn goes on, and an
                # action the buyer is waiting for tells them if the action server is really down
                return []
            logger.error(
                "Custom action %s failed (%s): the buyer is told %s.",
                self.name(),
                type(error).__name__,
                OUTAGE_RESPONSE,
            )
            events = [FollowupAction(ACTION_LISTEN_NAME)]
            message = await nlg.generate(OUTAGE_RESPONSE, tracker, output_channel.name())
            if message and not _told_this_turn(tracker, message.get("text")):
                events.insert(0, create_bot_utterance(message))
            return events

    def _told_this_turn(tracker, text) -> bool:
        # the slot-mapping validation and the predicted action may both fail in one turn
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return False
            if isinstance(event, BotUttered) and event.text == text:
                return True
        return False

    setattr(run, OUTAGE_MARKER, True)
    RemoteAction.run = run
    logger.info("An action-server outage is answered with %s (bot/rasa_patches.py).", OUTAGE_RESPONSE)
    return True


# --- patch 4: the pause on hand-over follows the hand-off row --------------------------------

PAUSE_MARKER = "_aftersales_pause_from_handoff"
HANDOFF_CHECK_SECONDS = 5.0  # a database that does not answer must not hold the turn longer


def latest_handoff(conversation_id: str) -> "tuple[bool, Optional[float]]":
    """(whether a hand-off of the conversation is waiting or claimed, when its latest ended
    hand-off ended as epoch seconds, else None), from the orders database."""
    from sqlalchemy import select

    from bot import bootstrap
    from bot.db.engine import read_alone
    from bot.db.tables import Handoff
    from bot.domain.vocabulary import ACTIVE_HANDOFF_STATUSES

    url = bootstrap.current().settings.database_url  # the process's runtime: schema up to date
    latest = read_alone(  # never waits for a writer's lock
        select(Handoff.status, Handoff.ended_at)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(Handoff.id.desc())
        .limit(1),
        url,
    )
    if not latest:
        return False, None
    status, ended_at = latest[0]
    if status in ACTIVE_HANDOFF_STATUSES:
        return True, None
    return False, ended_at.timestamp() if ended_at else None


def _paused_at(tracker) -> Optional[float]:
    from rasa.shared.core.events import ConversationPaused

    for event in reversed(tracker.events):
        if isinstance(event, ConversationPaused):
            return event.timestamp
    return None


def install_pause_from_handoff() -> bool:
    """Wrap `MessageProcessor._handle_message_with_tracker`, through which every channel's
    message (and the HTTP API's) is logged, so that the tracker's pause agrees with the
    hand-off rows before the message is logged:
    - not paused, but a hand-off is waiting or claimed: `ConversationPaused`. The row is
      committed before the tracker is saved with the pause, so a crash in between, or a
      tracker restored from an older state, left a row without a pause and the bot answered
      over the agent. Paused again, the message is kept for the agent and the paused path
      answers as usual (channels/agent_relay.py `answering_pings`).
    - paused, and the latest hand-off ended after that pause (the agent's hand-back was
      committed, its tracker save lost): `ConversationResumed` and `action_listen`, as the
      relay's hand-back leaves it, and the bot answers the message.
    When the database cannot be read within HANDOFF_CHECK_SECONDS the tracker's state stands.
    The rows are read on a worker thread while the message is parsed on the event loop: the
    parse does not depend on the pause, and the turn no longer waits for one after the other."""
    import asyncio

    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, ConversationPaused, ConversationResumed

    current = MessageProcessor._handle_message_with_tracker
    if getattr(current, PAUSE_MARKER, False):
        return True
    if not _rasa_is_pinned("the hand-over pause lives only in the tracker"):
        return False
    original = current

    async def _handle_message_with_tracker(self, message, tracker):
        handoffs_read = asyncio.get_running_loop().run_in_executor(None, latest_handoff, tracker.sender_id)
        handoffs_read.add_done_callback(lambda read: read.cancelled() or read.exception())  # seen if unused
        if not message.parse_data:  # Rasa's own step, taken first (the original uses what it finds)
            message.parse_data = await self.parse_message(message, tracker)
        try:
            active, ended_at = await asyncio.wait_for(handoffs_read, HANDOFF_CHECK_SECONDS)
        except Exception as error:
            logger.error(
                "Could not read the hand-offs of a conversation (%s): its tracker's pause state stands.",
                type(error).__name__,
            )
            active, ended_at = False, None
        if active and not tracker.is_paused():
            logger.warning("A conversation with an active hand-off was not paused (a lost turn): paused again.")
            tracker.update(ConversationPaused())
        elif (
            not active and tracker.is_paused() and ended_at is not None and ended_at > (_paused_at(tracker) or ended_at)
        ):
            logger.warning("A conversation whose hand-off ended was still paused (a lost hand-back): resumed.")
            tracker.update(ConversationResumed())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        return await original(self, message, tracker)

    setattr(_handle_message_with_tracker, PAUSE_MARKER, True)
    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    logger.info("The hand-over pause follows the hand-off rows (bot/rasa_patches.py).")
    return True


# --- patch 5: an event's class found once per type name ---------------------------------------

EVENT_CLASS_MARKER = "_aftersales_event_class_by_name"


def install_event_class_lookup() -> bool:
    """Replace `Event.resolve_by_type`. Rasa 3.6 walks every subclass of `Event` (about forty,
    recursively) for each event it reads back, so rebuilding a tracker of a hundred events
    walked the class tree a hundred times: a fifth of the tracker store's read time under load
    here. The class found for a type name is kept; a name not found yet (an old `topic` event,
    or a class defined later) goes to Rasa's own lookup every time, so the answer is always
    the one Rasa would give."""
    from rasa.shared.core.events import Event

    current = Event.__dict__["resolve_by_type"].__func__
    if getattr(current, EVENT_CLASS_MARKER, False):
        return True
    if not _rasa_is_pinned("event classes are looked up by walking the class tree"):
        return False
    original = current
    found: Dict[str, Any] = {}

    class NotFound:
        pass

    def resolve_by_type(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, NotFound)
            if cls is None or cls is NotFound:
                return original(type_name, default)
            found[type_name] = cls
        return cls

    setattr(resolve_by_type, EVENT_CLASS_MARKER, True)
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    logger.info("Event classes are looked up once per type name (bot/rasa_patches.py).")
    return True


# --- patch 6: the empty domain built once ------------------------------------------------------

EMPTY_DOMAIN_MARKER = "_aftersales_empty_domain_once"


def install_empty_domain_once() -> bool:
    """Replace `Domain.is_empty`. Rasa 3.6 answers it with `self.as_dict() ==
    Domain.empty().as_dict()`, building a whole empty domain from a dictionary for the
    comparison, and the processor asks it for every parsed message (about 1 % of the Rasa
    process's time under load here). The empty domain's dictionary is the same every time: it is
    built once, by Rasa's own `Domain.empty()`, and every domain is compared with it."""
    from rasa.shared.core.domain import Domain

    empty: Dict[str, Any] = {}

    def is_empty(self) -> bool:
        if not empty:
            empty.update(Domain.empty().as_dict())
        return self.as_dict() == empty

    return (
        replace_pinned(
            Domain,
            "is_empty",
            is_empty,
            marker=EMPTY_DOMAIN_MARKER,
            without_patch="every parse builds an empty domain to compare with",
            installed="The empty domain is built once (bot/rasa_patches.py).",
        )
        is not None
    )


# --- patch 7: the loaded model frozen for the garbage collector -----------------------------------

GC_FREEZE_MARKER = "_aftersales_gc_freeze_on_load"


def install_gc_freeze_on_load() -> bool:
    """Replace `Agent._set_fingerprint`, the first thing `Agent.load_model` does once the model is
    loaded, with one that then collects garbage and freezes every object alive (`gc.freeze()`).

    Why (bot/long_lived.py). The model, Rasa and their libraries are millions of Python objects
    that live as long as the process. Python's full collection walks all of them: 240-270 ms with
    the server standing still, three times in 17 s under load here (16 buyers), each a pause for
    every buyer in flight (the sequential p95 of 110-130 ms against a p50 of 16-42 ms).

    A model loaded later (`PUT /model`) goes through the same call: the previous one is
    unfrozen and collected first, so replacing the model does not keep the old one."""
    from rasa.core.agent import Agent

    original = Agent._set_fingerprint

    def _set_fingerprint(self, fingerprint=None) -> None:
        original(self, fingerprint)
        freeze_long_lived_objects()

    return (
        replace_pinned(
            Agent,
            "_set_fingerprint",
            _set_fingerprint,
            marker=GC_FREEZE_MARKER,
            without_patch="the loaded model is walked by every full garbage collection",
            installed="The loaded model is frozen for the garbage collector (bot/rasa_patches.py).",
        )
        is not None
    )
