"""A migrated shop database with corrections, and a small intent data folder and domain.

The intent data is tests/nlu_models' SMALL_NLU (four intents, eight examples each), so the
retrain tests train the same tiny adapter those tests do, on the offline 8-bit MiniLM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from catalog.db import migrate, session_scope
from catalog.models import NluCorrection
from learning.corrections import ExportPaths
from tests.nlu_models.conftest import SMALL_NLU

SMALL_INTENTS = ("greet", "track_order", "search_product", "out_of_scope")


@dataclass(frozen=True)
class Shop:
    """Where one test's shop lives: its database, intent data, domain and learning folder."""

    url: str
    root: Path
    paths: ExportPaths

    @property
    def data_dir(self) -> Path:
        return self.paths.data_dir


AddCorrections = Callable[[Sequence[tuple[str, str]]], None]


def write_domain(path: Path, intents: Sequence[str]) -> None:
    lines = ['version: "3.1"', "intents:", *(f"  - {intent}" for intent in intents)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(SMALL_NLU, encoding="utf-8")
    domain = tmp_path / "domain.yml"
    write_domain(domain, SMALL_INTENTS)
    paths = ExportPaths(data, domain, tmp_path / "var" / "learning" / "new_intents.yml")
    return Shop(url, tmp_path, paths)


@pytest.fixture
def add_corrections(shop: Shop) -> AddCorrections:
    """add_corrections([(text, intent), ...]): rows as the agent console stores them."""
    counter = [0]

    def add(rows: Sequence[tuple[str, str]]) -> None:
        with session_scope(shop.url) as session:
            for text, intent in rows:
                counter[0] += 1
                session.add(
                    NluCorrection(
                        conversation_id=f"conversation-{counter[0]}",
                        message_at=1_800_000_000.0 + counter[0],
                        text=text,
                        predicted_intent="search_product",
                        correct_intent=intent,
                        is_new_intent=intent not in SMALL_INTENTS,
                        agent_id=None,
                        created_at=datetime(2026, 11, 20) + timedelta(minutes=counter[0]),
                    )
                )

    return add
