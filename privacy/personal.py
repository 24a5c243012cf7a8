"""What a shopper's data looks like inside the shop's rows and Rasa's events: their e-mail
address as the shop stores it, the patterns that find it (or their order numbers, name,
street) as whole words, and the placeholder words an erasure or an export leaves instead.

These are exact matches for one known shopper; finding personal data of anyone (Presidio) is
privacy/detection.py, and replacing it is privacy/redaction.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

# The slots of bot/domain.yml that hold an e-mail address the shopper gave.
EMAIL_SLOTS: Final = ("verified_customer_email", "email", "contact_email", "newsletter_email")
VERIFIED_EMAIL_SLOT: Final = "verified_customer_email"
VERIFIED_ORDER_SLOT: Final = "verified_order_number"
ERASED: Final = "erased"  # what an erased name, street or city reads as
FORMER_CUSTOMER: Final = "Former customer"  # an erased reviewer's nickname
REDACTED: Final = "[removed]"  # in place of one shopper's data inside a text that is kept
OTHER_EMAIL: Final = "[another e-mail address]"  # in an export, for addresses not theirs
MAX_EMAIL_CHARS: Final = 255

_EMAIL_CHARS = r"[\w.%+\-!#$&'*/=?^`{|}~]"
ANY_EMAIL: Final = re.compile(rf"{_EMAIL_CHARS}+@[\w-]+(?:\.[\w-]+)+")


def normalise_email(email: str) -> str:
    """The address as the shop stores it (trimmed, lower-case); ValueError, with a sentence for
    the person, when it is not an address: erasing "gmail.com" must not match everyone."""
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or any(c.isspace() for c in address)
        or len(address) > MAX_EMAIL_CHARS
    ):
        raise ValueError(f"{email!r} is not an e-mail address; please check it.")
    return address


def email_pattern(email: str) -> re.Pattern[str]:
    """The address as a whole word: roni@example.com is not in xroni@example.com.au."""
    return re.compile(rf"(?<!{_EMAIL_CHARS}){re.escape(email)}(?![\w-]|\.\w)", re.IGNORECASE)


def words_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """Any of the values as a whole word, any case: order 000000101 is not in 0000001010, and
    a city "Troy" is not in "destroy". No values: a pattern that matches nothing."""
    alternatives = sorted({re.escape(value) for value in values if value}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """The JSON value with the pattern replaced in every string (keys too)."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [scrub(item, pattern) for item in value]
    if isinstance(value, dict):
        return {scrub(k, pattern): scrub(v, pattern) for k, v in value.items()}
    return value
