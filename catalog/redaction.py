"""Redaction of personal data: in logs, stored transcripts, analytics and training exports.

Shoppers type their e-mail address, phone number and street address into the chat, and now
and then a card number or an IBAN they should not have typed. None of it may reach a log
file, an analytics table or a training-data export, and stored transcripts keep it only when
the shop says so (`SHOPDESK_TRANSCRIPT_PII=keep`; the default is `mask`).

Detection is Microsoft Presidio's analyzer with rule recognizers only: e-mail addresses,
phone numbers (Google's phonenumbers), card numbers (Luhn-checked), IBANs (checksum), IP
addresses, US social security numbers, and our own pattern for street addresses as shoppers
of this (US) shop type them. Each finding is replaced by a placeholder such as `<EMAIL>`.
Order numbers (000000101), prices, SKUs and product names are left alone: they are not
personal, and the bot, the agents and the analytics need them.

Nothing is downloaded, ever: Presidio's spaCy engine gets a blank English pipeline built in
memory (a tokenizer, no trained model), so it never reaches for `spacy download`; e-mail
domains are checked against the public-suffix list bundled with tldextract, never fetched.
Loading takes about a second and is done once per process (`redactor()`).
"""

from __future__ import annotations

import copy
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

# --- what is redacted, and what it reads as ------------------------------------------------

EMAIL = "<EMAIL>"
PHONE = "<PHONE>"
CARD = "<CARD>"
ADDRESS = "<ADDRESS>"
IBAN = "<IBAN>"
IP = "<IP>"
SSN = "<SSN>"

# Presidio's entity type (and our STREET_ADDRESS) -> the placeholder that replaces it.
PLACEHOLDERS: Final[Mapping[str, str]] = {
    "EMAIL_ADDRESS": EMAIL,
    "PHONE_NUMBER": PHONE,
    "CREDIT_CARD": CARD,
    "STREET_ADDRESS": ADDRESS,
    "IBAN_CODE": IBAN,
    "IP_ADDRESS": IP,
    "US_SSN": SSN,
}

# A finding needs at least this score. Every recognizer used here scores a plain match at
# 0.4 or more (phone numbers 0.4; cards, IBANs and e-mail addresses 1.0 once their checksum
# or domain is verified), except Presidio's weakest US SSN shapes (a bare 9-digit number,
# 0.05): those pass only with a context word such as "ssn" nearby, so an order number never
# reads as a social security number.
SCORE_THRESHOLD = 0.4

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

# Numbers written the way these countries write them at home are recognised; a number with
# its country code (+81 ...) is recognised whatever its country. Presidio's default regions
# less Canada, which shares the US numbering plan (a Canadian number is valid in "US"):
# each region is one more pass of the phone matcher, the dearest part of a redaction.
PHONE_REGIONS: Final = ("US", "GB", "DE", "FR", "IL", "IN", "BR")

# --- street addresses, US style -------------------------------------------------------------
#
# "6146 Honey Bluff Parkway", "350 Fifth Avenue, Apt 4B", "12 main st", "1600 Pennsylvania
# Avenue NW, Washington, DC 20500": a house number, one to four words, a street suffix, then
# maybe a unit and maybe ", City, ST 12345". The suffixes that are ordinary English words
# ("on the way", "at the court") count only when capitalised. The words before the suffix may
# not be little words ("2 pairs on the street"), and a suffix followed by a garment or a bag is
# a product ("2 Mach Street Sweatshirts", "Kenobi Trail Jacket" are in the Luma catalogue).

_SUFFIX_WORDS = "street|avenue|road|boulevard|lane|drive|parkway|highway|expressway|freeway"
_SUFFIX_ABBREVIATIONS = "st|ave|rd|blvd|ln|dr|pkwy|hwy|ct|pl|ter|cir|sq|trl|expy|fwy"
_SUFFIX_CAPITALISED = "way|court|place|terrace|circle|square|trail|plaza|alley|crescent|row|walk"
_LITTLE_WORDS = (
    "a|an|the|on|in|at|to|of|for|and|or|my|your|our|his|her|their|by|from|with|down|up|per"
    "|is|are|was|were|this|that|these|those|it|all|more|than|x|pcs|items?|pairs?"
)
_PRODUCT_NOUNS = (
    "jackets?|sweatshirts?|hoodies?|tees?|t-shirts?|shirts?|tops?|tanks?|bras?|pants?"
    "|shorts?|leggings?|tights?|capris?|joggers?|sweaters?|pullovers?|coats?|vests?|parkas?"
    "|bags?|backpacks?|duffles?|packs?|totes?|watch(?:es)?|bottles?|balls?|bands?|straps?"
    "|mats?|kits?|shoes?|sneakers?|socks?|hats?|caps?|gloves?|trainers?|skirts?|dress(?:es)?"
)
_HOUSE_NUMBER = r"(?<![\w.,$€£#/-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?"
_NAME_WORD = rf"(?!(?i:{_LITTLE_WORDS})\b)(?:[A-Za-z][A-Za-z'.-]*|\d{{1,3}}(?i:st|nd|rd|th))"
_SUFFIX = (
    rf"(?:(?i:{_SUFFIX_WORDS})\b|(?i:{_SUFFIX_ABBREVIATIONS})\b\.?"
    rf"|(?=[A-Z])(?i:{_SUFFIX_CAPITALISED})\b)"
)
_DIRECTION = r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
_UNIT = (
    r"(?:,?\s*(?:(?i:apt|apartment|suite|ste|unit|room|rm|floor|fl|bldg|building)\.?\s*#?\s*"
    r"|#\s*)[A-Za-z0-9-]{1,6}\b)?"
)
_CITY = r"[A-Za-z][A-Za-z.'-]*(?:\s+[A-Za-z][A-Za-z.'-]*){0,2}"
_ZIP = r"\d{5}(?:-\d{4})?"
# ", City, ST", ", City, ST 12345" or ", city, State Name 12345": a state code alone needs
# capitals, a state's name needs its ZIP code (else ", Boston, Please..." would be a town).
_STATE = rf"(?:[A-Z]{{2}}\b(?:\s+{_ZIP})?|[A-Za-z]+(?:\s+[A-Za-z]+)?\s+{_ZIP})"
_TOWN = rf"(?:,\s*{_CITY},?\s+{_STATE})?"
STREET_ADDRESS_PATTERN: Final = (
    rf"{_HOUSE_NUMBER}\s+(?:{_NAME_WORD}\s+){{1,4}}{_SUFFIX}{_DIRECTION}"
    rf"(?!\s+(?i:{_PRODUCT_NOUNS})\b){_UNIT}{_TOWN}"
)
PO_BOX_PATTERN: Final = r"\b(?i:p\.?\s?o\.?\s*box|post\s+office\s+box)\s+\d{1,8}\b"

# --- cheap gates: which recognizers can possibly find something in a text ------------------
#
# Presidio costs a few hundred microseconds a text; most log lines and most chat messages
# hold nothing personal, and these regular expressions say so in a microsecond or two. Each
# gate is looser than what it guards, so a closed gate never hides a finding: a phone number
# has at least 5 digits (even a German one), split at most by a few spaces, dashes, dots or
# brackets; cards, IBANs and SSNs have more; an IPv4 address has 4 dotted numbers and IPv6
# two colons close together. Letters between digits (a hex session id) do not open it.

_DIGITS_GATE = re.compile(r"\d(?:\W{0,3}\d){4}")
_IP_GATE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")
_ADDRESS_GATE = re.compile(f"{STREET_ADDRESS_PATTERN}|{PO_BOX_PATTERN}", re.MULTILINE)
_NUMBER_ENTITIES = ("PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN")


def _entities_worth_looking_for(text: str) -> list[str]:
    entities: list[str] = []
    if "@" in text:
        entities.append("EMAIL_ADDRESS")
    if _DIGITS_GATE.search(text):
        entities.extend(_NUMBER_ENTITIES)
    if _IP_GATE.search(text):
        entities.append("IP_ADDRESS")
    if _ADDRESS_GATE.search(text):
        entities.append("STREET_ADDRESS")
    return entities


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: where it is in the text, what it is, how sure Presidio is."""

    start: int
    end: int
    entity_type: str
    score: float

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS.get(self.entity_type, "<PII>")


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


def _merge(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span covering all of them, named after the surest.

    A phone number inside an address, or a card number that also reads as a phone number:
    every character any recognizer flagged is replaced, and exactly once.
    """
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            surest = max((last, finding), key=lambda f: (f.score, f.end - f.start, f is last))
            merged[-1] = Finding(
                last.start, max(last.end, finding.end), surest.entity_type, surest.score
            )
        else:
            merged.append(finding)
    return merged


# --- Presidio, loaded once, offline -------------------------------------------------------

_LEMMA_COMPONENT = "shopdesk_lowercase_lemma"
_BLOCKED_WHILE_IMPORTING = ("torch", "transformers")


@contextmanager
def _without_torch() -> Iterator[None]:
    """Import spaCy and Presidio as if torch and transformers were not installed.

    Both are in this venv (the classifier needs them), and spaCy's thinc and Presidio's
    transformers engine import them when they can: 4 to 5 more seconds and about 300 MiB
    more memory in every process that redacts a log line, for features a rule-based
    redactor never uses. A module already imported is left as it is. This runs once, when
    the redactor loads (`install_log_redaction` does it at start-up, before threads).
    """
    blocked = [name for name in _BLOCKED_WHILE_IMPORTING if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


def _build_analyzer() -> AnalyzerEngine:
    """Presidio's analyzer with rule recognizers only and a blank spaCy pipeline.

    The spaCy pipeline is `spacy.blank("en")` plus one component that sets each token's
    lemma to its lower-case text: that is all Presidio's context enhancer reads (so "my ssn
    is 078..." still counts the word "ssn"), and it needs no trained model, so there is
    nothing to download and nothing on disk.
    """
    with _without_torch():
        import spacy
        import tldextract
        from presidio_analyzer import (
            AnalyzerEngine,
            Pattern,
            PatternRecognizer,
            RecognizerRegistry,
        )
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )
        from spacy.language import Language
        from spacy.tokens import Doc

    # Presidio logs at debug level with the text it analyses; never let that through.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)

    if not Language.has_factory(_LEMMA_COMPONENT):

        @Language.component(_LEMMA_COMPONENT)
        def lowercase_lemma(doc: Doc) -> Doc:
            for token in doc:
                token.lemma_ = token.lower_
            return doc

    class BlankSpacyEngine(SpacyNlpEngine):
        """Presidio's spaCy engine on a tokenizer alone: no model to load or download."""

        def load(self) -> None:
            nlp = spacy.blank("en")
            nlp.add_pipe(_LEMMA_COMPONENT)
            nlp.max_length = 10_000_000  # a tokenizer only: long tracebacks are fine
            self.nlp = {"en": nlp}  # type: ignore[assignment]  # typed None before load()

    # tldextract's module-level extractor fetches the public-suffix list from the internet
    # the first time it runs; this one reads the copy bundled with the package, only.
    offline_suffixes = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recognizer, checking the domain without any network."""

        def validate_result(self, pattern_text: str) -> bool:
            return bool(offline_suffixes(pattern_text).fqdn)

    street_addresses = PatternRecognizer(
        supported_entity="STREET_ADDRESS",
        name="ShopDeskStreetAddressRecognizer",
        patterns=[
            Pattern("US street address", STREET_ADDRESS_PATTERN, 0.6),
            Pattern("PO box", PO_BOX_PATTERN, 0.6),
        ],
        context=["address", "street", "ship", "deliver", "live"],
        # Case matters here (see the suffixes above); the pattern turns it off where it can.
        global_regex_flags=re.MULTILINE,
    )
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        OfflineEmailRecognizer(),
        PhoneRecognizer(supported_regions=PHONE_REGIONS),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        street_addresses,
    ):
        registry.add_recognizer(recognizer)
    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}])
    engine.load()
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=engine,
        supported_languages=["en"],
        default_score_threshold=SCORE_THRESHOLD,
    )


class Redactor:
    """Finds personal data in text and replaces each piece by a placeholder like `<EMAIL>`.

    Build it once (`redactor()`); it is safe to share between threads.
    """

    def __init__(self, analyzer: AnalyzerEngine | None = None) -> None:
        self._analyzer = analyzer if analyzer is not None else _build_analyzer()

    def find(self, text: str) -> list[Finding]:
        """The personal data in `text`, overlapping findings merged, in text order."""
        entities = _entities_worth_looking_for(text)
        if not entities:
            return []
        results: list[RecognizerResult] = self._analyzer.analyze(
            text=text, language="en", entities=entities, score_threshold=SCORE_THRESHOLD
        )
        return _merge(
            [Finding(r.start, r.end, r.entity_type, r.score) for r in results if r.end > r.start]
        )

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
        env = os.environ if environ is None else environ
        raw = env.get(POLICY_ENV, "").strip()
        if not raw:
            return cls.MASK
        try:
            return cls(raw.lower())
        except ValueError:
            choices = " or ".join(repr(p.value) for p in cls)
            raise ValueError(f"{POLICY_ENV} must be {choices}, not {raw!r}") from None


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


# --- logs -----------------------------------------------------------------------------------

# What every LogRecord has; anything else on a record came from `extra=` and is redacted too
# (a JSON formatter writes it out).
_STANDARD_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class RedactingFilter(logging.Filter):
    """Redacts each log record's final message, exception and stack text, and `extra` values.

    Attach it to handlers, not loggers: a logger's filters see only the records logged on
    that very logger, a handler's see every record that reaches it. The record is changed
    in place (its message is formatted once, here, with its arguments), so every handler
    after this one writes the redacted text. It never drops a record and never raises: if
    redaction itself fails, the message is withheld rather than written unredacted.
    """

    def __init__(self, redactor_factory: Callable[[], Redactor] = redactor) -> None:
        super().__init__()
        self._redactor_factory = redactor_factory
        self._done: weakref.WeakSet[logging.LogRecord] = weakref.WeakSet()
        self._busy = threading.local()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record in self._done:
            return True
        if getattr(self._busy, "active", False):
            # Logged by the redaction machinery itself (spaCy, Presidio) while redacting
            # another record: it may quote the text being redacted, so it is not written.
            return False
        self._busy.active = True
        try:
            self._redact_record(record, self._redactor_factory())
        except Exception as error:  # a log call must never fail because of this filter
            record.msg = f"[log message withheld: redaction failed ({type(error).__name__})]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        finally:
            self._busy.active = False
        self._done.add(record)
        return True

    def _redact_record(self, record: logging.LogRecord, redactor: Redactor) -> None:
        record.msg = redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.redact(record.exc_text)
            # The formatter writes exc_text as it is; without exc_info no handler can format
            # the exception again from the original, unredacted, exception object.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redactor.redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name in _STANDARD_RECORD_ATTRIBUTES or name.startswith("_"):
                continue
            if isinstance(value, str | Mapping | list | tuple):
                setattr(record, name, redact_value(value))


_log_filter: RedactingFilter | None = None


def install_log_redaction(*logger_names: str) -> int:
    """Attaches one RedactingFilter to the root logger's handlers (and to those named).

    Loggers that keep their own handlers and do not propagate, such as uvicorn's access log,
    are covered by naming them: `install_log_redaction("uvicorn", "uvicorn.access")`. The
    handler Python falls back to when none is configured (`logging.lastResort`) is covered
    too. Call it after logging is configured: a handler added later has no filter. Loads the
    redactor now, so the first log line is not the one that waits for it. Calling it again
    adds nothing twice; returns how many handlers got the filter this time.
    """
    global _log_filter
    redactor()
    if _log_filter is None:
        _log_filter = RedactingFilter()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logger_names)]
    handlers: list[logging.Handler] = [h for logger in loggers for h in logger.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    attached = 0
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(_log_filter)
            attached += 1
    return attached
