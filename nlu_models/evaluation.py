"""Scores of a classifier on labelled examples, as JSON and as a Markdown table people read."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFUSED_PAIRS = 10


@dataclass(frozen=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    examples: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, LabelScore]
    confused_pairs: list[tuple[str, str, int]]  # (gold, predicted, count), most frequent first
    oos_label: str | None
    in_scope_accuracy: float | None  # accuracy on messages whose gold label is in scope
    oos_recall: float | None  # share of out-of-scope messages recognised as such

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, folder: Path, title: str) -> tuple[Path, Path]:
        """evaluation.json and evaluation.md in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        json_path, md_path = folder / "evaluation.json", folder / "evaluation.md"
        json_path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        md_path.write_text(self.to_markdown(title), encoding="utf-8")
        return json_path, md_path

    def to_markdown(self, title: str) -> str:
        lines = [f"# {title}", "", "| measure | value |", "|---|---|"]
        lines.append(f"| examples | {self.examples} |")
        lines.append(f"| accuracy | {self.accuracy:.2%} |")
        lines.append(f"| macro-F1 | {self.macro_f1:.2%} |")
        if self.oos_label is not None:
            lines.append(f"| in-scope accuracy | {_percent(self.in_scope_accuracy)} |")
            lines.append(f"| out-of-scope recall | {_percent(self.oos_recall)} |")
        lines += ["", "## Most confused pairs", "", "| gold | predicted | count |", "|---|---|---|"]
        lines += [f"| {g} | {p} | {n} |" for g, p, n in self.confused_pairs] or ["| none | | |"]
        lines += [
            "",
            "## Per label",
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for label, score in sorted(self.per_label.items(), key=lambda item: item[1].f1):
            lines.append(
                f"| {label} | {score.precision:.2%} | {score.recall:.2%} | {score.f1:.2%} "
                f"| {score.support} |"
            )
        return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def evaluate(
    gold: Sequence[str], predicted: Sequence[str], oos_label: str | None = None
) -> EvaluationReport:
    """Accuracy, macro-F1 over the gold labels, per-label scores and the top confusions.

    `predicted` holds final decisions: a message judged out of scope carries `oos_label`.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    if not gold:
        raise ValueError("nothing to evaluate: no examples")
    pairs = list(zip(gold, predicted, strict=True))
    true_positive = Counter(g for g, p in pairs if g == p)
    gold_count = Counter(gold)
    predicted_count = Counter(predicted)
    per_label: dict[str, LabelScore] = {}
    for label in sorted(gold_count):
        tp = true_positive[label]
        precision = tp / predicted_count[label] if predicted_count[label] else 0.0
        recall = tp / gold_count[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = LabelScore(
            round(precision, 4), round(recall, 4), round(f1, 4), gold_count[label]
        )
    confusions = Counter((g, p) for g, p in pairs if g != p).most_common(CONFUSED_PAIRS)
    in_scope_accuracy = oos_recall = None
    if oos_label is not None:
        in_scope = [(g, p) for g, p in pairs if g != oos_label]
        oos = [(g, p) for g, p in pairs if g == oos_label]
        if in_scope:
            in_scope_accuracy = round(sum(g == p for g, p in in_scope) / len(in_scope), 4)
        if oos:
            oos_recall = round(sum(p == oos_label for _, p in oos) / len(oos), 4)
    return EvaluationReport(
        examples=len(pairs),
        accuracy=round(sum(true_positive.values()) / len(pairs), 4),
        macro_f1=round(sum(s.f1 for s in per_label.values()) / len(per_label), 4),
        per_label=per_label,
        confused_pairs=[(g, p, n) for (g, p), n in confusions],
        oos_label=oos_label,
        in_scope_accuracy=in_scope_accuracy,
        oos_recall=oos_recall,
    )
