"""Answers to a form's choices, as shoppers write them."""

from __future__ import annotations

import pytest

from actions.choices import match_choice, normalise

ITEMS = ["Quest Lumaflex™ Band", "Sprite Yoga Strap 6 foot", "Chaz Kangeroo Hoodie"]


def test_names_are_compared_without_symbols_case_or_accents() -> None:
    assert normalise("  Quest  Lumaflex™ Band ") == "quest lumaflex band"
    assert normalise("Café Crème") == "cafe creme"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Quest Lumaflex™ Band", 0),
        ("quest lumaflex band", 0),
        ("the band", 0),
        ("lumaflx band", 0),  # a typo
        ("I'd like to return the Quest Lumaflex Band please", 0),
        ("2", 1),
        ("#3", 2),
        ("number 1", 0),
        ("the strap", 1),
        ("chaz kangaroo hoody", 2),
        ("something else entirely", None),
        ("", None),
        ("7", None),  # no seventh item
    ],
)
def test_the_choice_meant(answer: str, expected: int | None) -> None:
    assert match_choice(answer, ITEMS) == expected


def test_positions_found_by_the_extractor_win() -> None:
    assert match_choice("the second one", ITEMS, [2]) == 1
    assert match_choice("the last one", ITEMS, [-1]) == 2


def test_two_equally_good_choices_are_never_guessed() -> None:
    assert match_choice("the hoodie", ["Chaz Kangeroo Hoodie", "Hero Hoodie"]) is None
    assert match_choice("hero", ["Chaz Kangeroo Hoodie", "Hero Hoodie"]) == 1


def test_reasons_and_buttons_match_the_same_way() -> None:
    reasons = ["Too small", "Too big", "Arrived damaged or defective", "Changed my mind"]
    assert match_choice("too big", reasons) == 1
    assert match_choice("it arrived damaged", reasons) == 2
    assert match_choice("unsubscribe", ["Subscribe", "Unsubscribe"]) == 1
