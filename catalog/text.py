"""Cleaning shop text: HTML descriptions to plain text, names to URL keys, prices to cents.

The way back, cents to a price a person reads, is core.money.format_money."""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of white space become one space), cut to `limit` characters:
    what a fixed-width column such as a handoff's reason or a review's title can hold."""
    return " ".join(text.split())[:limit]


def plain_text(markup: str) -> str:
    """Tags removed, entities decoded, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def slugify(text: str) -> str:
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


def price_to_cents(value: str) -> int:
    """'52' or '52.50' → cents; raises ValueError on anything that is not a price."""
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation as error:
        raise ValueError(f"not a price: {value!r}") from error
    if amount < 0 or not amount.is_finite():
        raise ValueError(f"not a price: {value!r}")
    return int((amount * 100).quantize(Decimal(1)))
