"""Optional features ship as pip extras (pyproject.toml): `[scaled]` brings psycopg and redis for
the PostgreSQL/Redis setup, `[dp]` brings Opacus for `train --dp`. A plain install leaves them
out, so the code that needs one imports it inside `missing_extra`, which turns a bare
`ModuleNotFoundError` deep in a stack into one sentence naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum


class Extra(StrEnum):
    """The optional-dependency groups of pyproject.toml that code checks for."""

    SCALED = "scaled"  # psycopg, redis: the catalog on PostgreSQL, Rasa's lock store on Redis
    DP = "dp"  # opacus: differentially private training


EXTRA_MODULES: dict[Extra, frozenset[str]] = {
    Extra.SCALED: frozenset({"psycopg", "redis"}),
    Extra.DP: frozenset({"opacus"}),
}
"""The top-level modules each extra provides; tests/test_dependencies.py keeps it in step
with pyproject.toml."""


class MissingExtraError(ModuleNotFoundError):
    """A feature was used whose extra is not installed."""


def install_hint(extra: Extra) -> str:
    return f"pip install -e '.[{extra}]'"


@contextmanager
def missing_extra(extra: Extra, feature: str) -> Iterator[None]:
    """Imports in this block come from `extra`; a missing one raises MissingExtraError saying
    that `feature` needs it and how to install it. Other import errors pass unchanged."""
    try:
        yield
    except ModuleNotFoundError as error:
        top = (error.name or "").split(".")[0]
        if top not in EXTRA_MODULES[extra]:
            raise
        raise MissingExtraError(
            f"{feature} needs the optional '{extra}' dependencies ({top} is not installed): "
            f"{install_hint(extra)}",
            name=error.name,
        ) from error
