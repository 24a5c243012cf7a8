"""Whether the shop carries the kind of product a shopper names at all.

"do you have kettlebells?" in a shop without kettlebells must hear that the shop does not carry
them, not see resistance bands presented as matches. The kinds come from a general list of
what shoppers ask shops for (catalog/data/product_kinds.txt); whether this shop carries one is
asked of its own catalog each time, so an import that adds kettlebells changes the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session

from catalog.search import strict_matches

KINDS_FILE = Path(__file__).resolve().parent / "data" / "product_kinds.txt"


@dataclass(frozen=True)
class Kind:
    name: str  # how the answer names it: "yoga mat"
    phrases: tuple[str, ...]  # every way of writing it, lower case


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def parse_kinds(text: str) -> list[Kind]:
    kinds = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, others = line.partition("|")
        phrases = [
            name.strip().lower(),
            *(p.strip().lower() for p in others.split(",") if p.strip()),
        ]
        phrases += [_plural(p) for p in phrases if not p.endswith("s")]
        kinds.append(Kind(name=name.strip().lower(), phrases=tuple(dict.fromkeys(phrases))))
    return kinds


@cache
def kinds() -> tuple[Kind, ...]:
    return tuple(parse_kinds(KINDS_FILE.read_text(encoding="utf-8")))


@cache
def _pattern() -> tuple[re.Pattern[str], dict[str, Kind]]:
    by_phrase = {phrase: kind for kind in kinds() for phrase in kind.phrases}
    alternatives = "|".join(re.escape(p) for p in sorted(by_phrase, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])", re.IGNORECASE), by_phrase


# "a bag for my books", "something to carry my laptop": the kind is what the wanted product
# is for, not the product.
PURPOSE = re.compile(
    r"(?:\bfor\s+(?:my|your|his|her|our|their)"
    r"|\b(?:to (?:carry|hold|fit|store|put|take|keep)|with room for|that fits)"
    r"(?:\s+(?:my|the|a|an|your|his|her|our|their|all))?)\s*$",
    re.IGNORECASE,
)


def kinds_in(text: str) -> list[tuple[Kind, str, tuple[int, int]]]:
    """The kinds asked for in `text`: the kind, the phrase used and its span, in reading
    order; a kind named as what something is for ("a bag for my books") is left out."""
    pattern, by_phrase = _pattern()
    return [
        (by_phrase[match.group(1).lower()], match.group(1).lower(), match.span(1))
        for match in pattern.finditer(text)
        if not PURPOSE.search(text[: match.start(1)])
    ]


def carried(session: Session, kind: Kind, phrase: str) -> bool:
    """Whether the shop has a product of this kind: under the words the shopper used, or the
    kind's own name ("skipping rope" is carried when a "jump rope" is). Not under every other
    name: "trainers" are shoes, and a jacket called "Trainer" is not one."""
    return any(strict_matches(session, words) > 0 for words in dict.fromkeys((phrase, kind.name)))


def not_carried(
    session: Session, text: str, carried_spans: Sequence[tuple[int, int]] = ()
) -> str | None:
    """The phrase of a kind named in `text` that the shop has nothing of, or None.

    `carried_spans` are where the message names something of the shop's own (its categories and
    product names, as the entity extractor found them). When one lies outside every missing
    kind ("shorts and socks"), search answers that part and this returns None.
    """
    named = kinds_in(text)
    if not named:
        return None
    missing = [(phrase, span) for kind, phrase, span in named if not carried(session, kind, phrase)]
    if len(missing) < len(named):
        return None

    def inside_missing(start: int, end: int) -> bool:
        return any(s <= start and end <= e for _, (s, e) in missing)

    if any(not inside_missing(start, end) for start, end in carried_spans):
        return None
    return missing[0][0]
