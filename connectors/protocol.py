"""The interface every order system and product source implements, and the capabilities a
connector declares.

Reading (find and verify an order, its parcels, items, invoices, refunds and returns) is what
every connector must do. Changes are optional: a connector lists the ones its platform allows
through its API in `capabilities`, and the actions never call a change that is not listed (they
say so and offer a person with the order attached). Verification attempts, their limits and the
audit of changes stay in ShopDesk (catalog/attempts.py, catalog/audit.py), whatever the
connector: a connector only answers whether a number and e-mail belong together.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from connectors.orders import Address, Cancellation, Order, ReturnRequest
from connectors.products import ProductRecord


class Capability(StrEnum):
    """A change a connector can make in the shop's system."""

    CANCEL = "cancel"
    CHANGE_ADDRESS = "change_address"
    START_RETURN = "start_return"


@runtime_checkable
class OrderSystem(Protocol):
    """The shop's orders. Every method may raise `ShopUnavailable` (nothing was changed) or
    `ShopError`; a change may raise `NotAllowed` (the shop's rules say no, with a sentence) and,
    when its capability is not declared, `Unsupported`."""

    name: str
    """The system's name for people: "the built-in order book", "Django Oscar", "Shopify"."""

    capabilities: frozenset[Capability]

    def order_number(self, typed: str) -> str | None:
        """The platform's form of an order number the shopper typed ("#1001", " 42 "), or None
        when it cannot be one; nothing is looked up."""
        ...

    def find_order(self, number: str, email: str) -> Order | None:
        """The order with this number if `email` is its customer's (orders.same_email), else
        None, for an unknown number and a wrong e-mail alike."""
        ...

    def cancel(self, order: Order, *, fee_cents: int, now: datetime) -> Cancellation:
        """Cancel an order that has not shipped; what was paid, less the fee, is refunded."""
        ...

    def change_address(self, order: Order, address: Address, *, now: datetime) -> Order:
        """Ship the order to `address` instead; returns the order as it is now."""
        ...

    def start_return(
        self, order: Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> ReturnRequest:
        """Ask to return what is left of one line; returns the request with its number."""
        ...


@runtime_checkable
class ProductSource(Protocol):
    """A shop's products, for `python -m catalog.cli sync` (catalog/sync.py)."""

    name: str

    def products(self) -> Iterator[ProductRecord]:
        """Every product the shop sells now (a product not listed is no longer sold)."""
        ...
