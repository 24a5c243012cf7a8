"""Where each task's training data comes from (keeping every adapter current is
nlu_models/ensure.py).

The intent task's validation split is fixed: it is drawn from the shop's own examples only
(`bot/data` less the learning loop's `nlu_corrections.yml`), so adding agents' corrections
never moves it and scores before and after a retrain compare; corrections always train.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu_models.config import TASKS, ClassifierSettings
from nlu_models.data import (
    Example,
    deduplicated,
    read_examples,
    read_nlu_file,
    stratified_split,
)


def catalog_url() -> str:
    from catalog.settings import CatalogSettings

    return CatalogSettings.from_env().database_url


def training_examples(settings: ClassifierSettings, task: str) -> list[Example]:
    """intent: the Rasa NLU data (or a CSV) at `settings.intent_data`; category: the catalog."""
    if task == "intent":
        return read_examples(settings.intent_data)
    if task == "category":
        from catalog.db import session_scope
        from nlu_models.category_data import category_examples

        with session_scope(catalog_url()) as session:
            return category_examples(session)
    raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")


# Written by `python -m learning export` into the intent data folder; see docs/learning.md.
CORRECTIONS_FILE = "nlu_corrections.yml"


@dataclass(frozen=True)
class IntentData:
    """The intent examples by origin: the shop's own files and the agents' corrections."""

    own: list[Example]
    corrections: list[Example]  # not also in the shop's own files
    own_files: dict[Path, list[Example]]  # each own file's examples, for reporting where


def corrections_file(data: Path) -> Path:
    return data / CORRECTIONS_FILE


def read_intent_data(data: Path) -> IntentData:
    """Split a Rasa NLU folder into own examples and corrections; a file or CSV is all own."""
    if not data.is_dir():
        return IntentData(read_examples(data), [], {})
    generated = corrections_file(data)
    own_files = {
        path: read_nlu_file(path) for path in sorted(data.rglob("*.yml")) if path != generated
    }
    own = deduplicated(e for examples in own_files.values() for e in examples)
    known = {_key(e) for e in own}
    corrections = deduplicated(
        e for e in (read_nlu_file(generated) if generated.is_file() else []) if _key(e) not in known
    )
    return IntentData(own, corrections, own_files)


def intent_split(
    settings: ClassifierSettings, examples: Sequence[Example]
) -> tuple[list[Example], list[Example]]:
    """The one rule for the intent task's (training, validation) examples.

    A stratified `validation_fraction` (seed `seed`) of the examples that are not corrections
    is held out; the rest train, followed by every correction. Corrections are the examples of
    `settings.intent_data`'s corrections file, so without one this is the plain stratified
    split it always was (same adapter, same data hash).
    """
    data = read_intent_data(settings.intent_data) if settings.intent_data.is_dir() else None
    corrected = {_key(e) for e in data.corrections} if data is not None else set()
    own = [e for e in examples if _key(e) not in corrected]
    corrections = [e for e in examples if _key(e) in corrected]
    config = settings.training
    train, validation = stratified_split(own, config.validation_fraction, config.seed)
    return train + corrections, validation


def _key(example: Example) -> tuple[str, str]:
    """What `deduplicated` counts as the same example."""
    return example.text.lower(), example.label
