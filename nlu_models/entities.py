"""Entities the actions need, found by pattern and by the catalog's own vocabulary.

Why patterns and a gazetteer rather than a learned tagger: order numbers, e-mail addresses and
prices have a fixed shape, and colours, sizes, categories and product names come from a closed
list that the catalog owns. Matching them is exact, explainable, needs no annotated data and
follows the catalog the moment it is imported. A learned tagger would need labelled spans we do
not have and would still miss product names it never saw. Offsets follow Rasa's contract.
"""

from __future__ import annotations

import re
from typing import TypedDict

from nlu_models.vocabulary import Vocabulary

EXTRACTOR = "ShopDeskEntities"
# 5-20 digits ("000000101"), or 2-20 after "#" ("#102": Luma numbers are zero-padded, and a
# shopper drops the zeros; "#2" alone is a position in a list, see ORDINAL). Not the first
# part of a US ZIP+4 code ("49628-7978"); a plain 5-digit ZIP cannot be told from a number.
ORDER_NUMBER = re.compile(r"(?<![\w.@$#])(?:#(\d{2,20})|(\d{5,20}))(?![\w@]|-\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Amounts as shoppers write them: "$40", "40 bucks", "forty dollars".
NUMBER_WORDS = {
    "ten": 10, "fifteen": 15, "twenty": 20, "twenty five": 25, "twenty-five": 25, "thirty": 30,
    "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "seventy five": 75,
    "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "one hundred": 100,
}  # fmt: skip
_NUMBER_WORD = "|".join(re.escape(w) for w in sorted(NUMBER_WORDS, key=len, reverse=True))
_AMOUNT = (
    rf"(?:\$|usd\s?|€|£)?\s?(\d{{1,4}}(?:[.,]\d{{1,2}})?|{_NUMBER_WORD})(?![\d\w])"
    r"\s?(?:\$|dollars?|bucks|usd|euros?)?"
)
PRICE_RANGE = re.compile(
    rf"\b(?:between|from)\s+{_AMOUNT}\s*(?:and|to|-|–)\s*{_AMOUNT}"
    rf"|(?:\$\s?(\d{{1,4}}(?:[.,]\d{{1,2}})?)\s*(?:-|–|to)\s*{_AMOUNT})",
    re.IGNORECASE,
)
PRICE_MAX = re.compile(
    rf"\b(?:under|below|less th[ae]n|cheaper th[ae]n|lower than|max(?:imum)?|at most|up to|"
    rf"no more than|not more than|within|budget(?: of| is)?|spend(?: like| about| around| up to)?)"
    rf"\s+{_AMOUNT}",
    re.IGNORECASE,
)
PRICE_MIN = re.compile(
    rf"\b(?:over|above|more than|at least|starting at|min(?:imum)?|from)\s+{_AMOUNT}",
    re.IGNORECASE,
)
# The amount first: "20 bucks or less", "$40 max", "50 and up", "30-50 dollars".
PRICE_MAX_AFTER = re.compile(
    rf"(?<![\w.$€£-]){_AMOUNT}\s*(?:or (?:less|under|below|lower|cheaper)|and (?:under|below|less)|"
    rf"max(?:imum)?\b|tops\b|at most\b|at the most\b|or so max\b)",
    re.IGNORECASE,
)
PRICE_MIN_AFTER = re.compile(
    rf"(?<![\w.$€£-]){_AMOUNT}\s*"
    r"(?:or (?:more|above|over|higher)|and (?:up|above|over)\b|plus\b|\+)",
    re.IGNORECASE,
)
# "30-50 dollars", "30 to 50 bucks", and "40-55" or "25 to 35" without a currency when both
# numbers have two digits or more and no unit or size word goes with them ("size 30-32",
# "2-3 days", "10-12 cm" are not prices).
PRICE_RANGE_AFTER = re.compile(
    r"(?<![\w.$-])(?<!size )(?<!sz )(?<!waist )"
    r"(\d{1,4}(?:[.,]\d{1,2})?)\s*(?:-|–|to)\s*\$?(\d{1,4}(?:[.,]\d{1,2})?)"
    r"\s?(?:\$|dollars?|bucks|usd|euros?)(?!\w)"
    r"|(?<![\w.$-])(?<!size )(?<!sz )(?<!waist )(\d{2,4})\s*(?:-|–|to)\s*(\d{2,4})"
    r"(?!\s*(?:%|cm|mm|in\b|inch|kg|lb|days?|weeks?|hours?|minutes?|years?|months?|[.,]?\d))"
    r"(?![\w-])",
    re.IGNORECASE,
)
SIZE_WORDS = {"extra small": "XS", "extra-small": "XS", "small": "S", "medium": "M",
              "large": "L", "extra large": "XL", "extra-large": "XL"}  # fmt: skip
SIZE_IN_CONTEXT = re.compile(
    r"\b(?:size|sz|in(?: an?| a size)?)\s+(extra[- ]small|extra[- ]large|small|medium|large|"
    r"xxl|xl|xs|s|m|l|\d{2})\b",
    re.IGNORECASE,
)
SIZE_ALONE = re.compile(r"\b(XXL|XL|XS)\b|(?<![\w'’])([SML])(?![\w'’&])", re.IGNORECASE)
ORDINAL_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
                 "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1}  # fmt: skip
COUNT_WORDS = {"two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4, "five": 5, "5": 5}
# "the second one", "number 3", "option #2", and "the first two" / "top 3" for several.
ORDINAL = re.compile(
    r"(?<![\w#])(?:(first|top)\s+(two|three|four|five|[2-5])\b"
    r"|(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b"
    r"|(?:(?:number|no\.?|option|item)\s*#?|#)\s*([1-9])\b)",
    re.IGNORECASE,
)
# When spans overlap the first listed wins, then the longer span.
PRIORITY = (
    "email", "order_number", "price", "ordinal", "product", "category", "size", "color", "gender",
)  # fmt: skip


class Entity(TypedDict):
    entity: str
    value: str | float | int
    start: int
    end: int
    extractor: str
    confidence_entity: float


def _entity(name: str, value: str | float, start: int, end: int) -> Entity:
    return Entity(
        entity=name, value=value, start=start, end=end, extractor=EXTRACTOR, confidence_entity=1.0
    )


def _amount(text: str) -> float:
    word = NUMBER_WORDS.get(text.lower())
    return float(word) if word is not None else float(text.replace(",", "."))


def _prices(text: str) -> list[tuple[str, list[Entity]]]:
    """Price spans as groups: a range gives price_min and price_max for one span."""
    found: list[tuple[str, list[Entity]]] = []
    for match in [*PRICE_RANGE.finditer(text), *PRICE_RANGE_AFTER.finditer(text)]:
        numbers = [g for g in match.groups() if g]
        low, high = sorted((_amount(numbers[0]), _amount(numbers[1])))
        found.append(("price", [
            _entity("price_min", low, match.start(), match.end()),
            _entity("price_max", high, match.start(), match.end()),
        ]))  # fmt: skip
    patterns = (
        (PRICE_MAX, "price_max"),
        (PRICE_MIN, "price_min"),
        (PRICE_MAX_AFTER, "price_max"),
        (PRICE_MIN_AFTER, "price_min"),
    )
    for pattern, name in patterns:
        for match in pattern.finditer(text):
            found.append(
                ("price", [_entity(name, _amount(match.group(1)), match.start(), match.end())])
            )
    return found


def _ordinals(text: str) -> list[tuple[str, list[Entity]]]:
    """Positions in the list just shown, as 1-based numbers (-1 for the last)."""
    found: list[tuple[str, list[Entity]]] = []
    for match in ORDINAL.finditer(text):
        if match.group(2):
            count = COUNT_WORDS[match.group(2).lower()]
            values: list[int] = list(range(1, count + 1))
        elif match.group(3):
            values = [ORDINAL_WORDS[match.group(3).lower()]]
        else:
            values = [int(match.group(4))]
        found.append(
            ("ordinal", [_entity("ordinal", v, match.start(), match.end()) for v in values])
        )
    return found


def _gazetteer(text: str, name: str, aliases: dict[str, str]) -> list[tuple[str, list[Entity]]]:
    if not aliases:
        return []
    pattern = re.compile(
        r"(?<![\w-])("
        + "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        + r")(?![\w-])",
        re.IGNORECASE,
    )
    return [
        (name, [_entity(name, aliases[m.group(1).lower()], m.start(), m.end())])
        for m in pattern.finditer(text)
    ]


# A bare two-digit number that is one of the catalog's sizes ("mens pants 34"), not a price:
# prices take their span first (PRIORITY), and a currency after it makes it one.
SIZE_NUMBER = re.compile(
    r"(?<![\w$#.,€£-])(\d{2})(?![\w.,%€£$-])(?!\s*(?:dollars?|bucks|usd|euros?|\$|or |and ))",
    re.IGNORECASE,
)


def _sizes(text: str, sizes: list[str]) -> list[tuple[str, list[Entity]]]:
    known = {s.upper() for s in sizes}
    found: list[tuple[str, list[Entity]]] = []
    for match in SIZE_NUMBER.finditer(text):
        if match.group(1) in known:
            found.append(("size", [_entity("size", match.group(1), match.start(1), match.end(1))]))
    for match in SIZE_IN_CONTEXT.finditer(text):
        raw = match.group(1).lower()
        value = SIZE_WORDS.get(raw, raw.upper())
        if value in known:
            found.append(("size", [_entity("size", value, match.start(1), match.end(1))]))
    for match in SIZE_ALONE.finditer(text):
        raw = match.group(1) or match.group(2)
        if match.group(2) and not raw.isupper():
            continue  # a lone lower-case "s", "m" or "l" is too often not a size
        if raw.upper() in known:
            found.append(("size", [_entity("size", raw.upper(), match.start(), match.end())]))
    return found


def extract_entities(text: str, vocabulary: Vocabulary | None = None) -> list[Entity]:
    """Entities in `text`, non-overlapping, in reading order."""
    candidates: list[tuple[str, list[Entity]]] = [
        ("email", [_entity("email", m.group(0), m.start(), m.end())]) for m in EMAIL.finditer(text)
    ]
    for m in ORDER_NUMBER.finditer(text):
        digits = 1 if m.group(1) else 2
        candidates.append(
            ("order_number", [_entity("order_number", m[digits], m.start(digits), m.end(digits))])
        )
    candidates += _prices(text)
    candidates += _ordinals(text)
    if vocabulary is not None:
        candidates += _gazetteer(text, "product", vocabulary.products)
        candidates += _gazetteer(text, "category", vocabulary.categories)
        candidates += _sizes(text, vocabulary.sizes)
        candidates += _gazetteer(text, "color", vocabulary.colors)
        candidates += _gazetteer(text, "gender", vocabulary.genders)
    candidates.sort(
        key=lambda c: (PRIORITY.index(c[0]), -(c[1][0]["end"] - c[1][0]["start"]), c[1][0]["start"])
    )
    taken: list[tuple[int, int]] = []
    kept: list[Entity] = []
    for _, group in candidates:
        start, end = group[0]["start"], group[0]["end"]
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        kept += group
    return sorted(kept, key=lambda e: (e["start"], e["entity"], str(e["value"])))
