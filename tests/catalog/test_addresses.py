"""Shipping-address fields as a chat form checks them, one at a time."""

import pytest

from catalog.addresses import (
    US_ONLY_TEXT,
    US_STATES,
    Address,
    FieldCheck,
    validate_city,
    validate_country,
    validate_name,
    validate_postcode,
    validate_region,
    validate_street,
)


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("6146 Honey Bluff Parkway", "6146 Honey Bluff Parkway"),
        ("  12B   Elm St  Apt 4 ", "12B Elm St Apt 4"),
        ("123-45 Main Street", "123-45 Main Street"),
    ],
)
def test_a_street_has_a_house_number_and_a_name(typed: str, cleaned: str) -> None:
    assert validate_street(typed) == FieldCheck(cleaned)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Honey Bluff Parkway", "start with the house number"),
        ("PO Box 12", "start with the house number"),
        ("6146 42", "street name"),
        ("1 A", "with the house number"),
        ("6146 Honey" + " Bluff" * 30, "with the house number"),
        ("6146 Honey\x00Bluff", "characters I can't use"),
        ("6146 Honey\x1b[2J Bluff", "characters I can't use"),
    ],
)
def test_a_street_without_them_says_what_is_missing(typed: str, said: str) -> None:
    check = validate_street(typed)
    assert check.value is None and check.problem is not None and said in check.problem
    assert "6146 Honey Bluff Parkway" in check.problem  # shows an example


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("san diego", "San Diego"),
        ("WINSTON-SALEM", "Winston-Salem"),
        ("St. Louis", "St. Louis"),
        ("Coeur d'Alene", "Coeur d'Alene"),
        ("  Salt   Lake City ", "Salt Lake City"),
    ],
)
def test_cities(typed: str, cleaned: str) -> None:
    assert validate_city(typed) == FieldCheck(cleaned)


@pytest.mark.parametrize("typed", ["", "12345", "Paris 75001", "x" * 61, "-"])
def test_not_a_city(typed: str) -> None:
    assert validate_city(typed).value is None and validate_city(typed).problem


@pytest.mark.parametrize(
    ("typed", "code"),
    [("CA", "CA"), ("ca", "CA"), ("California", "CA"), ("new york", "NY"), ("N.Y.", "NY"),
     ("District of Columbia", "DC"), (" hawaii ", "HI")],
)  # fmt: skip
def test_a_state_by_code_or_name_becomes_its_code(typed: str, code: str) -> None:
    assert validate_region(typed) == FieldCheck(code)


@pytest.mark.parametrize("typed", ["Ontario", "XX", "", "Cali"])
def test_not_a_state(typed: str) -> None:
    check = validate_region(typed)
    assert check.value is None and check.problem and "CA or California" in check.problem


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [("49628", "49628"), ("49628-7978", "49628-7978"), ("496287978", "49628-7978"),
     (" 49628 7978 ", "49628-7978"), ("02903", "02903")],
)  # fmt: skip
def test_zip_codes(typed: str, cleaned: str) -> None:
    assert validate_postcode(typed) == FieldCheck(cleaned)


@pytest.mark.parametrize("typed", ["4962", "496281", "ABCDE", "49628-79", "SW1A 1AA", ""])
def test_not_a_zip_code(typed: str) -> None:
    check = validate_postcode(typed)
    assert check.value is None and check.problem and "5-digit ZIP" in check.problem


def test_the_shop_ships_to_the_united_states_only() -> None:
    assert validate_postcode("75001", country="FR") == FieldCheck(None, US_ONLY_TEXT)
    for typed in ("US", "usa", "U.S.A.", "United States", "united states of america"):
        assert validate_country(typed) == FieldCheck("US")
    for typed in ("Canada", "Mexico", "FR", ""):
        assert validate_country(typed) == FieldCheck(None, US_ONLY_TEXT)
    assert "United States" in US_ONLY_TEXT


def test_names_and_the_address_line() -> None:
    assert validate_name("  Veronica   Costello ") == FieldCheck("Veronica Costello")
    assert validate_name("42").value is None and validate_name("").problem
    address = Address("Veronica Costello", "6146 Honey Bluff Parkway", "Calder", "MI", "49628-7978")
    assert address.country == "US" and address.region in US_STATES
    assert address.one_line() == (
        "Veronica Costello, 6146 Honey Bluff Parkway, Calder, MI 49628-7978, US"
    )
    assert len(US_STATES) == 53 and US_STATES["GU"] == "Guam"
