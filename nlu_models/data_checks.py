"""Checks of the intent training data before training: broken data is refused, doubtful data shown.

Errors are data the classifier cannot learn from (the same text under two intents, an intent
with too few examples, fewer than two intents); warnings are pairs and examples a person should
look at (near duplicates across intents, examples a cross-validated model confidently puts
under another intent, found by confident learning with cleanlab). Nothing here changes data.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from nlu_models.config import DataCheckSettings
from nlu_models.data import DataError, Example
from nlu_models.settings import data_check_settings

log = logging.getLogger(__name__)

Severity = Literal["error", "warning"]
Kind = Literal[
    "conflicting_duplicate", "too_few_examples", "too_few_intents", "near_duplicate",
    "likely_mislabelled",
]  # fmt: skip
CHECK_DATA_HINT = "run `python -m nlu_models check-data` for the list"
MAX_ERRORS_IN_MESSAGE = 20
_PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Finding:
    """One problem: what kind, how bad, which intents and texts, and why it matters.

    `similarity` is set for near duplicates; `suggested_intent`, `probability` (of the
    suggestion) and `given_probability` (of the label as written) for likely mislabels.
    """

    kind: Kind
    severity: Severity
    intents: tuple[str, ...]
    texts: tuple[str, ...]
    explanation: str
    similarity: float | None = None
    suggested_intent: str | None = None
    probability: float | None = None
    given_probability: float | None = None

    def to_text(self) -> str:
        head = (
            f"{self.severity.upper()} {self.kind} [{', '.join(self.intents)}]: {self.explanation}"
        )
        return "\n".join([head, *(f"    {text!r}" for text in self.texts)])


@dataclass(frozen=True)
class DataReport:
    """The findings (warnings capped at `max_listed` per kind) and every kind's full count."""

    examples: int
    intents: int
    findings: tuple[Finding, ...]
    counts: dict[str, int] = field(default_factory=dict)  # kind → found, listed or not
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def count(self, severity: Severity) -> int:
        """Findings of that severity, listed or not."""
        return sum(n for kind, n in self.counts.items() if _SEVERITY[kind] == severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "intents": self.intents,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "counts": dict(self.counts),
            "seconds": self.seconds,
            "findings": [
                {k: v for k, v in asdict(f).items() if v is not None} for f in self.findings
            ],
        }

    def summary(self) -> str:
        by_kind = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.counts.items() if n)
        return (
            f"{self.examples} examples, {self.intents} intents: {self.count('error')} error(s), "
            f"{self.count('warning')} warning(s)" + (f" ({by_kind})" if by_kind else "")
        )

    def to_text(self) -> str:
        """Errors first, then warnings, then a summary line: what `check-data` prints."""
        lines: list[str] = []
        for group in (self.errors, self.warnings):
            for kind in dict.fromkeys(f.kind for f in group):
                listed = [f for f in group if f.kind == kind]
                lines += [f.to_text() for f in listed]
                if (more := self.counts.get(kind, 0) - len(listed)) > 0:
                    lines.append(f"... and {more} more {kind} finding(s) not listed (see --json)")
        lines.append(f"Summary: {self.summary()} in {self.seconds:.1f}s")
        return "\n".join(lines)


_SEVERITY: dict[str, Severity] = {
    "conflicting_duplicate": "error",
    "too_few_examples": "error",
    "too_few_intents": "error",
    "near_duplicate": "warning",
    "likely_mislabelled": "warning",
}


class DataCheckError(DataError):
    """Training data with errors: the message lists them, so the CLI shows it as it is."""

    def __init__(self, report: DataReport, task: str = "intent") -> None:
        self.report = report
        errors = report.errors
        lines = [
            f"the {task} training data has {report.count('error')} error(s); training refused. "
            "Fix the data (python -m nlu_models check-data lists every finding):"
        ]
        lines += [f"  - {e.to_text()}" for e in errors[:MAX_ERRORS_IN_MESSAGE]]
        if len(errors) > MAX_ERRORS_IN_MESSAGE:
            lines.append(f"  ... and {len(errors) - MAX_ERRORS_IN_MESSAGE} more")
        super().__init__("\n".join(lines))


def normalise(text: str) -> str:
    """What counts as 'the same text': Unicode NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def check_examples(
    examples: Sequence[Example], settings: DataCheckSettings | None = None
) -> DataReport:
    """Every check on `examples` (annotations already stripped by the reader)."""
    settings = settings or DataCheckSettings()
    started = time.monotonic()
    counts = Counter(e.label for e in examples)
    errors = _conflicting_duplicates(examples) + _too_few(counts, settings.min_examples)
    if len(counts) < 2:
        errors.append(
            Finding(
                "too_few_intents",
                "error",
                tuple(sorted(counts)),
                (),
                f"{len(counts)} intent(s); a classifier needs at least two",
            )
        )
    near = _near_duplicates(examples, settings.near_duplicate_similarity)
    mislabelled = _likely_mislabelled(examples, settings)
    kinds = dict.fromkeys(_SEVERITY, 0)
    for finding in errors + near + mislabelled:
        kinds[finding.kind] += 1
    listed = errors + near[: settings.max_listed] + mislabelled[: settings.max_listed]
    return DataReport(
        examples=len(examples),
        intents=len(counts),
        findings=tuple(listed),
        counts=kinds,
        seconds=round(time.monotonic() - started, 2),
    )


def refuse_broken_data(
    examples: Sequence[Example], settings: DataCheckSettings | None = None, task: str = "intent"
) -> DataReport:
    """Run the checks before training: raise on errors, log a one-line summary of warnings."""
    report = check_examples(examples, settings or data_check_settings())
    if report.errors:
        raise DataCheckError(report, task)
    if report.warnings:
        by_kind = ", ".join(
            f"{report.counts[kind]} {kind.replace('_', ' ')}"
            for kind in dict.fromkeys(f.kind for f in report.warnings)
        )
        log.warning("%s training data: %s; %s", task, by_kind, CHECK_DATA_HINT)
    return report


def _conflicting_duplicates(examples: Sequence[Example]) -> list[Finding]:
    """The same text under two intents: the classifier is taught two answers for one message."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[normalise(example.text)].append(example)
    findings = []
    for group in groups.values():
        intents = tuple(sorted({e.label for e in group}))
        if len(intents) > 1:
            findings.append(
                Finding(
                    "conflicting_duplicate",
                    "error",
                    intents,
                    tuple(dict.fromkeys(f"{e.text} ({e.label})" for e in group)),
                    f"the same text is labelled with {len(intents)} intents; keep it under one",
                )
            )
    return findings


def _too_few(counts: Counter[str], minimum: int) -> list[Finding]:
    return [
        Finding(
            "too_few_examples",
            "error",
            (intent,),
            (),
            f"{count} example(s), fewer than the minimum of {minimum}: too few to learn the intent",
        )
        for intent, count in sorted(counts.items())
        if count < minimum
    ]


def _near_duplicates(examples: Sequence[Example], threshold: float) -> list[Finding]:
    """Pairs under different intents whose character 3–5-grams are nearly the same, closest first.

    Often a deliberate contrast ("absolutely" / "absolutely not"), sometimes a slip; a person
    decides. Texts that differ only in punctuation score 1.0; exact duplicates are left to the
    error check.
    """
    if len(examples) < 2:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [normalise(e.text) for e in examples]
    # Punctuation dropped: "where is my order?" and "where is my order!" are one message.
    words = [" ".join(_PUNCTUATION.sub(" ", text).split()) for text in texts]
    try:
        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(words)
    except ValueError:  # no n-grams at all (every text too short)
        return []
    pairs: list[tuple[float, int, int]] = []
    block = 1000  # rows at a time: memory stays small on large data sets
    for start in range(0, len(texts), block):
        similar = (vectors[start : start + block] @ vectors.T).tocoo()
        for row, column, value in zip(similar.row, similar.col, similar.data, strict=True):
            i, j = start + int(row), int(column)
            if (
                i < j
                and value >= threshold
                and examples[i].label != examples[j].label
                and texts[i] != texts[j]
            ):
                pairs.append((float(value), i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return [
        Finding(
            "near_duplicate",
            "warning",
            (examples[i].label, examples[j].label),
            (examples[i].text, examples[j].text),
            f"nearly the same text under two intents (similarity {value:.2f}); "
            "check the contrast is meant",
            similarity=round(value, 3),
        )
        for value, i, j in pairs
    ]


def _likely_mislabelled(examples: Sequence[Example], settings: DataCheckSettings) -> list[Finding]:
    """Confident learning on out-of-fold probabilities, most confident issues first.

    A cheap model (word 1–2-gram and character 3–5-gram TF-IDF, logistic regression) is
    enough: cleanlab compares each example's label with what the model, never trained on that
    example, thinks of it, with per-intent thresholds. Intents with fewer examples than folds
    are left out (the error check already names them).
    """
    counts = Counter(e.label for e in examples)
    kept = [e for e in examples if counts[e.label] >= max(settings.folds, 2)]
    intents = sorted({e.label for e in kept})
    if len(intents) < 2:
        return []
    import numpy as np
    from cleanlab.filter import find_label_issues
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline, make_union
    from threadpoolctl import threadpool_limits

    index = {intent: i for i, intent in enumerate(intents)}
    labels = np.array([index[e.label] for e in kept])
    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2),
        ),
        # newton-cg converges in ~10 steps here, several times faster than lbfgs.
        LogisticRegression(C=10.0, solver="newton-cg", max_iter=200),
    )
    folds = StratifiedKFold(settings.folds, shuffle=True, random_state=settings.seed)
    # One thread: on a small problem BLAS threads only fight each other (and other jobs).
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            probabilities = cross_val_predict(
                model, [normalise(e.text) for e in kept], labels, cv=folds, method="predict_proba"
            )
        except ValueError as error:  # e.g. no n-gram left in a fold: a warning check, not a stop
            log.info("likely-mislabel check skipped: %s", error)
            return []
        # "both": flagged by the per-intent count and by the noise-rate prune, so a person
        # reads fewer false alarms from this cheap model; most certain issue first.
        issues = find_label_issues(
            labels, probabilities, filter_by="both", return_indices_ranked_by="normalized_margin"
        )
    findings = []
    for i in issues:
        row = probabilities[i]
        suggested = next(int(k) for k in np.argsort(-row) if int(k) != labels[i])
        given, other = kept[i].label, intents[suggested]
        findings.append(
            Finding(
                "likely_mislabelled",
                "warning",
                (given, other),
                (kept[i].text,),
                f"labelled {given}, but a cross-validated model says {other} "
                f"({row[suggested]:.2f} against {row[labels[i]]:.2f}); check the label",
                suggested_intent=other,
                probability=round(float(row[suggested]), 3),
                given_probability=round(float(row[labels[i]]), 3),
            )
        )
    return findings
