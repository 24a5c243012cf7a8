"""Training examples from Rasa NLU YAML: the one source both Rasa and the classifier read."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def strip_annotations(text: str) -> str:
    """'[000000001](order_number) please' → '000000001 please'."""
    return _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)


def read_nlu_file(path: Path) -> list[Example]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
                    examples.append(Example(text=text, intent=intent))
    return examples


def read_nlu_dir(data_dir: Path) -> list[Example]:
    """All intent examples of the YAML files in `data_dir`, deduplicated, in a stable order."""
    seen: set[tuple[str, str]] = set()
    examples: list[Example] = []
    for path in sorted(data_dir.rglob("*.yml")):
        for example in read_nlu_file(path):
            key = (example.text.lower(), example.intent)
            if key not in seen:
                seen.add(key)
                examples.append(example)
    return examples


def data_hash(examples: list[Example], fingerprint: dict[str, Any]) -> str:
    """Changes when the examples or the training settings change: a stale adapter shows."""
    payload = json.dumps(
        {"examples": sorted((e.intent, e.text) for e in examples), "settings": fingerprint},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stratified_split(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """A seeded split that keeps at least one training example of every intent."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
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
