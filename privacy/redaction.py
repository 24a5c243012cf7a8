"""Redaction of personal data: in logs, stored transcripts, analytics and training exports.

Shoppers type their e-mail address, phone number and street address into the chat, and now
and then a card number or an IBAN they should not have typed. None of it may reach a log
file, an analytics table or a training-data export, and stored transcripts keep it only when
the shop says so (`SHOPDESK_TRANSCRIPT_PII=keep`; the default is `mask`).

This is the one `redact` of the project: each finding of privacy/detection.py (Presidio and
our own rules) is replaced by a placeholder such as `<EMAIL>`; Rasa events, trackers and
slots are redacted here too, keeping their shape. The log filter is privacy/logs.py.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import BeforeValidator

from core.settings import Section, choice, var
from privacy.detection import ADDRESS, EMAIL, Finding, build_analyzer, find_personal_data

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

# Slots of bot/domain.yml (and entities) whose whole value is personal, whatever it looks
# like: a city or a street without a house number is not caught by any pattern.
PERSONAL_SLOTS: Final[Mapping[str, str]] = {
    "email": EMAIL,
    "verified_customer_email": EMAIL,
    "contact_email": EMAIL,
    "newsletter_email": EMAIL,
    "street": ADDRESS,
    "city": ADDRESS,
    "region": ADDRESS,
    "postcode": ADDRESS,
}
PERSONAL_ENTITIES: Final[Mapping[str, str]] = {"email": EMAIL}

POLICY_ENV = "SHOPDESK_TRANSCRIPT_PII"


@dataclass(frozen=True)
class Replacement:
    """A span of the original text [start, end) and where its placeholder lies in the new one."""

    start: int
    end: int
    new_start: int
    new_end: int
    placeholder: str


@dataclass(frozen=True)
class Redaction:
    """A redacted text and its replacements, to carry offsets (Rasa entities) across."""

    text: str
    replacements: tuple[Replacement, ...]

    def map_start(self, offset: int) -> int:
        """Where an entity starting at `offset` of the original text starts now."""
        shift = 0
        for item in self.replacements:
            if offset < item.start:
                break
            if offset < item.end:
                return item.new_start
            shift = item.new_end - item.end
        return offset + shift

    def map_end(self, offset: int) -> int:
        """Where an entity ending at `offset` (exclusive) of the original text ends now."""
        shift = 0
        for item in self.replacements:
            if offset <= item.start:
                break
            if offset <= item.end:
                return item.new_end
            shift = item.new_end - item.end
        return offset + shift


class Redactor:
    """Finds personal data in text and replaces each piece by a placeholder like `<EMAIL>`.

    Build it once (`redactor()`); it is safe to share between threads.
    """

    def __init__(self, analyzer: AnalyzerEngine | None = None) -> None:
        self._analyzer = analyzer if analyzer is not None else build_analyzer()

    def find(self, text: str) -> list[Finding]:
        """The personal data in `text`, overlapping findings merged, in text order."""
        return find_personal_data(self._analyzer, text)

    def redaction(self, text: str) -> Redaction:
        """The redacted text and where each placeholder went (to move entity offsets)."""
        findings = self.find(text)
        if not findings:
            return Redaction(text, ())
        pieces: list[str] = []
        replacements: list[Replacement] = []
        position = length = 0
        for finding in findings:
            kept = text[position : finding.start]
            pieces.append(kept)
            length += len(kept)
            placeholder = finding.placeholder
            pieces.append(placeholder)
            replacements.append(
                Replacement(
                    finding.start, finding.end, length, length + len(placeholder), placeholder
                )
            )
            length += len(placeholder)
            position = finding.end
        pieces.append(text[position:])
        return Redaction("".join(pieces), tuple(replacements))

    def redact(self, text: str) -> str:
        """`text` with every piece of personal data replaced by its placeholder.

        A text with nothing to replace is returned as it is (the same object).
        """
        return self.redaction(text).text


_redactor: Redactor | None = None
_redactor_lock = threading.Lock()


def redactor() -> Redactor:
    """The process's redactor, built on first use (about a second) and kept."""
    global _redactor
    if _redactor is None:
        with _redactor_lock:
            if _redactor is None:
                _redactor = Redactor()
    return _redactor


def redact(text: str) -> str:
    """`text` with e-mail addresses, phone numbers, cards, addresses... replaced by placeholders."""
    return redactor().redact(text)


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value with every string in it redacted.

    Dicts, lists and tuples are walked; dict keys are kept as they are (they are field names
    in everything this project stores: Rasa events, trackers, analytics rows); numbers,
    booleans and None are returned unchanged.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item) for item in value)
    return value


# --- stored transcripts ---------------------------------------------------------------------


class TranscriptPolicy(StrEnum):
    """What a stored transcript keeps of the personal data in it (SHOPDESK_TRANSCRIPT_PII).

    `mask` (the default) stores placeholders; `keep` stores the conversation as it was, for a
    shop whose agents need to read the address a shopper gave. Logs, analytics and training
    exports are redacted whatever this says.
    """

    MASK = "mask"
    KEEP = "keep"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TranscriptPolicy:
        return TranscriptSettings.from_env(environ).policy


def _policy(value: object) -> str:
    return choice(*TranscriptPolicy)(str(value).strip().lower())


class TranscriptSettings(Section):
    """What stored transcripts keep of personal data (`TranscriptPolicy`)."""

    policy: Annotated[TranscriptPolicy, BeforeValidator(_policy)] = var(
        POLICY_ENV, TranscriptPolicy.MASK
    )


# Keys of a Rasa event whose values are identifiers or model output, never what a person
# typed: they stay exactly as they are (a message id is hex that could read as a card).
_EVENT_KEYS_KEPT = frozenset(
    {
        "event",
        "timestamp",
        "name",
        "policy",
        "confidence",
        "input_channel",
        "message_id",
        "sender_id",
        "action_name",
        "intent",
        "intent_ranking",
        "response_selector",
        "use_text_for_featurization",
        "hide_rule_turn",
        "trigger_message",
    }
)
_TRACKER_KEYS_KEPT = frozenset(
    {
        "latest_event_time",
        "paused",
        "followup_action",
        "active_loop",
        "latest_action",
        "latest_action_name",
        "latest_input_channel",
    }
)
_ENTITY_KEYS_KEPT = frozenset(
    {"entity", "start", "end", "extractor", "confidence_entity", "role", "group", "processors"}
)


def _mask_whole(value: Any, placeholder: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [_mask_whole(item, placeholder) for item in value]
    if isinstance(value, Mapping):
        return {key: _mask_whole(item, placeholder) for key, item in value.items()}
    return placeholder


def _redact_entity(
    entity: Mapping[str, Any], original: str | None, redaction: Redaction | None
) -> dict[str, Any]:
    out = {
        key: value if key in _ENTITY_KEYS_KEPT else redact_value(value)
        for key, value in entity.items()
    }
    start, end = entity.get("start"), entity.get("end")
    if (
        original is not None
        and redaction is not None
        and isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start <= end <= len(original)
    ):
        new_start, new_end = redaction.map_start(start), redaction.map_end(end)
        out["start"], out["end"] = new_start, new_end
        if entity.get("value") == original[start:end]:
            # What a training export reads back as text[start:end], placeholders included.
            out["value"] = redaction.text[new_start:new_end]
    placeholder = PERSONAL_ENTITIES.get(str(entity.get("entity", "")))
    if placeholder is not None and "value" in entity:
        out["value"] = _mask_whole(entity["value"], placeholder)
    return out


def _redact_entities(entities: Any, original: str | None, redaction: Redaction | None) -> Any:
    if not isinstance(entities, list):
        return redact_value(entities)
    return [
        _redact_entity(entity, original, redaction) if isinstance(entity, Mapping) else entity
        for entity in entities
    ]


def _redact_parse_data(
    parse_data: Mapping[str, Any], text: str | None, redaction: Redaction | None
) -> dict[str, Any]:
    own_text = parse_data.get("text")
    if isinstance(own_text, str) and own_text != text:
        text, redaction = own_text, redactor().redaction(own_text)
    out: dict[str, Any] = {}
    for key, value in parse_data.items():
        if key == "text" and isinstance(value, str) and redaction is not None:
            out[key] = redaction.text
        elif key == "entities":
            out[key] = _redact_entities(value, text, redaction)
        elif key in _EVENT_KEYS_KEPT:
            out[key] = copy.deepcopy(value)
        else:
            out[key] = redact_value(value)
    return out


def redact_slot(name: str, value: Any) -> Any:
    """A slot's value as stored: wholly masked for the personal slots, else redacted."""
    placeholder = PERSONAL_SLOTS.get(name)
    if placeholder is not None:
        return _mask_whole(value, placeholder)
    return redact_value(value)


def redact_event(
    event: Mapping[str, Any], policy: TranscriptPolicy = TranscriptPolicy.MASK
) -> dict[str, Any]:
    """A copy of one Rasa tracker event, its personal data masked unless the policy keeps it.

    The structure stays as Rasa wrote it (same keys, same event type, intents untouched) so
    the tracker can still be replayed. Redacted: the user's and the bot's text, the parse
    data's text and entity values (their start and end move with the placeholders, so a
    training export still lines up), slot values (the slots holding an e-mail address or a
    piece of the postal address are masked whole), the bot's buttons and other data, and
    metadata.
    """
    if policy is TranscriptPolicy.KEEP:
        return copy.deepcopy(dict(event))
    text = event.get("text")
    redaction = redactor().redaction(text) if isinstance(text, str) else None
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key == "text" and redaction is not None:
            out[key] = redaction.text
        elif key == "parse_data" and isinstance(value, Mapping):
            out[key] = _redact_parse_data(value, text if isinstance(text, str) else None, redaction)
        elif key == "entities":
            out[key] = _redact_entities(value, None, None)
        elif key == "value" and event.get("event") == "slot":
            out[key] = redact_slot(str(event.get("name", "")), value)
        elif key in _EVENT_KEYS_KEPT:
            out[key] = copy.deepcopy(value)
        else:
            out[key] = redact_value(value)
    return out


def redact_tracker(
    tracker: Mapping[str, Any], policy: TranscriptPolicy = TranscriptPolicy.MASK
) -> dict[str, Any]:
    """A copy of a Rasa tracker as its HTTP API returns it (events, slots, latest message)."""
    if policy is TranscriptPolicy.KEEP:
        return copy.deepcopy(dict(tracker))
    out: dict[str, Any] = {}
    for key, value in tracker.items():
        if key == "events" and isinstance(value, list):
            out[key] = [
                redact_event(event, policy) if isinstance(event, Mapping) else event
                for event in value
            ]
        elif key == "slots" and isinstance(value, Mapping):
            out[key] = {name: redact_slot(name, slot) for name, slot in value.items()}
        elif key == "latest_message" and isinstance(value, Mapping):
            out[key] = _redact_parse_data(value, None, None)
        elif key in _EVENT_KEYS_KEPT or key in _TRACKER_KEYS_KEPT:
            out[key] = copy.deepcopy(value)
        else:
            out[key] = redact_value(value)
    return out
