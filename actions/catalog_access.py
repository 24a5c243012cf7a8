"""The catalog database as the actions see it: one settings object, one session per action run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from catalog.db import session_scope
from catalog.settings import CatalogSettings

UNAVAILABLE_TEXT = (
    "Sorry, I can't reach our shop's records right now. Please try again in a moment."
)


log = logging.getLogger(__name__)


def catalog_failure(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The polite answer when the catalog cannot be read; the error goes to the log."""
    log.exception("catalog query failed")
    dispatcher.utter_message(text=UNAVAILABLE_TEXT)
    return []


@cache
def settings() -> CatalogSettings:
    return CatalogSettings.from_env()


@contextmanager
def catalog_session() -> Iterator[Session]:
    with session_scope(settings().database_url) as session:
        yield session
