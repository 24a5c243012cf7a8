"""Labelled examples from Rasa NLU YAML (the one source both Rasa and the classifier read) or CSV.

A CSV has a header with `text` and `label` columns (other columns are ignored), the shape
most labelled sets and spreadsheet exports already have.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def strip_annotations(text: str) -> str:
    """'[000000001](order_number) please' → '000000001 please'."""
    return _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)


def read_nlu_file(path: Path) -> list[Example]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(document, dict):
        raise DataError(f"{path}: expected a Rasa NLU document with an `nlu:` list")
    examples: list[Example] = []
    for block in document.get("nlu", []) or []:
        intent = block.get("intent")
        if not intent:
            continue  # regex, lookup and synonym blocks are for Rasa-side extractors
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = strip_annotations(line[2:]).strip()
                if text:
                    examples.append(Example(text=text, label=intent))
    return examples


def read_nlu_dir(data_dir: Path) -> list[Example]:
    """All intent examples of the YAML files in `data_dir`, deduplicated, in a stable order."""
    return deduplicated(
        example for path in sorted(data_dir.rglob("*.yml")) for example in read_nlu_file(path)
    )


def read_csv(path: Path) -> list[Example]:
    """Examples of a CSV file with `text` and `label` columns; blank rows are skipped."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        rows = [(row["text"] or "", row["label"] or "") for row in reader]
    return deduplicated(
        Example(text=text.strip(), label=label.strip())
        for text, label in rows
        if text.strip() and label.strip()
    )


def read_examples(path: Path) -> list[Example]:
    """A Rasa NLU folder or YAML file, or a CSV file, by what `path` is."""
    if path.is_dir():
        return read_nlu_dir(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".csv":
        return read_csv(path)
    if path.suffix.lower() in {".yml", ".yaml"}:
        return deduplicated(read_nlu_file(path))
    raise DataError(f"{path}: expected a folder of Rasa NLU YAML, a .yml file or a .csv file")


class DataError(ValueError):
    """Training or evaluation data that cannot be read; the message says where and why."""


def deduplicated(examples: Iterable[Example]) -> list[Example]:
    """First occurrence of each (text, label), texts compared case-insensitively."""
    seen: set[tuple[str, str]] = set()
    kept: list[Example] = []
    for example in examples:
        key = (example.text.lower(), example.label)
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def data_hash(examples: list[Example], fingerprint: dict[str, Any]) -> str:
    """Changes when the examples or the training settings change: a stale adapter shows."""
    payload = json.dumps(
        {"examples": sorted((e.label, e.text) for e in examples), "settings": fingerprint},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stratified_split(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """A seeded split that keeps at least one training example of every label."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.label].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    held_out: list[Example] = []
    for intent in sorted(by_intent):
        group = sorted(by_intent[intent], key=lambda e: e.text)
        rng.shuffle(group)
        count = min(int(len(group) * fraction), len(group) - 1)
        held_out.extend(group[:count])
        train.extend(group[count:])
    return train, held_out
