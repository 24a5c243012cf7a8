"""The one money formatter: every price, fee and threshold a shopper or agent reads.

Amounts are whole minor units (cents) as the catalog stores them; the currency is the
product's or the shop's ISO 4217 code, so a "12.00 EUR" product never shows as "$12.00".
"""

from __future__ import annotations

from typing import Final

SYMBOLS: Final[dict[str, str]] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥"}
ZERO_DECIMAL: Final = frozenset({"JPY", "KRW"})


def format_money(cents: int, currency: str = "USD", *, grouping: bool = True) -> str:
    """`1234567, "USD"` -> "$12,345.67"; an unknown code is written before the number
    ("CHF 12.00"). Negative amounts keep their sign in front ("-$5.00")."""
    code = (currency or "USD").upper()
    symbol = SYMBOLS.get(code, f"{code} ")
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    if code in ZERO_DECIMAL:
        number = f"{cents:,d}" if grouping else str(cents)
    else:
        whole, fraction = divmod(cents, 100)
        number = f"{whole:,d}.{fraction:02d}" if grouping else f"{whole}.{fraction:02d}"
    return f"{sign}{symbol}{number}"
