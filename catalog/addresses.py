"""Shipping addresses, checked one field at a time as a chat form asks for them.

Each check returns the cleaned value, or a problem the bot can say as it is. The shop ships to
the United States only: the Luma table rates have US rows and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from connectors.orders import DEFAULT_COUNTRY, Address

__all__ = ["SHIPPING_COUNTRY", "US_ONLY_TEXT", "US_STATES", "Address", "FieldCheck"]

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam",
}  # fmt: skip
SHIPPING_COUNTRY = DEFAULT_COUNTRY
US_ONLY_TEXT = "Sorry, we only ship to addresses in the United States."
_US_NAMES = {"us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "america"}
_STATE_NAMES = {name.lower(): code for code, name in US_STATES.items()}
_ZIP = re.compile(r"(\d{5})(?:[-\s]?(\d{4}))?")
# US style: the house number first ("6146", "12B", "123-45" in Queens), then the street.
_STREET = re.compile(r"\d+[A-Za-z]?(?:-\d+)? (.+)")
_WORD = re.compile(r"[^\W\d_]{2,}")
_CITY = re.compile(r"[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?")
_WORD_START = re.compile(r"(?:^|(?<=[ -]))\w")


@dataclass(frozen=True)
class FieldCheck:
    """A form field's cleaned value, or why it cannot be used (exactly one is set)."""

    value: str | None
    problem: str | None = None


def _clean(text: str) -> str | None:
    """Whitespace collapsed; None when it holds control characters (pasted junk, escapes)."""
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in text):
        return None
    return " ".join(text.split())


def _invalid(problem: str) -> FieldCheck:
    return FieldCheck(None, problem)


def _capitalised(text: str) -> str:
    """'san diego' and 'SAN DIEGO' become 'San Diego'; mixed case is left as typed."""
    if text.islower() or text.isupper():
        return _WORD_START.sub(lambda match: match.group().upper(), text.lower())
    return text


def validate_name(text: str) -> FieldCheck:
    """The recipient's name, as the carrier prints it on the label."""
    name = _clean(text)
    if not name or not _WORD.search(name) or not 2 <= len(name) <= 120:
        return _invalid("Please tell me the recipient's full name.")
    return FieldCheck(name)


def validate_street(text: str) -> FieldCheck:
    """A house number and a street name: '6146 Honey Bluff Parkway', '12 Elm St Apt 4B'."""
    street = _clean(text)
    example = "for example “6146 Honey Bluff Parkway”"
    if street is None:
        return _invalid(f"That street contains characters I can't use; please type it, {example}.")
    if not 5 <= len(street) <= 120:
        return _invalid(f"Please give the street with the house number, {example}.")
    match = _STREET.fullmatch(street)
    if match is None:
        return _invalid(f"Please start with the house number, {example}.")
    if not _WORD.search(match.group(1)):
        return _invalid(f"After the house number I need the street name, {example}.")
    return FieldCheck(street)


def validate_city(text: str) -> FieldCheck:
    city = _clean(text)
    if not city or len(city) > 60 or not _CITY.fullmatch(city):
        return _invalid("Please tell me the city, in letters, for example “San Diego”.")
    return FieldCheck(_capitalised(city))


def validate_region(text: str) -> FieldCheck:
    """A US state by its code or its name ('CA', 'california'); the value is the code."""
    region = (_clean(text) or "").removesuffix(".")
    code = region.upper().replace(".", "")
    if code in US_STATES:
        return FieldCheck(code)
    if region.lower() in _STATE_NAMES:
        return FieldCheck(_STATE_NAMES[region.lower()])
    return _invalid(
        "Please tell me the US state, as its name or code, for example CA or California."
    )


def validate_postcode(text: str, country: str = SHIPPING_COUNTRY) -> FieldCheck:
    """A US ZIP code: 12345 or ZIP+4, 12345-6789."""
    if country != SHIPPING_COUNTRY:
        return _invalid(US_ONLY_TEXT)
    match = _ZIP.fullmatch(_clean(text) or "")
    if match is None:
        return _invalid("Please give a 5-digit ZIP code, like 49628 (or ZIP+4, like 49628-7978).")
    five, four = match.groups()
    return FieldCheck(f"{five}-{four}" if four else five)


def validate_country(text: str) -> FieldCheck:
    """Only the United States, however it is written; the value is 'US'."""
    if (_clean(text) or "").lower() in _US_NAMES:
        return FieldCheck(SHIPPING_COUNTRY)
    return _invalid(US_ONLY_TEXT)


_STATE_ALTERNATIVES = "|".join(
    sorted([*US_STATES, *(re.escape(n) for n in _STATE_NAMES)], key=len, reverse=True)
)
# "88 Lake Drive, Seattle, WA 98101" or "88 lake drive seattle wa 98101-1234" in one message.
_ONE_LINE = re.compile(
    rf"^\s*(?P<street>\d+[A-Za-z]?(?:-\d+)? [^,]+?"
    r"(?:,\s*(?:apt|apartment|suite|ste|unit|floor|fl|#)\.?\s*[^,]*?)?),\s*(?P<city>[^\W\d_][^,\d]*?),?\s+"
    rf"(?P<region>{_STATE_ALTERNATIVES})\.?,?\s+(?P<postcode>\d{{5}}(?:[-\s]?\d{{4}})?)\s*"
    r"(?:,?\s*(?:usa|us|united states))?\s*\.?\s*$",
    re.IGNORECASE,
)


def split_one_line(text: str) -> dict[str, str] | None:
    """A whole US address typed in one message, as the fields a form asks for one by one
    (street, city, region, postcode, each still to be checked), or None if it is not one."""
    match = _ONE_LINE.match(text)
    if match is None:
        return None
    return {name: " ".join(value.split()) for name, value in match.groupdict().items()}
