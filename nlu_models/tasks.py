"""Where each task's training data comes from, and keeping every adapter current."""

from __future__ import annotations

from dataclasses import dataclass

from nlu_models.data import Example, read_examples
from nlu_models.settings import TASKS, ClassifierSettings
from nlu_models.training import TrainingResult, ensure_trained
from nlu_models.vocabulary import Vocabulary


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
    results = {
        task: ensure_trained(settings, task, training_examples(settings, task), progress)
        for task in tasks
    }
    return EnsureReport(results, refresh_vocabulary(settings))
