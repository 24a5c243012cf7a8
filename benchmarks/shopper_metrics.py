"""The shopper benchmark's arithmetic: what the bot did with each message, scored.

Kept apart from running the classifier and the finder (benchmarks/shoppers.py) so every figure
can be tested on hand-made outcomes, without a trained model.

- intent_accuracy: the share of messages whose effective intent (after actions/routing.py) is
  the labelled one.
- constraint_precision_at_5: of the products shown (at most five) for searches with stated
  constraints that some product meets, the share meeting every one of them (pooled).
- silent_violations: products shown that break a hard constraint (HARD_KEYS: category, gender,
  colour, size, price) without a `misses` label saying so. Must be 0: a shopper can only trust
  a list that never hides a broken constraint. (A product that breaks only a named feature or
  a word of the name counts against precision, not here.)
- not_carried_handled: the share of requests for things the shop does not sell that the finder
  called not carried; wrongly_not_carried: the share of carried searches it called so.
- cheapest_first: for "cheapest ...", the share whose first product is the cheapest that fits.
- fit_precision_at_5: for descriptive needs with a `fits` judgement, the share of shown
  products that fit the need.
- empty_answers: searches that something in the shop fits where nothing was shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypedDict

from benchmarks.relevance import ProductFacts, matches
from benchmarks.shopper_set import GROUPS, ShopperMessage

TOP_K: Final = 5
# What a shopper states that search must never break without saying so (issue 18, item 3).
HARD_KEYS: Final = frozenset({"category", "gender", "color", "size", "price_min", "price_max"})

# Kinds of bad case, worst first: the order of the report's list.
SILENT_VIOLATION: Final = "silent violation"
NOT_CARRIED_MISSED: Final = "not carried, not said"
WRONG_INTENT: Final = "wrong intent"
WRONGLY_NOT_CARRIED: Final = "carried, called not carried"
EMPTY_ANSWER: Final = "nothing shown"
MISMATCH: Final = "shown, does not fit"
NOT_CHEAPEST: Final = "cheapest not first"
CASE_ORDER: Final = (
    SILENT_VIOLATION,
    NOT_CARRIED_MISSED,
    WRONG_INTENT,
    WRONGLY_NOT_CARRIED,
    EMPTY_ANSWER,
    MISMATCH,
    NOT_CHEAPEST,
)


@dataclass(frozen=True)
class Shown:
    """A product the bot showed, with the labels of what it breaks (empty: shown as fitting)."""

    sku: str
    misses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What the bot did with one message (the last of a follow-up's chat)."""

    message: ShopperMessage
    intent: str | None  # what the bot acts on: the classifier's, through effective_intent
    classified: str | None = None  # the classifier's own intent
    confidence: float = 0.0
    searched: bool = False  # whether the finder was asked (the label is a product search)
    shown: tuple[Shown, ...] = ()
    not_carried: str | None = None  # the finder's "the shop does not carry ..."


@dataclass(frozen=True)
class Scored:
    """One outcome's figures; None where a figure does not apply to the message."""

    outcome: Outcome
    intent_ok: bool
    scored_products: int  # shown products counted in constraint precision
    fitting_products: int
    silent: tuple[tuple[str, tuple[str, ...]], ...]  # (sku, broken keys)
    # Shown, not fitting, not silent: (sku, broken keys, the finder's labels)
    labelled: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    not_carried_ok: bool | None
    wrongly_not_carried: bool | None
    cheapest_ok: bool | None
    fit_shown: int
    fit_products: int
    empty: bool


class Figures(TypedDict):
    """The figures of a group (or of all messages) in shoppers.json."""

    messages: int
    intent_accuracy: float | None
    constraint_searches: int
    products_scored: int
    constraint_precision_at_5: float | None
    silent_violations: int
    not_carried_messages: int
    not_carried_handled: float | None
    carried_searches: int
    wrongly_not_carried: float | None
    cheapest_messages: int
    cheapest_first: float | None
    fit_products_scored: int
    fit_precision_at_5: float | None
    empty_answers: int


class Case(TypedDict):
    """One bad case for the report: a wrong intent or a product that breaks what was asked."""

    kind: str
    group: str
    text: str
    context: list[str]
    expected: str
    got: str
    product: str
    broken: list[str]
    labels: list[str]


def broken_constraints(product: ProductFacts, constraints: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of `constraints` the product breaks (each judged alone), in the label's order."""
    return tuple(key for key, value in constraints.items() if not matches(product, {key: value}))


def score(outcome: Outcome, facts: Mapping[str, ProductFacts]) -> Scored:
    """The figures of one outcome, judged with the catalog's facts by SKU."""
    message = outcome.message
    shown = outcome.shown[:TOP_K]
    judged = [(item, facts.get(item.sku)) for item in shown]
    constraints = message.constraints
    scorable = (
        outcome.searched
        and bool(constraints)
        and not message.nothing_fits
        and not message.not_carried
    )
    fitting = 0
    silent: list[tuple[str, tuple[str, ...]]] = []
    labelled: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for item, product in judged:
        broken = broken_constraints(product, constraints) if product else ("unknown product",)
        if not broken:
            fitting += 1
        elif not item.misses and HARD_KEYS.intersection(broken) and outcome.not_carried is None:
            silent.append((item.sku, broken))
        else:  # labelled as a close match, or off only in a feature or a word of the name
            labelled.append((item.sku, broken, item.misses))
    cheapest_ok: bool | None = None
    if outcome.searched and message.cheapest and shown:
        prices = [p.price_cents for p in facts.values() if matches(p, constraints)]
        first = facts.get(shown[0].sku)
        cheapest_ok = bool(prices) and first is not None and first.price_cents == min(prices)
    elif outcome.searched and message.cheapest:
        cheapest_ok = False
    fit_shown = sum(1 for _, p in judged if p and message.fits and matches(p, message.fits))
    return Scored(
        outcome=outcome,
        intent_ok=outcome.intent == message.intent,
        scored_products=len(shown) if scorable else 0,
        fitting_products=fitting if scorable else 0,
        silent=tuple(silent) if outcome.searched else (),
        labelled=tuple(labelled) if scorable else (),
        not_carried_ok=(outcome.not_carried is not None) if message.not_carried else None,
        wrongly_not_carried=(outcome.not_carried is not None)
        if outcome.searched and not message.not_carried
        else None,
        cheapest_ok=cheapest_ok,
        fit_shown=fit_shown if outcome.searched and message.fits else 0,
        fit_products=len(shown) if outcome.searched and message.fits else 0,
        empty=scorable and not shown and outcome.not_carried is None,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _flags(values: Sequence[bool | None]) -> tuple[int, int]:
    given = [v for v in values if v is not None]
    return sum(given), len(given)


def figures(scored: Sequence[Scored]) -> Figures:
    """The figures over a set of scored outcomes (pooled over products where products count)."""
    shown = sum(s.scored_products for s in scored)
    handled, not_carried = _flags([s.not_carried_ok for s in scored])
    wrong_flags, carried = _flags([s.wrongly_not_carried for s in scored])
    cheapest, cheapest_messages = _flags([s.cheapest_ok for s in scored])
    fit_products = sum(s.fit_products for s in scored)
    return Figures(
        messages=len(scored),
        intent_accuracy=_share(sum(s.intent_ok for s in scored), len(scored)),
        constraint_searches=sum(1 for s in scored if s.scored_products or s.empty),
        products_scored=shown,
        constraint_precision_at_5=_share(sum(s.fitting_products for s in scored), shown),
        silent_violations=sum(len(s.silent) for s in scored),
        not_carried_messages=not_carried,
        not_carried_handled=_share(handled, not_carried),
        carried_searches=carried,
        wrongly_not_carried=_share(wrong_flags, carried),
        cheapest_messages=cheapest_messages,
        cheapest_first=_share(cheapest, cheapest_messages),
        fit_products_scored=fit_products,
        fit_precision_at_5=_share(sum(s.fit_shown for s in scored), fit_products),
        empty_answers=sum(s.empty for s in scored),
    )


def summarise(scored: Sequence[Scored]) -> dict[str, Any]:
    """Figures over all messages and per group, in GROUPS order."""
    return {
        "overall": figures(scored),
        "groups": {g: figures([s for s in scored if s.outcome.message.group == g]) for g in GROUPS},
    }


def cases(scored: Sequence[Scored], names: Mapping[str, str]) -> list[Case]:
    """Every bad case, worst kind first (CASE_ORDER), then by group and message."""
    found: list[Case] = []

    def add(s: Scored, kind: str, got: str = "", product: str = "", **more: list[str]) -> None:
        message = s.outcome.message
        found.append(
            Case(
                kind=kind,
                group=message.group,
                text=message.text,
                context=list(message.context),
                expected=message.intent,
                got=got or str(s.outcome.intent),
                product=names.get(product, product),
                broken=more.get("broken", []),
                labels=more.get("labels", []),
            )
        )

    for s in scored:
        for sku, broken in s.silent:
            add(s, SILENT_VIOLATION, product=sku, broken=list(broken))
        if s.not_carried_ok is False:
            add(s, NOT_CARRIED_MISSED, got="shown as carried")
        if not s.intent_ok:
            classified = s.outcome.classified
            got = str(s.outcome.intent)
            if classified and classified != s.outcome.intent:
                got += f" (classified {classified})"
            add(s, WRONG_INTENT, got=f"{got} {s.outcome.confidence:.2f}")
        if s.wrongly_not_carried:
            add(s, WRONGLY_NOT_CARRIED, got=f"not carried: {s.outcome.not_carried}")
        if s.empty:
            add(s, EMPTY_ANSWER, got="no products")
        for sku, broken, labels in s.labelled:
            add(s, MISMATCH, product=sku, broken=list(broken), labels=list(labels))
        if s.cheapest_ok is False:
            first = s.outcome.shown[0].sku if s.outcome.shown else ""
            add(s, NOT_CHEAPEST, product=first)
    rank = {kind: number for number, kind in enumerate(CASE_ORDER)}
    return sorted(found, key=lambda c: (rank[c["kind"]], GROUPS.index(c["group"]), c["text"]))
