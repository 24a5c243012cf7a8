"""Reproduces the classifier benchmarks: BANKING77 (full and 10-shot) and CLINC150 with its
out-of-scope data, each on the 8-bit and the fp32 base, with training time, latency and memory.

`python -m benchmarks.classifiers` reads the data from ../shared/data (or --data), trains
and scores each run in a process of its own (so its peak memory is its own), measures the
serving path in another, and writes benchmarks/results/classifiers.{json,md} plus the
full evaluation of each run under benchmarks/results/classifiers/ (named by --output).
With --resume, runs whose results exist under var/benchmarks/ are not redone.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.measure import machine, peak_rss_mib, without_notes
from core.paths import PROJECT_ROOT
from core.stats import measured_percentile
from nlu_models.config import ClassifierSettings, TrainingSettings
from nlu_models.data import Example
from nlu_models.settings import classifier_settings

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
WORK = PROJECT_ROOT / "var" / "benchmarks"
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DATASETS = ("banking77", "banking77-10shot", "clinc150")
QUANTIZATIONS = ("8bit", "none")
TASK = "intent"
PUBLISHED = {
    "banking77": "BERT-large 93.66 %, USE+ConveRT 93.36 %, MiniLM-L6 frozen + LR 80.04 %",
    "banking77-10shot": "USE+ConveRT 85–90 % (10 per intent, Casanueva et al. 2020)",
    "clinc150": "BERT in-scope 96.7 %, out-of-scope recall 59.2 % (with oos training data)",
}


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    validation: list[Example] | None  # None: a stratified share of train is held out
    test: list[Example]
    oos_label: str | None


def _banking77(data: Path, name: str) -> list[Example]:
    with (data / "banking77" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return [Example(row["text"], row["category"]) for row in csv.DictReader(handle)]


def load_splits(dataset: str, data: Path, seed: int) -> Splits:
    if dataset == "banking77":
        return Splits(_banking77(data, "train"), None, _banking77(data, "test"), None)
    if dataset == "banking77-10shot":
        by_label: dict[str, list[Example]] = defaultdict(list)
        for example in _banking77(data, "train"):
            by_label[example.label].append(example)
        rng = random.Random(seed)
        train = [e for label in sorted(by_label) for e in rng.sample(by_label[label], 10)]
        return Splits(train, [], _banking77(data, "test"), None)
    if dataset == "clinc150":
        full = json.loads((data / "clinc150" / "data_full.json").read_text(encoding="utf-8"))

        def part(*keys: str) -> list[Example]:
            return [Example(text, label) for key in keys for text, label in full[key]]

        return Splits(
            part("train", "oos_train"), part("val", "oos_val"), part("test", "oos_test"), "oos"
        )
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")


def run_settings(args: argparse.Namespace, dataset: str, quantization: str) -> ClassifierSettings:
    few_shot = dataset.endswith("shot")
    training = TrainingSettings(
        max_epochs=args.few_shot_epochs if few_shot else args.max_epochs,
        validation_fraction=0.0 if few_shot else 0.1,
        seed=args.seed,
    )
    return replace(
        classifier_settings(),  # SHOPDESK_NLU_BASE_MODEL picks another base
        quantization=quantization,  # type: ignore[arg-type]
        device=args.device,
        model_root=WORK / f"{dataset}-{quantization}",
        training=training,
    )


def train_and_score(args: argparse.Namespace, dataset: str, quantization: str) -> dict[str, Any]:
    """Child process: train on train, pick the epoch on validation, score on test."""
    from nlu_models.classifier import Classifier
    from nlu_models.evaluation import evaluate
    from nlu_models.training import train

    settings = run_settings(args, dataset, quantization)
    splits = load_splits(dataset, Path(args.data), args.seed)
    artifact = train(settings, TASK, splits.train, splits.validation)
    train_peak = peak_rss_mib()
    classifier = Classifier.load(settings, tasks=[TASK])
    predictions = classifier.predict(TASK, [e.text for e in splits.test], batch_size=64)
    report = evaluate(
        [e.label for e in splits.test], [p.label for p in predictions], splits.oos_label
    )
    report.write(
        RESULTS / args.output / f"{dataset}-{quantization}",
        f"{dataset}, {quantization} base: test set",
    )
    return {
        "dataset": dataset,
        "quantization": quantization,
        "train_examples": artifact.examples,
        "validation_examples": artifact.validation.get("examples", 0),
        "test_examples": report.examples,
        "epochs_run": artifact.epochs_run,
        "best_epoch": artifact.best_epoch,
        "training_seconds": artifact.training_seconds,
        "training_peak_rss_mib": train_peak,
        "oos_threshold": artifact.oos_threshold,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "in_scope_accuracy": report.in_scope_accuracy,
        "oos_recall": report.oos_recall,
    }


def measure_latency(
    args: argparse.Namespace, dataset: str, quantization: str, kernel: str
) -> dict[str, Any]:
    """Child process: load the serving path once, time single messages and batches of 32."""
    import torch

    from nlu_models.classifier import Classifier

    settings = replace(run_settings(args, dataset, quantization), cpu_kernel=kernel)  # type: ignore[arg-type]
    splits = load_splits(dataset, Path(args.data), args.seed)
    texts = [e.text for e in splits.test]
    started = time.perf_counter()
    classifier = Classifier.load(settings, tasks=[TASK])
    load_seconds = time.perf_counter() - started
    classifier.predict(TASK, texts[:8])  # warm-up
    single: list[float] = []
    for text in texts[: args.single_messages]:
        t0 = time.perf_counter()
        classifier.predict(TASK, [text])
        single.append((time.perf_counter() - t0) * 1000)
    batched: list[float] = []
    for start in range(0, 32 * args.batches, 32):
        t0 = time.perf_counter()
        classifier.predict(TASK, texts[start : start + 32], batch_size=32)
        batched.append((time.perf_counter() - t0) * 1000)
    result = {
        "dataset": dataset,
        "quantization": quantization,
        "kernel": classifier.kernel,
        "device": classifier.device,
        "threads": torch.get_num_threads(),
        "load_seconds": round(load_seconds, 2),
        "single_p50_ms": round(statistics.median(single), 2),
        "single_p95_ms": round(measured_percentile(single, 95), 2),
        "batch32_p50_ms": round(statistics.median(batched), 1),
        "batch32_p95_ms": round(measured_percentile(batched, 95), 1),
        "serving_peak_rss_mib": peak_rss_mib(),
    }
    if classifier.device == "cuda":
        result["gpu_peak_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def _child(args: argparse.Namespace, *job: str) -> dict[str, Any]:
    """Run one job in a fresh interpreter (its own peak memory), streaming its progress."""
    name = "-".join(job)
    out = WORK / f"{name}.json"
    if args.resume and out.is_file():
        print(f"== {name}: reusing {out.relative_to(PROJECT_ROOT)}", flush=True)
        reused: dict[str, Any] = json.loads(out.read_text())
        return reused
    print(f"== {name}", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "benchmarks.classifiers", *_passed_options(args)]
    command += ["--child", *job, "--child-output", str(out)]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)
    finished: dict[str, Any] = json.loads(out.read_text())
    return finished


def _passed_options(args: argparse.Namespace) -> list[str]:
    return [
        "--data", str(args.data), "--device", args.device, "--seed", str(args.seed),
        "--max-epochs", str(args.max_epochs), "--few-shot-epochs", str(args.few_shot_epochs),
        "--single-messages", str(args.single_messages), "--batches", str(args.batches),
    ]  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    device = m.get("gpu") or f"{m['cpu']}, {m['cores']} cores"
    lines = [
        "# Classifier benchmarks",
        "",
        f"Measured {result['measured_at']} on {device}, {m['memory_gib']} GiB, "
        f"torch {m.get('torch')}, with:",
        "",
        f"    {result['command']}",
        "",
        "Base: all-MiniLM-L6-v2 (22.7 M parameters) with a LoRA adapter (rank 8, on every "
        "linear layer) and a linear head on the mean-pooled sentence vector; early stopping on "
        "validation macro-F1. Full data sets: 10 % of train held out for validation (BANKING77) "
        "or the official validation split (CLINC150). 10-shot: 10 examples per intent, fixed "
        "epochs, no validation. Scores are on the official test sets.",
        "",
        "## Quality",
        "",
        "| data set | base | accuracy | macro-F1 | in-scope acc. | out-of-scope recall "
        "| epochs (best) | training time | training peak RSS | published |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['dataset']} | {run['quantization']} | {run['accuracy']:.2%} "
            f"| {run['macro_f1']:.2%} | {_pct(run['in_scope_accuracy'])} "
            f"| {_pct(run['oos_recall'])} | {run['epochs_run']} ({run['best_epoch']}) "
            f"| {run['training_seconds']:.0f} s | {run['training_peak_rss_mib']:.0f} MiB "
            f"| {PUBLISHED.get(run['dataset'], '')} |"
        )
    lines += [
        "",
        "## Serving: latency and memory",
        "",
        "One message at a time (p50/p95 over the first test messages) and batches of 32, "
        "through `Classifier.predict`, the function the service calls.",
        "",
        "| model | base | kernel | device | threads | one message p50 / p95 (ms) "
        "| batch of 32 p50 / p95 (ms) | load (s) | peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in result["latency"]:
        lines.append(
            f"| {run['dataset']} | {run['quantization']} | {run['kernel']} | {run['device']} "
            f"| {run['threads']} | {run['single_p50_ms']} / {run['single_p95_ms']} "
            f"| {run['batch32_p50_ms']} / {run['batch32_p95_ms']} | {run['load_seconds']} "
            f"| {run['serving_peak_rss_mib']:.0f} |"
        )
    if result.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.classifiers",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument(
        "--quantization", nargs="+", choices=QUANTIZATIONS, default=list(QUANTIZATIONS)
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--max-epochs", type=int, default=6, help="full data sets (early stopping)")
    parser.add_argument("--few-shot-epochs", type=int, default=20, help="10-shot, fixed")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--single-messages", type=int, default=200)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--output", default="classifiers", help="name of the result files")
    parser.add_argument("--resume", action="store_true", help="reuse finished runs in var/")
    parser.add_argument(
        "--note", action="append", default=[], help="a remark printed under the tables"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *job = args.child
        done = train_and_score(args, *job) if kind == "train" else measure_latency(args, *job)
        args.child_output.write_text(json.dumps(done, indent=2))
        return 0
    if not (args.data / "banking77").is_dir() and any(
        d.startswith("banking") for d in args.datasets
    ):
        parser.error(f"no banking77 folder in {args.data}; point --data at the shared data")

    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m benchmarks.classifiers "
        + " ".join(without_notes(argv if argv is not None else sys.argv[1:])),
        "machine": machine(),
        "runs": [],
        "latency": [],
        "notes": args.note,
    }

    def save() -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / f"{args.output}.md").write_text(markdown(result))

    for dataset in args.datasets:
        for quantization in args.quantization:
            result["runs"].append(_child(args, "train", dataset, quantization))
            save()
            kernels = ["fbgemm", "bitsandbytes"] if quantization == "8bit" else ["fbgemm"]
            if dataset != args.datasets[0]:
                continue  # latency depends on the model's size, not its data: measured once
            for kernel in kernels:
                result["latency"].append(_child(args, "latency", dataset, quantization, kernel))
                save()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
