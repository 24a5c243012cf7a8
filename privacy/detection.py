"""Detection of personal data: where in a text an e-mail address, phone number, card... is.

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
Loading takes about a second and is done once per process (`privacy.redaction.redactor()`).
Replacing what is found is privacy/redaction.py.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

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


def build_analyzer() -> AnalyzerEngine:
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


def find_personal_data(analyzer: AnalyzerEngine, text: str) -> list[Finding]:
    """The personal data in `text`, overlapping findings merged, in text order."""
    entities = _entities_worth_looking_for(text)
    if not entities:
        return []
    results: list[RecognizerResult] = analyzer.analyze(
        text=text, language="en", entities=entities, score_threshold=SCORE_THRESHOLD
    )
    return _merge(
        [Finding(r.start, r.end, r.entity_type, r.score) for r in results if r.end > r.start]
    )
