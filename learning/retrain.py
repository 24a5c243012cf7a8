"""`python -m learning retrain`: export the corrections, train a candidate intent adapter, and
keep it only if it is not worse.

Both the current adapter ("before") and the candidate ("after") are scored the same way, by
`nlu_models.evaluation.evaluate` on the classifier's own predictions: on the fixed validation
split (part of the shop's own examples, which corrections never move: `nlu_models.tasks`) and
on the accepted corrections. The candidate replaces the current adapter in one rename unless
this is a dry run or its validation macro-F1 fell by more than `max_drop`.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.clock import utc_now
from core.paths import PROJECT_ROOT
from learning.corrections import LEARNING_DIR, ExportPaths, ExportResult, export
from nlu_models.artifact import Artifact
from nlu_models.config import ClassifierSettings, DataCheckSettings
from nlu_models.data import Example
from nlu_models.tasks import intent_split, read_intent_data, training_examples

if TYPE_CHECKING:
    from nlu_models.classifier import Classifier

TASK = "intent"
DEFAULT_MAX_DROP = 0.01
MAX_LISTED = 20  # corrections the candidate still misreads, listed in the report


@dataclass(frozen=True)
class RetrainOptions:
    """How the retrain decides; `epochs` overrides the settings' maximum epochs."""

    max_drop: float = DEFAULT_MAX_DROP
    dry_run: bool = False
    epochs: int | None = None
    out: Path = LEARNING_DIR


@dataclass(frozen=True)
class Scores:
    """One adapter on the fixed validation split and on the corrections."""

    validation_accuracy: float | None
    validation_macro_f1: float | None
    corrections_accuracy: float | None
    training_examples: int
    data_hash: str
    misread: list[tuple[str, str, str]] = field(default_factory=list)  # text, gold, predicted


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str


def _now() -> str:
    return utc_now().isoformat(timespec="seconds")


@dataclass(frozen=True)
class RetrainReport:
    before: Scores | None
    after: Scores
    validation_examples: int
    corrections: int
    decision: Decision
    export: dict[str, Any]
    model_dir: Path
    epochs: int
    generated_at: str = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model_dir"] = str(self.model_dir)
        return data

    def to_markdown(self) -> str:
        lines = [
            "# Intent adapter: before and after the corrections",
            "",
            f"{self.generated_at}; validation: {self.validation_examples} of the shop's own "
            f"examples (fixed split); corrections: {self.corrections} accepted; "
            f"candidate trained for at most {self.epochs} epoch(s).",
            "",
            "| measure | before | after | change |",
            "|---|---|---|---|",
        ]
        rows = (
            ("validation accuracy", "validation_accuracy", True),
            ("validation macro-F1", "validation_macro_f1", True),
            ("accuracy on the corrections", "corrections_accuracy", True),
            ("training examples", "training_examples", False),
        )
        for title, name, percent in rows:
            old = getattr(self.before, name) if self.before else None
            new = getattr(self.after, name)
            lines.append(
                f"| {title} | {_cell(old, percent)} | {_cell(new, percent)} "
                f"| {_change(old, new, percent)} |"
            )
        verdict = "promoted" if self.decision.promoted else "not promoted"
        lines += ["", f"**Candidate {verdict}:** {self.decision.reason}", ""]
        if self.decision.promoted:
            lines += [
                f"It is now in `{self.model_dir}`; the running classifier uses it after its "
                "next restart.",
                "",
            ]
        if self.after.misread:
            lines += [
                "## Corrections the candidate still misreads",
                "",
                "| text | corrected to | read as |",
                "|---|---|---|",
            ]
            lines += [
                f"| {_escape(text)} | {gold} | {predicted} |"
                for text, gold, predicted in self.after.misread[:MAX_LISTED]
            ]
            if len(self.after.misread) > MAX_LISTED:
                lines.append(f"| ... and {len(self.after.misread) - MAX_LISTED} more | | |")
            lines.append("")
        return "\n".join(lines)

    def write(self, folder: Path) -> tuple[Path, Path]:
        """report.md and report.json in `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        md, js = folder / "report.md", folder / "report.json"
        md.write_text(self.to_markdown(), encoding="utf-8")
        js.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return md, js


def _cell(value: float | int | None, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if percent else str(value)


def _change(old: float | int | None, new: float | int | None, percent: bool) -> str:
    if old is None or new is None:
        return "–"
    if percent:
        return f"{(new - old) * 100:+.1f} pt"
    return f"{new - old:+d}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def decide(before: Scores | None, after: Scores, max_drop: float, dry_run: bool) -> Decision:
    """The promotion rule: a dry run keeps the current adapter; no current adapter takes the
    candidate; else the candidate goes in unless its validation macro-F1 fell by more than
    `max_drop`."""
    if dry_run:
        return Decision(False, "--dry-run: the current adapter was left as it is")
    if before is None:
        return Decision(True, "there was no current adapter")
    old, new = before.validation_macro_f1, after.validation_macro_f1
    if old is None or new is None:
        return Decision(True, "no validation split (validation_fraction 0): nothing to compare")
    if old - new > max_drop + 1e-9:
        return Decision(
            False,
            f"validation macro-F1 fell from {old:.1%} to {new:.1%}, more than the allowed "
            f"{max_drop:.1%} (--max-drop); the current adapter was kept",
        )
    return Decision(
        True, f"validation macro-F1 {old:.1%} → {new:.1%} (allowed drop {max_drop:.1%})"
    )


def score(
    settings: ClassifierSettings, validation: list[Example], corrections: list[Example]
) -> Scores | None:
    """The adapter in `settings.model_dir("intent")` scored as `nlu_models evaluate` scores."""
    from nlu_models.classifier import Classifier
    from nlu_models.evaluation import evaluate

    artifact = Artifact.read(settings.model_dir(TASK))
    if artifact is None:
        return None
    classifier = Classifier.load(settings, [TASK])  # freed on return: one base at a time
    oos_label = classifier.tasks[TASK].artifact.oos_label
    on_validation = _labels(classifier, validation)
    on_corrections = _labels(classifier, corrections)
    report = (
        evaluate([e.label for e in validation], on_validation, oos_label) if validation else None
    )
    right = sum(e.label == p for e, p in zip(corrections, on_corrections, strict=True))
    return Scores(
        validation_accuracy=report.accuracy if report else None,
        validation_macro_f1=report.macro_f1 if report else None,
        corrections_accuracy=round(right / len(corrections), 4) if corrections else None,
        training_examples=artifact.examples,
        data_hash=artifact.data_hash,
        misread=[
            (e.text, e.label, p)
            for e, p in zip(corrections, on_corrections, strict=True)
            if e.label != p
        ],
    )


def _labels(classifier: Classifier, examples: list[Example]) -> list[str]:
    """One call per set, as `nlu_models evaluate` scores a file: int8 activations are
    quantized per batch, so mixing two sets would change each other's answers."""
    if not examples:
        return []
    return [p.label for p in classifier.predict(TASK, [e.text for e in examples])]


def swap_in(candidate: Path, target: Path) -> None:
    """Put the folder `candidate` at `target`; the old one ends at `candidate`'s path.

    On Linux one renameat2(RENAME_EXCHANGE) call swaps them: a reader sees the old adapter or
    the new one, never none. Elsewhere two renames on the same file system do it.
    """
    if not target.exists():
        candidate.rename(target)
        return
    if _exchange(candidate, target):
        return
    parked = target.with_name(f".{target.name}-old-{os.getpid()}")
    target.rename(parked)
    try:
        candidate.rename(target)
    except OSError:
        parked.rename(target)
        raise
    parked.rename(candidate)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(done == 0)


def retrain(
    settings: ClassifierSettings,
    database_url: str,
    paths: ExportPaths,
    options: RetrainOptions,
    check_settings: DataCheckSettings | None = None,
    progress: bool = True,
    root: Path = PROJECT_ROOT,
) -> tuple[ExportResult, RetrainReport | None]:
    """Export, score before, train a candidate, score after, decide, report (see module doc).

    Returns the export alone (report None) when the export refused the data, or when there
    are no corrections and an adapter already exists: training would only repeat it.
    """
    from nlu_models.training import train

    def step(message: str) -> None:
        print(f"learning: {message}", file=sys.stderr, flush=True)

    step("1/4 exporting the corrections")
    exported = export(database_url, paths, check_settings, root)
    print(exported.to_text(root))
    if exported.refused:
        return exported, None
    if options.epochs is not None:
        training = replace(settings.training, max_epochs=options.epochs)
        settings = replace(settings, training=training)
    examples = training_examples(settings, TASK)
    train_set, validation = intent_split(settings, examples)
    corrections = read_intent_data(settings.intent_data).corrections
    if not corrections and Artifact.read(settings.model_dir(TASK)) is not None:
        step("no corrections to learn from: the current adapter stays, nothing was trained")
        return exported, None

    step(f"2/4 scoring the current adapter ({len(validation)} validation examples)")
    before = score(settings, validation, corrections)
    if before is None:
        step(f"   no current adapter in {settings.model_dir(TASK)}")

    settings.model_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".learning-candidate-", dir=settings.model_root))
    try:
        candidate = replace(settings, model_root=staging)
        step(f"3/4 training a candidate on {len(train_set)} examples")
        train(candidate, TASK, train_set, validation, progress=progress)
        step("4/4 scoring the candidate")
        after = score(candidate, validation, corrections)
        assert after is not None, "train() saved the candidate"
        report = RetrainReport(
            before=before,
            after=after,
            validation_examples=len(validation),
            corrections=len(corrections),
            decision=decide(before, after, options.max_drop, options.dry_run),
            export=exported.to_dict(),
            model_dir=settings.model_dir(TASK),
            epochs=settings.training.max_epochs,
        )
        if report.decision.promoted:
            swap_in(candidate.model_dir(TASK), settings.model_dir(TASK))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return exported, report
