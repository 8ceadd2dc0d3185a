"""Reads the buyer's next message against the decision just stated.

A policy rather than rules because the meaning lies in the words and the decision together, not in
the intent: "不接受，东西都没拆过凭什么不能退" is an objection (a person takes over), not a new return
request; "好的谢谢" ends the case; an address answers the address change; a corrected order number
reruns the same case. The reading itself is plain Python (bot/nlu/reaction.py). The policy abstains
when the dialogue rules should answer (questions, a person asked for, a remedy being picked).
"""

from __future__ import annotations

from typing import Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.answers import remedy_choice_in
from bot.nlu.reaction import DecisionContext, Reaction, classify_reaction
from bot.nlu.upset import assess_mood
from bot.rasa_policies.base import OneActionPolicy

AFTER_DECISION = "decision_feedback"
CHOOSING_REMEDY = "remedy_choice"
ACTION_FOR_REACTION = {
    Reaction.OBJECTION: "action_handoff",
    Reaction.PERSON: "action_handoff",
    Reaction.ACKNOWLEDGEMENT: "action_acknowledge_decision",
    Reaction.NEW_ADDRESS: "action_take_new_address",
    Reaction.ORDER_CORRECTION: "action_start_task",
    Reaction.NEW_TASK: "action_start_task",
}
# while a remedy is being picked, "好的" or a remedy's name is the pick: the rules answer those
LEFT_TO_THE_RULES_WHILE_CHOOSING = {Reaction.ACKNOWLEDGEMENT, Reaction.REMARK, Reaction.OTHER}
FACT_ENTITIES = {"item_condition", "product", "remedy"}
ANSWERS_KEEPING_THE_ORDER = {Reaction.ACKNOWLEDGEMENT, Reaction.REMARK, Reaction.OBJECTION}
# a remedy picked in words needs no more reading: a new order number or a person asked for still wins
CHOICE_GIVES_WAY_TO = {Reaction.PERSON, Reaction.ORDER_CORRECTION}
ANSWERS_THAT_END_THE_TURN = {
    "action_choose_remedy",
    "action_acknowledge_decision",
    "action_take_new_address",
    "action_add_remark",
    "action_confirm_order",
}


def decision_context(tracker: DialogueStateTracker) -> Optional[DecisionContext]:
    decision = tracker.get_slot("last_decision")
    if not isinstance(decision, dict):
        return None
    return DecisionContext(
        decided_order=decision.get("order"),
        decided_sub_issues=tuple(decision.get("sub_issues") or ()),
        wants_address=bool(decision.get("wants_address")),
        leaves_work=bool(decision.get("ticket")),
        expects_order_correction=bool(decision.get("expects_order_correction")),
        rejected=bool(decision.get("rejected")),
    )


def reaction_to_decision(tracker: DialogueStateTracker) -> Optional[Reaction]:
    """How the latest message bears on the decision stated before it; None when no decision waits."""
    awaiting = tracker.get_slot("awaiting_reply")
    context = decision_context(tracker)
    if awaiting not in (AFTER_DECISION, CHOOSING_REMEDY) or context is None or tracker.latest_message is None:
        return None
    message = tracker.latest_message
    entities = message.entities or []
    return classify_reaction(
        message.text or "",
        intent=(message.intent or {}).get("name"),
        order_numbers=[e.get("value") for e in entities if e.get("entity") == "order_number"],
        sub_issues=[e.get("value") for e in entities if e.get("entity") == "sub_issue"],
        facts=[e.get("entity") for e in entities if e.get("entity") in FACT_ENTITIES],
        context=context,
        displeased=assess_mood(message.text or "").score > 0,
    )


def action_for(tracker: DialogueStateTracker) -> Optional[Text]:
    if tracker.active_loop_name:
        return None
    if tracker.latest_action_name in ANSWERS_THAT_END_THE_TURN:
        return ACTION_LISTEN_NAME
    if tracker.latest_action_name != ACTION_LISTEN_NAME:
        return None
    if tracker.get_slot("files_went_to_ticket"):
        return None  # photos for the ticket: the rules file them whatever the caption says
    reaction = reaction_to_decision(tracker)
    if reaction is None:
        return None
    if tracker.get_slot("awaiting_reply") == CHOOSING_REMEDY:
        if (
            picks_an_offered_remedy(tracker)
            and reaction not in CHOICE_GIVES_WAY_TO
            and not names_another_order(tracker)
        ):
            # "算了，还是直接退钱吧" / "那就退货退款吧，运费你们出吧？": a pick in words, whatever the
            # intent reads (a return request, a question, a service complaint) or other words name
            return "action_choose_remedy"
        if reaction in LEFT_TO_THE_RULES_WHILE_CHOOSING:
            return None
    context = decision_context(tracker)
    if context is not None and context.expects_order_correction and reaction in ANSWERS_KEEPING_THE_ORDER:
        return "action_confirm_order"  # "是的，就是这单" or anything but another number: decide on it
    if reaction is Reaction.REMARK:
        return "action_add_remark"  # onto the ticket; after a "no", a person is offered again
    return ACTION_FOR_REACTION.get(reaction)


def picks_an_offered_remedy(tracker: DialogueStateTracker) -> bool:
    message = tracker.latest_message
    if message is None or (message.intent or {}).get("name") == "request_human":
        return False
    return remedy_choice_in(message.text or "", tracker.get_slot("offered_remedies") or []) is not None


def names_another_order(tracker: DialogueStateTracker) -> bool:
    context = decision_context(tracker)
    entities = tracker.latest_message.entities if tracker.latest_message is not None else []
    numbers = [e.get("value") for e in entities or [] if e.get("entity") == "order_number"]
    return any(number != (context.decided_order if context else None) for number in numbers)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class AfterDecisionPolicy(OneActionPolicy):
    priority = 7  # above the RulePolicy: an objection must not be taken for a new return request

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        return action_for(tracker)
