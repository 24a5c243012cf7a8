"""Command line of the classifiers: ensure, train, evaluate, predict, serve, check-data."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from core.settings import InternalSettings
from core.settings import settings as process_settings
from nlu_models.config import TASKS, ClassifierSettings, DPConfig
from nlu_models.settings import classifier_settings, data_check_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nlu_models",
        description="ShopDesk classifiers: LoRA adapters for shopper intent and product "
        "category on one 8-bit all-MiniLM-L6-v2. Settings come from SHOPDESK_NLU_* "
        "variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ensure = sub.add_parser(
        "ensure", help="train each adapter whose data or settings changed; refresh entities"
    )
    ensure.add_argument("--task", choices=TASKS, action="append", help="default: every task")
    train = sub.add_parser("train", help="train one adapter now, even if a current one exists")
    train.add_argument("--task", choices=TASKS, default="intent")
    train.add_argument(
        "--data",
        type=Path,
        help="Rasa NLU folder or file, or CSV (text,label); "
        "default: bot/data for intent, the catalog for category",
    )
    train.add_argument("--epochs", type=int, help="maximum epochs (early stopping may end sooner)")
    private = train.add_argument_group(
        "differential privacy",
        "DP-SGD (Opacus) for data drawn from conversations: every example's gradient is "
        "clipped, noise is added to each step, batches are Poisson-sampled, and the epsilon "
        "spent is recorded in shopdesk_classifier.json. Epsilon covers the training split, "
        "not the validation split used for early stopping and the out-of-scope threshold. "
        "Also set by SHOPDESK_NLU_DP_EPSILON (with _DELTA, _MAX_GRAD_NORM).",
    )
    private.add_argument("--dp", action="store_true", help="train with DP-SGD")
    private.add_argument(
        "--epsilon", type=float, help="privacy budget to reach by the last epoch (default 8)"
    )
    private.add_argument("--delta", type=float, help="default: min(1e-5, 1/examples)")
    private.add_argument(
        "--max-grad-norm", type=float, help="per-example gradient clipping norm (default 1.0)"
    )
    private.add_argument(
        "--noise-multiplier",
        type=float,
        help="use this noise instead of the one --epsilon calls for; epsilon is then reported",
    )
    evaluate = sub.add_parser("evaluate", help="score an adapter on labelled data")
    evaluate.add_argument("--task", choices=TASKS, default="intent")
    evaluate.add_argument("--data", type=Path, required=True, help="NLU folder/file or CSV")
    evaluate.add_argument("--out", type=Path, help="folder for evaluation.json and .md")
    predict = sub.add_parser("predict", help="classify texts given as arguments")
    predict.add_argument("--task", choices=TASKS, default="intent")
    predict.add_argument("texts", nargs="+")
    serve = sub.add_parser("serve", help="serve /model/parse, /classify and /health over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5006)
    check = sub.add_parser(
        "check-data",
        help="check the intent training data: conflicting and near duplicates, likely "
        "mislabels, intents with too few examples",
        description="Check the intent training data before training. Errors (the same text "
        "under two intents, an intent with fewer than SHOPDESK_NLU_MIN_EXAMPLES examples, "
        "default 5) make training refuse the data; warnings (near duplicates across intents, "
        "examples a cross-validated model confidently puts under another intent) are for a "
        "person to read. Exits 1 when there are errors, 0 otherwise.",
    )
    check.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="Rasa NLU folder or file, or CSV (text,label); default: SHOPDESK_NLU_DATA_DIR or "
        "bot/data",
    )
    check.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from sqlalchemy.exc import SQLAlchemyError

    from nlu_models.data import DataError

    try:
        return _run(args, classifier_settings())
    except (ValueError, DataError, FileNotFoundError) as error:
        print(f"nlu_models: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        # The category task and the entity vocabulary read the catalog.
        print(
            f"nlu_models: the catalog cannot be read ({type(error).__name__}); load it first "
            "with `python -m catalog.cli load`",
            file=sys.stderr,
        )
        return 2


def _run(args: argparse.Namespace, settings: ClassifierSettings) -> int:
    if args.command == "check-data":
        return _check_data(args, settings)
    if args.command == "ensure":
        from nlu_models.ensure import ensure_all

        ensured = ensure_all(settings, tuple(args.task or TASKS))
        for task, result in ensured.results.items():
            verb = "trained" if result.trained else "reused current adapter"
            print(
                f"nlu_models: {task}: {verb} ({len(result.artifact.labels)} labels, validation "
                f"{result.artifact.validation}) in {result.seconds:.1f}s"
            )
        words = ensured.vocabulary
        print(
            f"nlu_models: vocabulary: {len(words.products)} product names, "
            f"{len(set(words.categories.values()))} categories, {len(words.sizes)} sizes, "
            f"{len(set(words.colors.values()))} colours"
        )
        return 0
    if args.command == "train":
        from nlu_models.data import read_examples
        from nlu_models.tasks import training_examples
        from nlu_models.training import train

        if args.epochs:
            settings = replace(
                settings, training=replace(settings.training, max_epochs=args.epochs)
            )
        settings = _with_dp_options(args, settings)
        examples = read_examples(args.data) if args.data else training_examples(settings, args.task)
        if args.task == "intent":
            from nlu_models.data_checks import refuse_broken_data

            refuse_broken_data(examples)
        artifact = train(settings, args.task, examples)
        print(
            f"nlu_models: {args.task}: trained on {artifact.examples} examples, best epoch "
            f"{artifact.best_epoch}/{artifact.epochs_run}, out-of-scope threshold "
            f"{artifact.oos_threshold}, validation {artifact.validation}"
        )
        if artifact.dp is not None:
            print(f"nlu_models: {args.task}: differential privacy {json.dumps(artifact.dp)}")
        return 0
    if args.command == "evaluate":
        from nlu_models.classifier import Classifier
        from nlu_models.data import read_examples
        from nlu_models.evaluation import evaluate

        examples = read_examples(args.data)
        if not examples:
            raise ValueError(f"{args.data}: no labelled examples")
        classifier = Classifier.load(settings, [args.task])
        predictions = classifier.predict(args.task, [e.text for e in examples])
        oos_label = classifier.tasks[args.task].artifact.oos_label
        report = evaluate([e.label for e in examples], [p.label for p in predictions], oos_label)
        title = f"{args.task} adapter on {args.data}"
        if args.out:
            json_path, md_path = report.write(args.out, title)
            print(f"nlu_models: wrote {json_path} and {md_path}", file=sys.stderr)
        print(report.to_markdown(title))
        return 0
    if args.command == "predict":
        from nlu_models.classifier import Classifier
        from nlu_models.entities import extract_entities
        from nlu_models.vocabulary import Vocabulary

        classifier = Classifier.load(settings, [args.task])
        vocabulary = Vocabulary.load(settings.model_root)
        for text, prediction in zip(
            args.texts, classifier.predict(args.task, args.texts), strict=True
        ):
            print(json.dumps({
                "text": text,
                "label": prediction.label,
                "confidence": round(prediction.confidence, 4),
                "out_of_scope": prediction.out_of_scope,
                "ranking": [[n, round(c, 4)] for n, c in prediction.ranking[:5]],
                "entities": extract_entities(text, vocabulary),
            }))  # fmt: skip
        return 0
    import uvicorn

    from nlu_models.service import create_app

    token = process_settings().section(InternalSettings).internal_token
    if not token:
        print(
            "nlu_models: set SHOPDESK_INTERNAL_TOKEN, the secret Rasa's classifier client sends; "
            "`python -m launcher run` sets a random one",
            file=sys.stderr,
        )
        return 2
    import torch

    torch.set_num_threads(settings.serve_threads)
    uvicorn.run(create_app(settings, token=token), host=args.host, port=args.port, log_level="info")
    return 0


def _with_dp_options(args: argparse.Namespace, settings: ClassifierSettings) -> ClassifierSettings:
    """The settings with `train`'s DP options applied over any SHOPDESK_NLU_DP_* ones."""
    given = {
        "target_epsilon": args.epsilon,
        "delta": args.delta,
        "max_grad_norm": args.max_grad_norm,
        "noise_multiplier": args.noise_multiplier,
    }
    options = {key: value for key, value in given.items() if value is not None}
    if not args.dp:
        if options:
            flags = ", ".join("--" + k.replace("target_", "").replace("_", "-") for k in options)
            raise ValueError(f"{flags} given without --dp")
        return settings
    return replace(settings, dp=replace(settings.dp or DPConfig(), **options))


def _check_data(args: argparse.Namespace, settings: ClassifierSettings) -> int:
    """Print the data report (errors, warnings, summary); 1 when training would refuse it."""
    from nlu_models.data import read_examples
    from nlu_models.data_checks import check_examples

    path = args.data_dir or settings.intent_data
    report = check_examples(read_examples(path), data_check_settings())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"nlu_models: wrote {args.json}", file=sys.stderr)
    print(f"nlu_models: checked {path}")
    print(report.to_text())
    return 1 if report.errors else 0
