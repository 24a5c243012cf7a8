"""Which of the choices a form offered the shopper's answer means.

A form that lists choices ("1. Quest Lumaflex™ Band  2. Sprite Yoga Strap") must understand
the answers shoppers give: the number, "the second one", the name as listed, the name without
its ™, a part of it ("the band"), or the name with a typo. Every form that offers choices reads
answers through `match_choice`, so they all understand the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Final

# "2", "#2", "number 2", "no. 2", "option 2", "item 2"
NUMBER: Final = re.compile(r"^\s*(?:(?:number|no\.?|option|item)\s*)?#?(\d{1,2})\s*\.?\s*$", re.I)
# Words around a choice that do not tell choices apart.
_FILLER_TEXT = """the a an one this that it my i i'd id want wanna would like to return please pls
item product just only of for me is its it's thing ok okay yes yeah"""
FILLER: Final = frozenset(_FILLER_TEXT.split())
SIMILAR_ENOUGH: Final = 0.84  # a typo or two in a name ("lumaflx band")
CLEAR_MARGIN: Final = 0.06  # the best fuzzy match must beat the next by this much


def normalise(text: str) -> str:
    """Lower case, accents and symbols (™, ®) dropped, words separated by single spaces."""
    marks = re.sub(r"[™®©℠]", " ", text)  # before NFKD, which spells ™ out as "TM"
    decomposed = unicodedata.normalize("NFKD", marks)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c) and c.isprintable())
    return " ".join(re.sub(r"[^a-z0-9']+", " ", plain.lower()).split())


def _words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if w not in FILLER]


def _unique(indexes: list[int]) -> int | None:
    return indexes[0] if len(set(indexes)) == 1 else None


def match_choice(text: str, options: Sequence[str], positions: Sequence[int] = ()) -> int | None:
    """The 0-based index of the option the answer means, or None if it is unclear.

    `positions` are the list positions the entity extractor found ("the second one" → 2,
    "the last one" → -1). Never guesses between two options: "the hoodie" when two hoodies
    are listed is None, and the form asks again.
    """
    if not options:
        return None
    number = NUMBER.match(text)
    picks = list(positions) or ([int(number.group(1))] if number else [])
    for pick in picks:
        index = pick - 1 if pick > 0 else len(options) + pick
        if 0 <= index < len(options):
            return index
    answer = normalise(text)
    names = [normalise(option) for option in options]
    if not answer:
        return None
    for matches in (
        [i for i, name in enumerate(names) if name == answer],
        [i for i, name in enumerate(names) if f" {name} " in f" {answer} "],
    ):
        if matches:
            return _unique(matches)
    wanted = _words(text)
    if not wanted:
        return None
    covering = [i for i, option in enumerate(options) if set(wanted) <= set(_words(option))]
    if covering:
        return _unique(covering)
    return _closest(" ".join(wanted), [" ".join(_words(option)) for option in options])


def _closest(answer: str, names: Sequence[str]) -> int | None:
    """A name within a typo or two of the answer, or of which the answer is a fuzzy part."""
    scores = []
    for name in names:
        whole = SequenceMatcher(None, answer, name).ratio()
        words = name.split()
        size = len(answer.split())
        parts = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
        part = max(SequenceMatcher(None, answer, p).ratio() for p in parts)
        scores.append(max(whole, part))
    ranked = sorted(range(len(names)), key=lambda i: -scores[i])
    best = ranked[0]
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    if scores[best] >= SIMILAR_ENOUGH and scores[best] - runner_up >= CLEAR_MARGIN:
        return best
    return None
