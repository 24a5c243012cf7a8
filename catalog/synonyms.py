"""Words shoppers use interchangeably; a search for one finds products named with any.

Each group is symmetric: "hoodie" finds "sweatshirt" and back. Only true equivalents belong
here; broader words ("top" for "tee", "bag" for "backpack") would flood results and are left
to the category classifier's boost and the category names ("Bags").
"""

from __future__ import annotations

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("hoodie", "hoody", "sweatshirt", "pullover"),
    ("tee", "t-shirt", "tshirt", "t shirt"),
    ("pants", "trousers", "slacks"),
    ("leggings", "tights"),
    ("jacket", "coat", "windbreaker"),
    ("tank", "singlet", "tank top"),
    ("backpack", "rucksack"),
    ("duffle", "duffel"),
    ("brick", "block"),
    ("watch", "smartwatch", "timepiece"),
    ("waterproof", "rainproof", "water-resistant", "water resistant", "rain"),
    ("running", "run", "runner"),
    ("gym", "workout", "training", "fitness"),
    ("mat", "yoga mat"),
    ("bottle", "water bottle", "flask"),
    ("cheap", "affordable", "budget", "inexpensive"),
)

_INDEX = {word: group for group in SYNONYM_GROUPS for word in group}


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def synonyms_of(term: str) -> tuple[str, ...]:
    """The term and its equivalents, the term first: 'hoodies' → ('hoodies', 'hoodie', …)."""
    lowered = term.lower()
    group = _INDEX.get(lowered) or _INDEX.get(_singular(lowered))
    if not group:
        return (lowered,)
    return (lowered, *[word for word in group if word != lowered])
