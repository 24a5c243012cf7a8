"""Keeping every adapter current: train each task whose data or settings changed, then
refresh the entity vocabulary from the catalog (`python -m nlu_models ensure`).

Apart from nlu_models/tasks.py (where each task's data comes from) because it drives the
trainer, and the trainer reads the intent task's split rule from tasks.py: one direction,
no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nlu_models.config import TASKS, ClassifierSettings
from nlu_models.tasks import catalog_url, training_examples

if TYPE_CHECKING:  # torch and the training code load only when something is trained
    from nlu_models.training import TrainingResult
    from nlu_models.vocabulary import Vocabulary


def refresh_vocabulary(settings: ClassifierSettings) -> Vocabulary:
    """Rebuild the entity vocabulary from the catalog; cheap, so done on every `ensure`."""
    from catalog.db import session_scope
    from nlu_models.vocabulary import build_vocabulary

    with session_scope(catalog_url()) as session:
        vocabulary = build_vocabulary(session)
    vocabulary.save(settings.model_root)
    return vocabulary


@dataclass(frozen=True)
class EnsureReport:
    results: dict[str, TrainingResult]
    vocabulary: Vocabulary


def ensure_all(
    settings: ClassifierSettings, tasks: tuple[str, ...] = TASKS, progress: bool = True
) -> EnsureReport:
    from nlu_models.training import ensure_trained

    results = {
        task: ensure_trained(settings, task, training_examples(settings, task), progress)
        for task in tasks
    }
    return EnsureReport(results, refresh_vocabulary(settings))
