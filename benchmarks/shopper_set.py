"""The labelled shopper messages of benchmarks/shoppers.yml: reading, checking, and keeping
them apart from the training data.

The set measures how the bot copes with messages nobody wrote for it, so it is worth only as
long as none of its messages is also a training example: `overlaps()` compares every message
(and every earlier message of a follow-up) with the intent examples of bot/data/*.yml and the
category classifier's written queries, after `normalise()`. The test
(tests/benchmarks/test_shoppers_set.py) and the benchmark (benchmarks/shoppers.py, which refuses
to run) share it, so neither can drift from the other.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from benchmarks.relevance import WHERE_KEYS
from core.paths import PROJECT_ROOT

MESSAGES_FILE: Final = Path(__file__).resolve().parent / "shoppers.yml"
DOMAIN_FILE: Final = PROJECT_ROOT / "bot" / "domain.yml"
TRAINING_DATA: Final = PROJECT_ROOT / "bot" / "data"

MIN_MESSAGES: Final = 400
# Each group and the fewest messages it must have (issue 18's list, and enough per group for a
# share to mean something).
GROUP_MINIMUMS: Final[Mapping[str, int]] = {
    "bare_noun": 40,
    "fragment_slang_typo": 40,
    "named_product": 20,
    "price_phrase": 40,
    "multi_constraint": 40,
    "not_carried": 25,
    "follow_up": 30,
    "promo_code": 20,
    "login_trouble": 20,
    "exchange": 15,
    "order_casual": 25,
    "out_of_scope": 30,
    "descriptive_need": 20,
}
GROUPS: Final = tuple(GROUP_MINIMUMS)
FOLLOW_UP: Final = "follow_up"
# Intents issue 18 adds to the domain; listed here too so the set can be checked (and written)
# before they reach bot/domain.yml.
NEW_INTENTS: Final = frozenset({"promo_code", "login_trouble", "exchange_item"})
SEARCH_PRODUCT: Final = "search_product"
REFINE_SEARCH: Final = "refine_search"
SHOW_MORE: Final = "show_more"
# The intents whose answer is a list of products: only they may carry constraints.
PRODUCT_INTENTS: Final = frozenset({SEARCH_PRODUCT, REFINE_SEARCH, SHOW_MORE})
ITEM_KEYS: Final = frozenset(
    {"text", "group", "intent", "context", "constraints", "nothing_fits", "not_carried",
     "cheapest", "fits"}
)  # fmt: skip
FLAGS: Final = ("nothing_fits", "not_carried", "cheapest")

_APOSTROPHES = re.compile(r"['’`]")
_NOT_WORD = re.compile(r"[\W_]+")


class ShopperSetError(ValueError):
    """The labelled set cannot be used; the message names the item and what is wrong."""


@dataclass(frozen=True)
class ShopperMessage:
    """One labelled message, with the earlier messages of its chat for a follow-up."""

    text: str
    group: str
    intent: str
    context: tuple[str, ...] = ()
    constraints: Mapping[str, Any] = field(default_factory=dict)
    nothing_fits: bool = False
    not_carried: bool = False
    cheapest: bool = False
    fits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def searches(self) -> bool:
        """Whether the bot's answer is a list of products (so shown products are scored)."""
        return self.intent in PRODUCT_INTENTS


@dataclass(frozen=True)
class Overlap:
    """A message of the set that is also a training example (after normalising)."""

    message: str
    group: str
    source: str  # "intent examples" or "category queries"


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped ("what's" = "whats"), every other run of punctuation or
    whitespace one space: two messages equal after this read the same to a classifier."""
    return _NOT_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).strip()


def domain_intents(path: Path = DOMAIN_FILE) -> frozenset[str]:
    """The intents of the bot's domain (names only; an intent may be a mapping in Rasa)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = set()
    for entry in document.get("intents") or []:
        names.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return frozenset(names)


def _where(raw: Any, where_from: str, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise ShopperSetError(f"{where_from}: `{what}` must be a non-empty mapping")
    unknown = set(raw) - WHERE_KEYS
    if unknown:
        raise ShopperSetError(
            f"{where_from}: unknown `{what}` keys {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(WHERE_KEYS))})"
        )
    if "attribute" in raw and not isinstance(raw["attribute"], dict):
        raise ShopperSetError(f"{where_from}: `attribute` must map names to values")
    if "gender" in raw and raw["gender"] not in ("Men", "Women"):
        raise ShopperSetError(f"{where_from}: `gender` must be Men or Women")
    return dict(raw)


def _item(raw: Any, number: int, intents: frozenset[str]) -> ShopperMessage:
    where_from = f"item {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise ShopperSetError(f"{where_from}: needs a `text`")
    where_from += f" ({raw['text']!r})"
    unknown = set(raw) - ITEM_KEYS
    if unknown:
        raise ShopperSetError(f"{where_from}: unknown keys {', '.join(sorted(unknown))}")
    if raw.get("group") not in GROUP_MINIMUMS:
        raise ShopperSetError(f"{where_from}: `group` must be one of {', '.join(GROUPS)}")
    intent = raw.get("intent")
    if intent not in intents:
        raise ShopperSetError(f"{where_from}: `intent` {intent!r} is not an intent of the domain")
    context = raw.get("context") or []
    if not isinstance(context, list) or not all(isinstance(c, str) and c.strip() for c in context):
        raise ShopperSetError(f"{where_from}: `context` must be a list of messages")
    if (raw["group"] == FOLLOW_UP) != bool(context):
        raise ShopperSetError(f"{where_from}: follow-ups, and only they, have a `context`")
    for flag in FLAGS:
        if not isinstance(raw.get(flag, False), bool):
            raise ShopperSetError(f"{where_from}: `{flag}` must be true or false")
    message = ShopperMessage(
        text=raw["text"].strip(),
        group=raw["group"],
        intent=intent,
        context=tuple(c.strip() for c in context),
        constraints=_where(raw["constraints"], where_from, "constraints")
        if "constraints" in raw
        else {},
        nothing_fits=raw.get("nothing_fits", False),
        not_carried=raw.get("not_carried", False),
        cheapest=raw.get("cheapest", False),
        fits=_where(raw["fits"], where_from, "fits") if "fits" in raw else {},
    )
    if not message.searches and (
        message.constraints or message.fits or message.not_carried or message.cheapest
    ):
        raise ShopperSetError(
            f"{where_from}: only product searches ({', '.join(sorted(PRODUCT_INTENTS))}) "
            "carry constraints, fits, not_carried or cheapest"
        )
    if message.nothing_fits and not message.constraints:
        raise ShopperSetError(f"{where_from}: `nothing_fits` needs the constraints that fail")
    if message.not_carried and (message.constraints or message.nothing_fits):
        raise ShopperSetError(f"{where_from}: a not-carried request has no constraints to meet")
    return message


def load_messages(
    path: Path = MESSAGES_FILE, intents: Iterable[str] | None = None
) -> list[ShopperMessage]:
    """Every labelled message, checked item by item against the schema and the domain."""
    known = frozenset(intents) if intents is not None else domain_intents() | NEW_INTENTS
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ShopperSetError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(document, list):
        raise ShopperSetError(f"{path}: expected a list of messages")
    return [_item(raw, number, known) for number, raw in enumerate(document, start=1)]


def shortfalls(messages: Sequence[ShopperMessage]) -> list[str]:
    """What the set lacks: too few messages overall or in a group, or a message twice."""
    problems = []
    if len(messages) < MIN_MESSAGES:
        problems.append(f"{len(messages)} messages, fewer than {MIN_MESSAGES}")
    counts = Counter(m.group for m in messages)
    for group, least in GROUP_MINIMUMS.items():
        if counts[group] < least:
            problems.append(f"group {group}: {counts[group]} messages, fewer than {least}")
    chats = Counter((tuple(normalise(c) for c in m.context), normalise(m.text)) for m in messages)
    problems += [f"{chat[-1]!r} is there twice" for chat, n in chats.items() if n > 1]
    return problems


def training_texts(data_dir: Path = TRAINING_DATA) -> dict[str, frozenset[str]]:
    """The normalised training examples by where they come from: the intent examples of the
    Rasa NLU files (annotations stripped, as the classifier reads them) and the category
    classifier's written shopper queries."""
    from nlu_models.category_data import written_queries
    from nlu_models.data import read_nlu_dir

    return {
        "intent examples": frozenset(normalise(e.text) for e in read_nlu_dir(data_dir)),
        "category queries": frozenset(normalise(e.text) for e in written_queries()),
    }


def overlaps(
    messages: Sequence[ShopperMessage], training: Mapping[str, frozenset[str]] | None = None
) -> list[Overlap]:
    """Every message (or earlier message of a follow-up) that is also a training example."""
    training = training_texts() if training is None else training
    found = []
    for message in messages:
        for text in (*message.context, message.text):
            for source, texts in training.items():
                if normalise(text) in texts:
                    found.append(Overlap(text, message.group, source))
    return found
