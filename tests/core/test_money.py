"""The one money formatter (core/money.py): the product's currency, not a hard-coded "$"."""

from __future__ import annotations

import pytest

from core.money import format_money


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (1200, "EUR", "€12.00"),
        (1200, "eur", "€12.00"),
        (5250, "USD", "$52.50"),
        (99, "GBP", "£0.99"),
        (129900, "USD", "$1,299.00"),
        (1200, "JPY", "¥1,200"),  # no minor unit
        (1200, "CHF", "CHF 12.00"),  # no symbol: the code
        (-500, "USD", "-$5.00"),
    ],
)
def test_amounts_in_their_currency(cents: int, currency: str, shown: str) -> None:
    assert format_money(cents, currency) == shown


def test_dollars_by_default_and_grouping_can_be_left_out() -> None:
    assert format_money(1234567) == "$12,345.67"
    assert format_money(1234567, grouping=False) == "$12345.67"
