"""When the shop's support team is in: opening hours per weekday, a time zone and holidays.

Why: a handoff at night used to promise a person and then give up after a few minutes. With
the shop's hours the bot knows whether anyone is there, and otherwise says when someone is
back (the next opening, in the shop's own time zone) instead of promising a person now.

shop.yml's `support` section holds the settings; catalog/policies.py reads them through
`parse_business_hours`, so a mistake is a ShopSettingsError naming the key, at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import as_utc

# shop.yml's weekday keys, Monday first (datetime.weekday()'s order).
WEEKDAY_KEYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
CLOSED: Final = "closed"
ALL_DAY: Final = "00:00-24:00"
MINUTES_PER_DAY: Final = 24 * 60
# "09:00-17:00"; several spans of one day are separated by commas ("09:00-12:00, 13:00-17:00").
SPAN: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Far enough to pass a year of holidays; a shop that never opens in that time has no opening.
SEARCH_DAYS: Final = 400
# Beyond this many days the weekday alone is ambiguous, so the date is named too.
WEEK: Final = 7


class BusinessHoursError(ValueError):
    """The hours in shop.yml cannot be used; the message names the key and what it must be."""


class OpeningDay(StrEnum):
    """How far away the next opening is: each has its own sentence in bot/domain.yml."""

    TODAY = "today"
    TOMORROW = "tomorrow"
    LATER = "later"


@dataclass(frozen=True)
class Span:
    """One stretch of a day in minutes since midnight; `end` may be 1440 ("24:00")."""

    start: int
    end: int

    def holds(self, minute: int) -> bool:
        return self.start <= minute < self.end


@dataclass(frozen=True)
class NextOpening:
    """When someone is back, as the shopper reads it (the shop's local time)."""

    moment: datetime  # aware, in the shop's time zone
    day: OpeningDay
    day_words: str  # "Monday", or "Monday 4 January" when more than a week away
    time_words: str  # "9:00 PST"


@dataclass(frozen=True)
class BusinessHours:
    """Support hours per weekday (Monday first), in `zone`, closed on `holidays`."""

    zone_name: str
    by_day: tuple[tuple[Span, ...], ...]
    holidays: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    def _spans(self, day: date) -> tuple[Span, ...]:
        return () if day in self.holidays else self.by_day[day.weekday()]

    def is_open(self, moment: datetime) -> bool:
        """Whether the team is in at `moment` (any aware time; a naive one is read as UTC)."""
        here = as_utc(moment).astimezone(self.zone)
        minute = here.hour * 60 + here.minute
        return any(span.holds(minute) for span in self._spans(here.date()))

    def next_opening(self, moment: datetime) -> datetime | None:
        """The first opening after `moment`, in the shop's zone; None if none comes within
        SEARCH_DAYS (a shop whose days are all closed)."""
        here = as_utc(moment).astimezone(self.zone)
        minute = here.hour * 60 + here.minute
        for offset in range(SEARCH_DAYS):
            day = here.date() + timedelta(days=offset)
            for span in self._spans(day):
                if offset == 0 and span.start <= minute:
                    continue
                wall = datetime.combine(day, time(span.start // 60, span.start % 60))
                return wall.replace(tzinfo=self.zone)
        return None

    def next_opening_words(self, moment: datetime) -> NextOpening | None:
        """The next opening in words, relative to the shop's own today."""
        opening = self.next_opening(moment)
        if opening is None:
            return None
        today = as_utc(moment).astimezone(self.zone).date()
        days_away = (opening.date() - today).days
        kind = (
            OpeningDay.TODAY
            if days_away == 0
            else OpeningDay.TOMORROW
            if days_away == 1
            else OpeningDay.LATER
        )
        day_words = WEEKDAY_NAMES[opening.weekday()]
        if days_away >= WEEK:
            day_words += f" {opening.day} {MONTH_NAMES[opening.month - 1]}"
        zone_words = opening.tzname() or self.zone_name
        return NextOpening(
            moment=opening,
            day=kind,
            day_words=day_words,
            time_words=f"{opening.hour}:{opening.minute:02d} {zone_words}",
        )


def _minutes(hours: str, minutes: str, where: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise BusinessHoursError(f"`{where}` has a time that is not on a clock: {hours}:{minutes}")
    return value


def parse_day(value: object, where: str) -> tuple[Span, ...]:
    """`"09:00-17:00"`, `"09:00-12:00, 13:00-17:00"` or `closed` -> the day's spans."""
    text = str(value).strip().lower()
    if text == CLOSED:
        return ()
    spans: list[Span] = []
    for part in text.split(","):
        found = SPAN.match(part)
        if not found:
            raise BusinessHoursError(
                f'`{where}` must be like "09:00-17:00" (several separated by commas) '
                f"or `{CLOSED}`, not {value!r}"
            )
        start = _minutes(found[1], found[2], where)
        end = _minutes(found[3], found[4], where)
        if end <= start:
            raise BusinessHoursError(
                f"`{where}`: a span must end after it starts on the same day ({part.strip()})"
            )
        spans.append(Span(start, end))
    spans.sort(key=lambda span: span.start)
    return tuple(spans)


def parse_zone(value: object, where: str) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BusinessHoursError(
            f"`{where}` must be a time zone name like Europe/Berlin or America/New_York, "
            f"not {value!r}"
        ) from None
    return name


def parse_holidays(value: object, where: str) -> frozenset[date]:
    """A list of dates (YAML reads `2026-12-25` as a date; quoted text is accepted too)."""
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise BusinessHoursError(f"`{where}` must be a list of dates like 2026-12-25")
    days: set[date] = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        try:
            days.add(date.fromisoformat(str(item).strip()))
        except ValueError:
            raise BusinessHoursError(
                f"`{where}` must be a list of dates like 2026-12-25, not {item!r}"
            ) from None
    return frozenset(days)


def parse_business_hours(
    by_day: object, zone: object, holidays: object, where: str
) -> BusinessHours:
    """The hours from shop.yml's values; `where` is the section's prefix ("support.")."""
    if not isinstance(by_day, Mapping):
        raise BusinessHoursError(
            f"`{where}hours_by_day` must map each weekday ({', '.join(WEEKDAY_KEYS)}) to "
            f'hours like "09:00-17:00" or `{CLOSED}`'
        )
    days: Mapping[Any, Any] = by_day
    given = {str(key).strip().lower() for key in days}
    missing = [key for key in WEEKDAY_KEYS if key not in given]
    unknown = sorted(given - set(WEEKDAY_KEYS))
    if missing or unknown:
        raise BusinessHoursError(
            f"`{where}hours_by_day` needs exactly the weekdays {', '.join(WEEKDAY_KEYS)} "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})"
        )
    lowered = {str(key).strip().lower(): value for key, value in days.items()}
    return BusinessHours(
        zone_name=parse_zone(zone, f"{where}time_zone"),
        by_day=tuple(parse_day(lowered[key], f"{where}hours_by_day.{key}") for key in WEEKDAY_KEYS),
        holidays=parse_holidays(holidays, f"{where}holidays"),
    )
