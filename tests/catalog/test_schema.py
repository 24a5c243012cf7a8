"""The migrated schema is the models' schema, on SQLite and PostgreSQL, and the newest
migration (0005, agents' corrections) goes down and up again without touching older data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from catalog import handoffs
from catalog.db import engine_for, migrate, session_scope
from catalog.models import Base, Handoff, NluCorrection
from tests.catalog import test_postgres
from tests.catalog.test_demo_order_book import migrate_to

postgres_url = test_postgres.postgres_url  # the fresh-schema fixture, for this module
NOW = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


def differences(url: str) -> list[object]:
    with engine_for(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found = compare_metadata(context, Base.metadata)
    # The search tables' generated columns and indexes live outside the models (0002): only
    # what the models declare counts. SQLite does not report the foreign key that 0002 adds
    # with ALTER TABLE ADD COLUMN ... REFERENCES (it is there: PostgreSQL's check sees it).
    return [
        d
        for d in found
        if not (isinstance(d, tuple) and d[0].startswith("remove_"))
        and not (url.startswith("sqlite") and d[0] == "add_fk" and d[1].table.name == "order_lines")
    ]


def corrections_round_trip(url: str) -> None:
    migrate(url)
    assert differences(url) == []
    with session_scope(url) as session:
        handoffs.request(session, "chat-1", "asked for a person", now=NOW)
        session.add(
            NluCorrection(
                conversation_id="chat-1", message_at=1764320000.25, text="wher is my parcel",
                predicted_intent="greet", correct_intent="track_order", created_at=NOW,
            )
        )  # fmt: skip
    migrate_to(url, "0004", down=True)
    assert "nlu_corrections" not in inspect(engine_for(url)).get_table_names()
    migrate(url)
    with session_scope(url) as session:
        assert session.scalars(select(Handoff.conversation_id)).all() == ["chat-1"]
        assert session.scalars(select(NluCorrection)).all() == []


def test_the_schema_matches_the_models_on_sqlite(tmp_path) -> None:
    corrections_round_trip(f"sqlite:///{tmp_path / 'shop.sqlite3'}")


@pytest.mark.postgres
def test_the_schema_matches_the_models_on_postgresql(postgres_url: str) -> None:
    corrections_round_trip(postgres_url)
