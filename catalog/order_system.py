"""The built-in order book as an `OrderSystem`, and the one place the shop's connector is chosen.

ShopDesk's own order tables (catalog.models, filled by the Luma import and the demo order book)
are the default connector, so `make run` answers order questions with no shop and no network.
`order_system()` returns the connector the shop's settings name (SHOPDESK_ORDERS,
connectors/settings.py), built once per process; `product_source()` the same system's
products, for `python -m catalog.cli sync`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import customer_service
from catalog.db import session_scope
from catalog.models import Order as OrderRow
from catalog.order_views import order_view
from catalog.orders import ORDER_WITH_DETAILS, normalise_order_number
from catalog.settings import CatalogSettings
from connectors import orders
from connectors.errors import NotAllowed, ShopError
from connectors.orders import Address, Cancellation
from connectors.protocol import Capability, OrderSystem, ProductSource
from connectors.settings import BUILTIN, MAGENTO, OSCAR, SHOPIFY, ConnectorSettings
from connectors.statuses import RefundStatus, ReturnStatus
from core.settings import SettingsError, ShopDeskSettings, settings

BUILTIN_NAME: Final = "the built-in order book"


class SqlOrderBook:
    """ShopDesk's own order tables: every capability, one database transaction per call."""

    name = BUILTIN_NAME
    capabilities = frozenset(Capability)

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    @contextmanager
    def _row(self, session: Session, number: str) -> Iterator[OrderRow]:
        row = session.scalar(
            select(OrderRow).where(OrderRow.number == number).options(*ORDER_WITH_DETAILS)
        )
        if row is None:  # it was there when the shopper proved it: deleted since
            raise ShopError(f"order {number} is no longer in {self.name}")
        yield row

    def order_number(self, typed: str) -> str | None:
        return normalise_order_number(typed)

    def find_order(self, number: str, email: str) -> orders.Order | None:
        with session_scope(self.database_url) as session:
            row = customer_service.verify_order(session, number, email)
            return order_view(row) if row is not None else None

    def cancel(self, order: orders.Order, *, fee_cents: int, now: datetime) -> Cancellation:
        with session_scope(self.database_url) as session, self._row(session, order.number) as row:
            refund = customer_service.cancel_order(session, row, now, fee_cents=fee_cents)
            started = (
                orders.Refund(refund.amount_cents, RefundStatus(refund.status), refund.method, now)
                if refund is not None
                else None
            )
            return Cancellation(order_view(row), fee_cents, started)

    def change_address(
        self, order: orders.Order, address: Address, *, now: datetime
    ) -> orders.Order:
        with session_scope(self.database_url) as session, self._row(session, order.number) as row:
            customer_service.change_shipping_address(session, row, address, now)
            return order_view(row)

    def start_return(
        self, order: orders.Order, line_id: str, reason: str, *, now: datetime, window_days: int
    ) -> orders.ReturnRequest:
        with session_scope(self.database_url) as session, self._row(session, order.number) as row:
            line = next((line for line in row.lines if str(line.id) == line_id), None)
            if line is None:
                raise NotAllowed(f"That item is not part of order {order.number}.")
            created = customer_service.create_return(session, row, line, reason, now, window_days)
            return orders.ReturnRequest(
                created.number,
                line_id,
                created.qty,
                ReturnStatus(created.status),
                created.created_at,
            )


def connect(chosen: ConnectorSettings, database_url: str) -> OrderSystem:
    """The connector `chosen` names (a remote one reads its URL and token now)."""
    if chosen.orders == BUILTIN:
        return SqlOrderBook(database_url)
    if chosen.orders == OSCAR:
        from connectors import oscar

        return oscar.connect(chosen)
    if chosen.orders == SHOPIFY:
        from connectors import shopify

        return shopify.connect(chosen)
    if chosen.orders == MAGENTO:
        from connectors import magento

        return magento.connect(chosen)
    raise AssertionError(chosen.orders)  # ConnectorSettings allows no other value


class OrderSystemNotSetUp(SettingsError, ShopError):
    """The shop's settings name a connector that cannot be built (no address, no token, an
    unknown name): a SettingsError, with its sentence, for the operator's commands, and for
    the actions an order system that cannot answer (they apologise; the sentence is logged)."""

    def __init__(self, message: str) -> None:
        SettingsError.__init__(self, message)
        self.status = None


def order_system() -> OrderSystem:
    """This process's order system, as the shop's settings choose it (built once per settings:
    a test that sets other settings gets its own); OrderSystemNotSetUp when it cannot be."""
    try:
        return _connected(settings())
    except SettingsError as error:
        raise OrderSystemNotSetUp(str(error)) from None


@lru_cache(maxsize=4)
def _connected(current: ShopDeskSettings) -> OrderSystem:
    return connect(
        current.section(ConnectorSettings), current.section(CatalogSettings).database_url
    )


def product_source() -> ProductSource | None:
    """The connected shop's products for catalog sync; None for the built-in order book,
    whose products come from the importers (Luma data, feeds)."""
    system = order_system()
    return system if isinstance(system, ProductSource) else None
