"""Command line of the classifier: ensure (train if stale), train, predict, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from nlu_models.settings import ClassifierSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu_models",
        description="ShopDesk intent classifier: a LoRA adapter on an 8-bit all-MiniLM-L6-v2, "
        "trained from the Rasa NLU YAML in bot/data. Settings come from SHOPDESK_NLU_* "
        "variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="train only if the saved adapter is missing or stale")
    sub.add_parser("train", help="train the adapter now, even if a current one exists")
    predict = sub.add_parser("predict", help="classify texts given as arguments")
    predict.add_argument("texts", nargs="+")
    serve = sub.add_parser("serve", help="serve /model/parse and /health over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5006)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    try:
        settings = ClassifierSettings.from_env()
    except ValueError as error:
        print(f"nlu_models: {error}", file=sys.stderr)
        return 2
    if args.command in {"ensure", "train"}:
        from nlu_models.data import read_nlu_dir
        from nlu_models.training import ensure_trained, train

        if args.command == "train":
            artifact = train(settings, read_nlu_dir(settings.data_dir))
            print(f"nlu_models: trained; held-out accuracy {artifact.validation_accuracy}")
        else:
            result = ensure_trained(settings)
            verb = "trained" if result.trained else "reused current adapter"
            print(
                f"nlu_models: {verb} ({len(result.artifact.labels)} intents, held-out accuracy "
                f"{result.artifact.validation_accuracy}) in {result.seconds:.1f}s"
            )
        return 0
    if args.command == "predict":
        from nlu_models.model import IntentClassifier
        from nlu_models.service import parse

        for parsed in parse(IntentClassifier.load(settings), args.texts):
            print(json.dumps(parsed.model_dump()))
        return 0
    import uvicorn

    from nlu_models.service import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0
