"""Failed order checks counted in the database: per order, e-mail and client, in a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog import attempts
from catalog.db import migrate, session_scope
from catalog.models import VerificationFailure

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    database = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(database)
    return database


def test_three_failures_lock_the_order_and_the_email_for_the_window(url: str) -> None:
    with session_scope(url) as session:
        for minute in range(3):
            assert attempts.locked_scopes(session, "000000101", "a@x.com", None, NOW) == []
            attempts.record_failure(
                session, "000000101", "a@x.com", "client-1", NOW + timedelta(minutes=minute)
            )
        later = NOW + timedelta(minutes=5)
        assert attempts.locked_scopes(session, "000000101", "b@x.com", None, later) == ["order"]
        assert attempts.locked_scopes(session, "000000999", "A@X.com", None, later) == ["email"]
        assert attempts.locked_scopes(session, "000000999", "b@x.com", "client-1", later) == []
        after_window = NOW + attempts.DEFAULT_LIMITS.window + timedelta(minutes=3)
        assert attempts.locked_scopes(session, "000000101", "a@x.com", None, after_window) == []


def test_a_client_is_locked_after_its_own_limit(url: str) -> None:
    limits = attempts.AttemptLimits(per_order=99, per_email=99, per_client=4)
    with session_scope(url) as session:
        for n in range(4):
            attempts.record_failure(session, f"00000010{n}", f"{n}@x.com", "10.0.0.7", NOW)
        assert attempts.locked_scopes(session, None, None, "10.0.0.7", NOW, limits) == ["address"]


def test_only_digests_are_stored(url: str) -> None:
    with session_scope(url) as session:
        attempts.record_failure(session, "000000101", "jane@example.com", "10.0.0.7", NOW)
        keys = session.scalars(select(VerificationFailure.key)).all()
    assert len(keys) == 3 and not any("jane" in k or "101" in k for k in keys)
    with session_scope(url) as session:
        assert attempts.forget_older_than(session, NOW + timedelta(seconds=1)) == 3


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        attempts.AttemptLimits(per_order=0)
    with pytest.raises(ValueError):
        attempts.AttemptLimits(window=timedelta(0))
