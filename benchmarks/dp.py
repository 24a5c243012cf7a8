"""What differential privacy costs the intent adapter: Bitext intents trained without DP-SGD
and with it, scored on the Bitext utterances left out of training.

`python -m benchmarks.dp` trains on a seeded sample of the 27 Bitext intents
(nlu_models/bitext.py, `--per-intent` each), fixed epochs, no validation split (so epsilon
covers everything the adapter saw), the fp32 base for every row so the rows compare, once
without DP and once per `--epsilons` value; it writes accuracy and macro-F1 on the held-out
utterances, epsilon spent and training seconds to benchmarks/results/dp.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.measure import machine, without_notes
from core.paths import PROJECT_ROOT
from nlu_models.bitext import DEFAULT_INTENTS, DEFAULT_SEED, split
from nlu_models.config import DPConfig, TrainingSettings
from nlu_models.data import Example, strip_annotations
from nlu_models.settings import classifier_settings

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
WORK = PROJECT_ROOT / "var" / "benchmarks" / "dp"
TASK = "intent"


def bitext_sets(per_intent: int, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, held out): the converter's seeded sample and the utterances it leaves out."""
    chosen, rest = split(list(DEFAULT_INTENTS), per_intent, seed)

    def examples(by_intent: dict[str, list[str]]) -> list[Example]:
        return [
            Example(strip_annotations(text), intent)
            for intent, texts in by_intent.items()
            for text in texts
        ]

    return examples(chosen), examples(rest)


def run(
    args: argparse.Namespace,
    train_set: list[Example],
    test_set: list[Example],
    epsilon: float | None,
) -> dict[str, Any]:
    """Train one row (no DP when `epsilon` is None) and score it on the held-out utterances."""
    from nlu_models.classifier import Classifier
    from nlu_models.evaluation import evaluate
    from nlu_models.training import train

    name = "no-dp" if epsilon is None else f"dp-eps{epsilon:g}"
    name += f"-b{args.batch_size}-e{args.epochs}-lr{args.learning_rate:g}"
    dp = None if epsilon is None else DPConfig(epsilon, args.delta, args.max_grad_norm)
    settings = replace(
        classifier_settings(),
        quantization=args.quantization,
        device="cpu",
        model_root=WORK / name,
        training=TrainingSettings(
            max_epochs=args.epochs,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            validation_fraction=0.0,
            seed=args.seed,
        ),
        dp=dp,
    )
    print(f"== {name}", flush=True)
    artifact = train(settings, TASK, train_set, progress=not args.quiet)
    classifier = Classifier.load(settings, tasks=[TASK])
    predictions = classifier.predict(TASK, [e.text for e in test_set], batch_size=64)
    report = evaluate([e.label for e in test_set], [p.label for p in predictions])
    record = artifact.dp or {}
    return {
        "run": name,
        "dp": epsilon is not None,
        "target_epsilon": epsilon,
        "epsilon_spent": record.get("epsilon_spent"),
        "delta": record.get("delta"),
        "noise_multiplier": record.get("noise_multiplier"),
        "max_grad_norm": record.get("max_grad_norm"),
        "base_precision": record.get(
            "base_precision", "fp32" if args.quantization == "none" else "8bit"
        ),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "train_examples": artifact.examples,
        "test_examples": report.examples,
        "epochs": artifact.epochs_run,
        "training_seconds": artifact.training_seconds,
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dp",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--per-intent", type=int, default=30, help="training examples per intent")
    parser.add_argument("--epochs", type=int, default=5, help="fixed, no early stopping")
    parser.add_argument("--batch-size", type=int, default=32, help="expected batch under DP")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--no-baseline", action="store_true", help="only the DP rows")
    parser.add_argument(
        "--append", action="store_true", help="add these rows to an existing --output file"
    )
    parser.add_argument(
        "--epsilons", type=float, nargs="*", default=[8.0, 3.0], help="one DP row per value"
    )
    parser.add_argument("--delta", type=float, help="default: min(1e-5, 1/examples)")
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument(
        "--quantization",
        choices=("none", "8bit"),
        default="none",
        help="the base for every row (default fp32)",
    )
    parser.add_argument("--seed", type=int, default=13, help="training seed")
    parser.add_argument("--sample-seed", type=int, default=DEFAULT_SEED, help="Bitext sample")
    parser.add_argument("--output", type=Path, default=RESULTS / "dp.json")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--note", action="append", default=[], help="a remark stored with the results"
    )
    args = parser.parse_args(argv)
    try:
        for epsilon in args.epsilons:
            DPConfig(epsilon, args.delta, args.max_grad_norm)  # refuse nonsense before training
    except ValueError as error:
        parser.error(str(error))

    train_set, test_set = bitext_sets(args.per_intent, args.sample_seed)
    command = "python -m benchmarks.dp " + " ".join(
        without_notes(argv if argv is not None else sys.argv[1:])
    )
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commands": [command],
        "machine": machine(),
        "data": f"Bitext, {len(DEFAULT_INTENTS)} intents x {args.per_intent} "
        f"(sample seed {args.sample_seed}); held out: the {len(test_set)} utterances left out",
        "runs": [],
        "notes": args.note,
    }
    if args.append and args.output.is_file():
        earlier = json.loads(args.output.read_text(encoding="utf-8"))
        result["commands"] = [*earlier["commands"], command]
        result["runs"], result["notes"] = earlier["runs"], [*earlier["notes"], *args.note]
    for epsilon in ([] if args.no_baseline else [None]) + list(args.epsilons):
        row = run(args, train_set, test_set, epsilon)
        row["command"] = command
        row["measured_at"] = result["measured_at"]
        result["runs"].append(row)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for row in result["runs"]:
        spent = "-" if row["epsilon_spent"] is None else f"{row['epsilon_spent']:.2f}"
        print(
            f"{row['run']:>26}: accuracy {row['accuracy']:.2%}, macro-F1 {row['macro_f1']:.2%}, "
            f"epsilon {spent}, {row['training_seconds']:.0f} s"
        )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
