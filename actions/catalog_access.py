"""The shop's records as the actions see it: one settings object, one session per action run
for ShopDesk's own database, the connected order system (catalog/order_system.py), and one
polite answer when either cannot be read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog.db import session_scope
from catalog.settings import CatalogSettings
from connectors.errors import ConnectorError, ShopError, ShopUnavailable

UNAVAILABLE_RESPONSE: Final = "utter_catalog_unavailable"
"""bot/domain.yml's answer when the shop's records cannot be read; `leaves_form` looks for it."""
ORDERS_UNAVAILABLE_RESPONSE: Final = "utter_order_system_unavailable"
"""... and when the shop's order system (a connected Oscar, Shopify, Magento) does not answer:
nothing was looked up or changed, and the conversation keeps what the shopper typed."""

Events = list[dict[str, Any]]
Params = ParamSpec("Params")
ActionSelf = TypeVar("ActionSelf")

log = logging.getLogger(__name__)


def catalog_failure(dispatcher: CollectingDispatcher) -> Events:
    """The polite answer when the catalog cannot be read; the error goes to the log."""
    log.exception("catalog query failed")
    dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
    return []


def order_system_failure(dispatcher: CollectingDispatcher, error: ConnectorError) -> Events:
    """The polite answer when the connected order system failed; the cause goes to the log
    (without the token: connectors.http never puts it in a message)."""
    log.warning("order system failed: %s", error)
    dispatcher.utter_message(response=ORDERS_UNAVAILABLE_RESPONSE)
    return []


def apologise_if_catalog_down(
    method: Callable[Concatenate[ActionSelf, CollectingDispatcher, Params], Events],
) -> Callable[Concatenate[ActionSelf, CollectingDispatcher, Params], Events]:
    """Decorator of an action's method `(self, dispatcher, ...)` that reads the catalog: a
    database error anywhere in it becomes `catalog_failure` (logged, the shopper told), so no
    action repeats its own `try/except SQLAlchemyError` around the whole body. The connected
    order system failing (ShopUnavailable, ShopError) is told the same way, in its own words."""

    @wraps(method)
    def guarded(
        self: ActionSelf,
        dispatcher: CollectingDispatcher,
        /,
        *args: Params.args,
        **kwargs: Params.kwargs,
    ) -> Events:
        try:
            return method(self, dispatcher, *args, **kwargs)
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        except (ShopUnavailable, ShopError) as error:
            return order_system_failure(dispatcher, error)

    return guarded


@cache
def settings() -> CatalogSettings:
    return CatalogSettings.from_env()


@contextmanager
def catalog_session() -> Iterator[Session]:
    with session_scope(settings().database_url) as session:
        yield session
