"""The learning benchmark's classifier: the current adapter reads the pool for misread
messages, and an adapter's predictions are scored as `nlu_models evaluate` scores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchmarks.learning_data import Misread
from benchmarks.measure import say
from nlu_models.config import ClassifierSettings
from nlu_models.data import Example

if TYPE_CHECKING:
    from nlu_models.classifier import Classifier
    from nlu_models.evaluation import EvaluationReport

TASK = "intent"
# The pool is read this many messages at a time until enough are misread: a multiple of the
# classifier's batch size, so the batches (int8 activations are quantized per batch) are the
# ones one call over the whole pool would make.
POOL_CHUNK = 256


def find_misreads(
    classifier: Classifier, pool: Sequence[Example], wanted: int
) -> tuple[list[Misread], int, int]:
    """The first `wanted` pool messages the classifier misreads; (them, messages read, right).

    The pool is read POOL_CHUNK messages at a time and reading stops once enough are found.
    """
    found: list[Misread] = []
    read = right = 0
    for start in range(0, len(pool), POOL_CHUNK):
        chunk = pool[start : start + POOL_CHUNK]
        predictions = classifier.predict(TASK, [e.text for e in chunk])
        for example, prediction in zip(chunk, predictions, strict=True):
            if prediction.label == example.label:
                right += 1
            elif len(found) < wanted:
                found.append(Misread(example.text, example.label, prediction.label))
        read += len(chunk)
        say(f"  pool: {read:,}/{len(pool):,} read, {read - right:,} misread")
        if len(found) >= wanted:
            break
    return found, read, right


# --- scoring -------------------------------------------------------------------------------


def predicted_labels(classifier: Classifier, examples: Sequence[Example]) -> list[str]:
    """One call for the whole set, as `nlu_models evaluate` scores a file."""
    return [p.label for p in classifier.predict(TASK, [e.text for e in examples])]


def load_classifier(settings: ClassifierSettings) -> Classifier:
    from nlu_models.classifier import Classifier

    return Classifier.load(settings, [TASK])


def scored(
    examples: Sequence[Example], predicted: Sequence[str], oos_label: str | None
) -> EvaluationReport:
    from nlu_models.evaluation import evaluate

    return evaluate([e.label for e in examples], predicted, oos_label)


def subset_accuracy(
    examples: Sequence[Example], predicted: Sequence[str], labels: set[str]
) -> float | None:
    pairs = [(e.label, p) for e, p in zip(examples, predicted, strict=True) if e.label in labels]
    if not pairs:
        return None
    return round(sum(gold == guess for gold, guess in pairs) / len(pairs), 4)
