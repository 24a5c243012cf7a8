"""Out-of-scope detection: an explicit out-of-scope class plus a confidence threshold.

The class catches messages like the out-of-scope examples it was trained on; the threshold
catches the rest, messages the model is unsure about. The threshold is tuned on validation
data: the one that finds the most out-of-scope messages while giving up at most
`max_in_scope_loss` of in-scope accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

OOS_LABELS = ("out_of_scope", "oos")  # what the bot's data and CLINC150 call the class


def find_oos_label(labels: Sequence[str]) -> str | None:
    return next((label for label in OOS_LABELS if label in labels), None)


def decide(label: str, confidence: float, oos_label: str | None, threshold: float) -> bool:
    """Whether a prediction counts as out of scope."""
    return (oos_label is not None and label == oos_label) or confidence < threshold


def tune_threshold(
    predicted: Sequence[str],
    confidences: Sequence[float],
    gold: Sequence[str],
    oos_label: str,
    max_in_scope_loss: float,
) -> float:
    """The threshold with the best out-of-scope recall within the allowed in-scope loss.

    0.0 when the validation data holds no out-of-scope example to tune on.
    """
    in_scope = [i for i, g in enumerate(gold) if g != oos_label]
    out_of_scope = [i for i, g in enumerate(gold) if g == oos_label]
    if not out_of_scope or not in_scope:
        return 0.0

    def scores(threshold: float) -> tuple[float, float]:
        accepted = [
            predicted[i] == gold[i]
            and not decide(predicted[i], confidences[i], oos_label, threshold)
            for i in in_scope
        ]
        caught = [decide(predicted[i], confidences[i], oos_label, threshold) for i in out_of_scope]
        return sum(accepted) / len(in_scope), sum(caught) / len(out_of_scope)

    base_accuracy, best_recall = scores(0.0)
    best = 0.0
    for candidate in (i / 100 for i in range(1, 100)):
        accuracy, recall = scores(candidate)
        if accuracy >= base_accuracy - max_in_scope_loss and recall > best_recall:
            best, best_recall = candidate, recall
    return best
