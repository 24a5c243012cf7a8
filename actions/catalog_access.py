"""The catalog database as the actions see it: one settings object, one session per action run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy.orm import Session

from catalog.db import session_scope
from catalog.settings import CatalogSettings

UNAVAILABLE_TEXT = (
    "Sorry, I can't reach our shop's records right now. Please try again in a moment."
)


@cache
def settings() -> CatalogSettings:
    return CatalogSettings.from_env()


@contextmanager
def catalog_session() -> Iterator[Session]:
    with session_scope(settings().database_url) as session:
        yield session
