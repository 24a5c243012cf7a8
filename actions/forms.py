"""What every form of the bot shares: free-text answers that do not swallow a change of topic.

A form asks a question and the shopper may answer it, or ask something else ("actually, how
long does delivery take?"). A free-text slot accepts the message unless the classifier is
confident it is another request; then the slot stays empty, Rasa's form rejects the turn, the
other request is answered (rules.yml) and the form asks its question again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog_access import UNAVAILABLE_RESPONSE
from actions.contract import Entity, Intent

# Rasa's own names, not the domain's: the intent of a message the classifier was unsure of,
# and the slot a form keeps its current question in.
NLU_FALLBACK: Final = "nlu_fallback"
REQUESTED_SLOT: Final = "requested_slot"
# Messages that can answer a question of a form: their intent does not mean a new request.
# `classifier_unavailable`: with the classifier down, a form can still take a typed answer.
ANSWER_INTENTS: Final = frozenset(
    {
        Intent.INFORM,
        Intent.AFFIRM,
        NLU_FALLBACK,
        Intent.OUT_OF_SCOPE,
        Intent.THANKS,
        Intent.COMPLAINT,
        Intent.REVIEW,
        Intent.CLASSIFIER_UNAVAILABLE,
    }
)
TOPIC_CONFIDENCE: Final = 0.8
ActionClass = TypeVar("ActionClass", bound=type[Action])
MAX_FREE_TEXT: Final = 1000


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def changes_topic(tracker: Tracker, own_intents: frozenset[str] = frozenset()) -> bool:
    """True when the latest message is confidently another request than an answer."""
    name, confidence = latest_intent(tracker)
    if name is None or name in ANSWER_INTENTS or name in own_intents:
        return False
    return confidence >= TOPIC_CONFIDENCE


def latest_text(tracker: Tracker) -> str:
    return " ".join(str(tracker.latest_message.get("text") or "").split())


def is_asked(tracker: Tracker, slot: str) -> bool:
    """Only the slot the form just asked for takes free text."""
    return bool(tracker.get_slot(REQUESTED_SLOT) == slot)


def free_text(
    tracker: Tracker,
    slot: str,
    own_intents: frozenset[str] = frozenset(),
    narrative: bool = False,
) -> str | None:
    """The shopper's message as the answer to `slot`, or None if it is not one.

    A `narrative` slot (what happened, a review) takes statements whatever their intent: "my
    parcel came two weeks late" reads like tracking but answers "what happened?". Only a
    question there ("how long does delivery take?") changes the topic.
    """
    text = latest_text(tracker)
    if not is_asked(tracker, slot):
        return None
    intent, confidence = latest_intent(tracker)
    if intent == Intent.DENY and (confidence >= TOPIC_CONFIDENCE or not narrative):
        # "never mind": rules.yml stops the form. A narrative ("no longer needed") may read
        # as a weak "no"; a street or a city never does.
        return None
    if changes_topic(tracker, own_intents) and (not narrative or text.endswith("?")):
        return None
    if not text or text.startswith("/"):
        return None
    return text[:MAX_FREE_TEXT]


def entity_value(tracker: Tracker, name: Entity) -> Any:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


def conversation_id(tracker: Tracker) -> str:
    return str(tracker.sender_id)


def leave_form(tracker: Tracker) -> list[dict[str, Any]]:
    """Events that end the active form, if any: its question is no longer waiting.

    Rasa's RulePolicy returns to an active form after any other answer, so a shopper who
    searched in the middle of tracking an order would be asked for the order number again
    after every search. A shopping request means the shopper moved on.
    """
    if not (tracker.active_loop or {}).get("name"):
        return []
    return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]


def leaves_form(cls: ActionClass) -> ActionClass:
    """Class decorator: the action's answer also ends any active form (`leave_form`), unless
    it could not be given because the catalog is down."""
    answer: Callable[..., list[dict[str, Any]]] = cls.run

    def run(
        self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = answer(self, dispatcher, tracker, domain)
        if any(m.get("response") == UNAVAILABLE_RESPONSE for m in dispatcher.messages):
            # the catalog is down and nothing was answered: the task in hand goes on when
            # it is back, so the form stays
            return events
        return [*leave_form(tracker), *events]

    run.__doc__ = answer.__doc__
    cls.run = run
    return cls
