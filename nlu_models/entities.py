"""Entities found by pattern: order numbers and e-mail addresses.

Patterns, not a learned tagger: these entities have a fixed shape, and a pattern is exact,
explainable and needs no training data. Offsets follow Rasa's entity contract.
"""

from __future__ import annotations

import re
from typing import TypedDict

ORDER_NUMBER = re.compile(r"(?<![\w.@])#?(\d{5,20})(?![\w@])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Entity(TypedDict):
    entity: str
    value: str
    start: int
    end: int
    extractor: str
    confidence_entity: float


def _entity(name: str, value: str, start: int, end: int) -> Entity:
    return Entity(
        entity=name,
        value=value,
        start=start,
        end=end,
        extractor="ShopDeskPatterns",
        confidence_entity=1.0,
    )


def extract_entities(text: str) -> list[Entity]:
    found = [_entity("email", m.group(0), m.start(), m.end()) for m in EMAIL.finditer(text)]
    emails = [(e["start"], e["end"]) for e in found]
    for match in ORDER_NUMBER.finditer(text):
        if any(start <= match.start(1) < end for start, end in emails):
            continue
        found.append(_entity("order_number", match.group(1), match.start(1), match.end(1)))
    return sorted(found, key=lambda e: e["start"])
