"""The learning benchmark's inputs: the Bitext utterances the bot never trained on, split into
a corrections pool and an unseen test set, and the misread ones stored as agents' corrections.
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from nlu_models.data import Example


class BenchmarkError(ValueError):
    """Bad input or a set-up the benchmark cannot run on; the message says what to do."""


# --- the data ------------------------------------------------------------------------------


@dataclass
class BitextData:
    """The Bitext utterances the intent data does not have, under the bot's intent names."""

    rows: int = 0
    candidates: list[Example] = field(default_factory=list)
    already_in_data: int = 0  # rows whose text the intent data has (under any intent)
    duplicates: int = 0  # rows repeating a text (and intent) of an earlier row
    ambiguous: int = 0  # rows of texts Bitext has under two intents: dropped
    empty: int = 0  # rows without a text
    other_intents: dict[str, int] = field(default_factory=dict)  # rows of intents not used

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "candidates": len(self.candidates),
            "intents": len({e.label for e in self.candidates}),
            "already_in_data": self.already_in_data,
            "duplicates": self.duplicates,
            "ambiguous": self.ambiguous,
            "empty": self.empty,
            "other_intents": dict(sorted(self.other_intents.items())),
        }


def read_bitext(source: Path, known_texts: set[str], intents: set[str]) -> BitextData:
    """Rows of `source` whose intent is one of Bitext's and of `intents` (the current adapter's
    labels; Bitext's names are the bot's), less the texts in `known_texts` (normalised)."""
    from nlu_models.bitext import DEFAULT_INTENTS
    from nlu_models.data_checks import normalise

    if not source.is_file():
        raise BenchmarkError(f"{source}: no such file (set --csv to the Bitext CSV)")
    result = BitextData()
    by_text: dict[str, dict[str, str]] = defaultdict(dict)
    rows_of: Counter[str] = Counter()
    usable = set(DEFAULT_INTENTS) & intents
    try:
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"instruction", "intent"} - set(reader.fieldnames or [])
            if missing:
                raise BenchmarkError(
                    f"{source}: not Bitext's columns (missing {', '.join(sorted(missing))})"
                )
            for row in reader:
                result.rows += 1
                intent = (row["intent"] or "").strip()
                text = " ".join((row["instruction"] or "").split())
                if intent not in usable:
                    name = intent or "(none)"
                    result.other_intents[name] = result.other_intents.get(name, 0) + 1
                    continue
                if not text:
                    result.empty += 1
                    continue
                key = normalise(text)
                if key in known_texts:
                    result.already_in_data += 1
                    continue
                rows_of[key] += 1
                if intent in by_text[key]:
                    result.duplicates += 1
                else:
                    by_text[key][intent] = text
    except UnicodeDecodeError:
        raise BenchmarkError(f"{source}: not a UTF-8 CSV file") from None
    for key, texts in by_text.items():
        if len(texts) > 1:
            result.ambiguous += rows_of[key]
            continue
        [(intent, text)] = texts.items()
        result.candidates.append(Example(text, intent))
    result.candidates.sort(key=lambda e: (e.label, e.text))
    return result


def split_pool(
    candidates: Sequence[Example], test_size: int, seed: int
) -> tuple[list[Example], list[Example]]:
    """(pool, test): exactly `test_size` test messages, each intent's share in proportion
    (largest remainders), drawn with `seed`; the pool is the rest, shuffled."""
    if test_size >= len(candidates):
        raise BenchmarkError(
            f"--test-size {test_size} leaves no corrections pool: there are "
            f"{len(candidates)} usable Bitext utterances"
        )
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in candidates:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    groups: dict[str, list[Example]] = {}
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: e.text)
        rng.shuffle(group)
        groups[label] = group
    shares = {label: test_size * len(group) / len(candidates) for label, group in groups.items()}
    quota = {label: int(share) for label, share in shares.items()}
    left = test_size - sum(quota.values())
    for label in sorted(shares, key=lambda name: (quota[name] - shares[name], name))[:left]:
        quota[label] += 1
    test = [e for label, group in groups.items() for e in group[: quota[label]]]
    pool = [e for label, group in groups.items() for e in group[quota[label] :]]
    rng.shuffle(pool)
    return pool, test


# --- the corrections ---------------------------------------------------------------------


@dataclass(frozen=True)
class Misread:
    text: str
    correct_intent: str
    predicted_intent: str


def store_corrections(database_url: str, misreads: Sequence[Misread]) -> None:
    """One `nlu_corrections` row per misread message, as the agent console stores a verdict
    (`web.corrections.mark`): the text redacted, a made-up conversation for each."""
    from catalog.db import session_scope
    from catalog.models import NluCorrection
    from privacy.redaction import redact

    started = datetime(2026, 11, 20, 9, 0)
    with session_scope(database_url) as session:
        for number, misread in enumerate(misreads, start=1):
            session.add(
                NluCorrection(
                    conversation_id=f"benchmark-{number:05d}",
                    message_at=1_800_000_000.0 + number,
                    text=redact(misread.text)[:2000],
                    predicted_intent=misread.predicted_intent[:64],
                    correct_intent=misread.correct_intent,
                    is_new_intent=False,
                    agent_id=None,
                    created_at=started + timedelta(minutes=number),
                )
            )
