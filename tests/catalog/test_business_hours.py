"""Support hours: parsed from shop.yml with polite errors, and the next opening found across
days, holidays and time zones (what the bot tells a shopper outside hours)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.business_hours import (
    BusinessHours,
    BusinessHoursError,
    OpeningDay,
    Span,
    parse_business_hours,
    parse_day,
)
from catalog.policies import (
    ShopSettingsError,
    load_policies,
    parse_policies,
    write_always_open,
)
from catalog.settings import DEFAULT_SHOP_SETTINGS
from tests.catalog.test_policies import shipped_settings

WEEKDAYS_9_TO_5: dict[str, Any] = {
    "mon": "09:00-17:00",
    "tue": "09:00-17:00",
    "wed": "09:00-17:00",
    "thu": "09:00-17:00",
    "fri": "09:00-17:00",
    "sat": "closed",
    "sun": "closed",
}


def hours(
    zone: str = "America/Los_Angeles",
    by_day: dict[str, Any] | None = None,
    holidays: list[Any] | None = None,
) -> BusinessHours:
    return parse_business_hours(by_day or WEEKDAYS_9_TO_5, zone, holidays, "support.")


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_day_is_spans_or_closed() -> None:
    assert parse_day("09:00-17:00", "x") == (Span(540, 1020),)
    assert parse_day("13:00-17:00, 9:00-12:00", "x") == (Span(540, 720), Span(780, 1020))
    assert parse_day("Closed", "x") == ()
    assert parse_day("00:00-24:00", "x") == (Span(0, 1440),)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9 to 5", 'must be like "09:00-17:00"'),
        ("17:00-09:00", "must end after it starts"),
        ("09:00-25:00", "not on a clock"),
        ("09:75-10:00", "not on a clock"),
    ],
)
def test_a_wrong_day_is_named(value: str, message: str) -> None:
    with pytest.raises(BusinessHoursError, match=re.escape(message)):
        parse_day(value, "support.hours_by_day.mon")


def test_the_weekdays_zone_and_holidays_are_checked() -> None:
    without_sunday = {k: v for k, v in WEEKDAYS_9_TO_5.items() if k != "sun"}
    with pytest.raises(BusinessHoursError, match="missing: sun"):
        hours(by_day=without_sunday)
    with pytest.raises(BusinessHoursError, match="unknown: funday"):
        hours(by_day={**WEEKDAYS_9_TO_5, "funday": "closed"})
    with pytest.raises(BusinessHoursError, match="must be a time zone name"):
        hours(zone="Mars/Olympus_Mons")
    with pytest.raises(BusinessHoursError, match="dates like 2026-12-25, not 'Christmas'"):
        hours(holidays=["Christmas"])
    assert hours(holidays=["2026-12-25", date(2027, 1, 1)]).holidays == {
        date(2026, 12, 25),
        date(2027, 1, 1),
    }


def test_the_shipped_settings_have_weekday_hours_in_los_angeles() -> None:
    support = load_policies(shop_url="https://shop.test").support
    assert support.business_hours is not None
    assert support.business_hours.zone_name == "America/Los_Angeles"
    assert support.business_hours.by_day[5:] == ((), ())
    assert date(2026, 12, 25) in support.business_hours.holidays


def test_a_mistake_in_the_shop_file_is_a_settings_error_naming_the_key() -> None:
    data = shipped_settings()
    data["support"]["hours_by_day"]["wed"] = "all day"
    with pytest.raises(ShopSettingsError, match=re.escape("`support.hours_by_day.wed` must be")):
        parse_policies(data, shop_url="https://shop.test")
    data = shipped_settings()
    del data["support"]["time_zone"]
    with pytest.raises(ShopSettingsError, match=re.escape("`support.time_zone` is missing")):
        parse_policies(data, shop_url="https://shop.test")


def test_without_hours_a_person_is_always_offered() -> None:
    data = shipped_settings()
    for key in ("hours_by_day", "time_zone", "holidays"):
        del data["support"][key]
    assert parse_policies(data, shop_url="https://shop.test").support.business_hours is None


def test_open_and_closed_follow_the_shops_time_zone() -> None:
    la = hours()
    # Wednesday 9 December 2026: 17:00 UTC is 9:00 in Los Angeles (PST, UTC-8)
    assert la.is_open(utc(2026, 12, 9, 17, 0))
    assert not la.is_open(utc(2026, 12, 9, 16, 59))
    assert not la.is_open(utc(2026, 12, 10, 1, 0))  # 17:00 in LA: closed at the end minute
    assert hours(zone="Europe/Berlin").is_open(utc(2026, 12, 9, 8, 0))  # 9:00 in Berlin


def test_the_next_opening_later_today() -> None:
    opening = hours().next_opening_words(utc(2026, 12, 9, 15, 0))  # Wed 7:00 in LA
    assert opening is not None and opening.day is OpeningDay.TODAY
    assert opening.moment == datetime(2026, 12, 9, 17, 0, tzinfo=UTC)
    assert opening.time_words == "9:00 PST"


def test_after_closing_the_next_opening_is_tomorrow() -> None:
    opening = hours().next_opening_words(utc(2026, 12, 10, 2, 0))  # Wed 18:00 in LA
    assert opening is not None and opening.day is OpeningDay.TOMORROW
    assert opening.moment.date() == date(2026, 12, 10) and opening.day_words == "Thursday"


def test_a_weekend_waits_for_monday() -> None:
    opening = hours().next_opening_words(utc(2026, 12, 12, 20, 0))  # Saturday noon in LA
    assert opening is not None and opening.day is OpeningDay.LATER
    assert (opening.day_words, opening.time_words) == ("Monday", "9:00 PST")


def test_holidays_are_skipped() -> None:
    christmas = hours(holidays=["2026-12-25", "2026-12-28"])
    # Thursday 24 December, 18:00 in LA: Friday is a holiday, Monday 28 too
    opening = christmas.next_opening_words(utc(2026, 12, 25, 2, 0))
    assert opening is not None and opening.day is OpeningDay.LATER
    assert opening.day_words == "Tuesday"
    assert opening.moment == datetime(2026, 12, 29, 17, 0, tzinfo=UTC)


def test_a_break_of_more_than_a_week_names_the_day_and_date() -> None:
    long_break = hours(holidays=[f"2026-12-{day:02d}" for day in range(10, 32)])
    opening = long_break.next_opening_words(utc(2026, 12, 10, 2, 0))  # Wed 9 Dec, 18:00 in LA
    assert opening is not None and opening.day is OpeningDay.LATER
    assert opening.day_words == "Friday 1 January"


def test_the_time_zone_abbreviation_follows_daylight_saving() -> None:
    opening = hours().next_opening_words(utc(2027, 6, 2, 6, 0))  # Tue 1 June, 23:00 in LA
    assert opening is not None and opening.time_words == "9:00 PDT"
    assert opening.moment == datetime(2027, 6, 2, 16, 0, tzinfo=UTC)


def test_a_shop_that_never_opens_has_no_next_opening() -> None:
    never = hours(by_day=dict.fromkeys(WEEKDAYS_9_TO_5, "closed"))
    assert not never.is_open(utc(2026, 12, 9, 18, 0))
    assert never.next_opening_words(utc(2026, 12, 9, 18, 0)) is None


def test_a_midday_break_reopens_the_same_day() -> None:
    split = hours(by_day={**WEEKDAYS_9_TO_5, "wed": "09:00-12:00, 13:00-17:00"})
    lunch = utc(2026, 12, 9, 20, 30)  # 12:30 in LA
    assert not split.is_open(lunch)
    opening = split.next_opening_words(lunch)
    assert opening is not None and (opening.day, opening.time_words) == (
        OpeningDay.TODAY,
        "13:00 PST",
    )


def test_a_stack_of_its_own_gets_support_at_every_hour(tmp_path: Path) -> None:
    """launcher/fresh.py's copy: stories and live tests hand off whatever the hour."""
    copy = write_always_open(DEFAULT_SHOP_SETTINGS, tmp_path / "shop.yml")
    shop = load_policies(copy, shop_url="https://shop.test")
    assert shop.support.business_hours is not None
    for moment in (utc(2026, 12, 12, 20, 0), utc(2026, 12, 25, 12, 0), utc(2026, 12, 9, 11, 0)):
        assert shop.support.business_hours.is_open(moment)
    assert shop.delivery == load_policies(shop_url="https://shop.test").delivery


def test_a_zero_handoff_wait_is_refused() -> None:
    data = shipped_settings()
    data["support"]["handoff_wait_minutes"] = 0
    with pytest.raises(
        ShopSettingsError, match=re.escape("`support.handoff_wait_minutes` must be a whole")
    ):
        parse_policies(data, shop_url="https://shop.test")


def test_a_country_code_yaml_reads_as_a_boolean_is_named() -> None:
    data = shipped_settings()
    data["delivery"]["ships_to"] = {False: "Norway"}  # what YAML makes of a bare `NO: Norway`
    with pytest.raises(
        ShopSettingsError, match=re.escape("quote the codes in `delivery.ships_to`")
    ):
        parse_policies(data, shop_url="https://shop.test")
