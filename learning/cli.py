"""Command line of the learning loop: export, retrain, stories (docs/learning.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from learning.corrections import DEFAULT_DOMAIN, DEFAULT_NEW_INTENTS, LEARNING_DIR

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28") from None


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1 (0.01 = 1 point)")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number above 0 (the benchmarks use it too)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m learning",
        description="ShopDesk's learning loop: agents' corrections of misread messages become "
        "intent examples, the intent adapter is retrained and compared on a fixed validation "
        "set, and conversations that went well become test stories. The shop database comes "
        "from SHOPDESK_DATABASE_URL / SHOPDESK_DB_PATH, the intent data from "
        "SHOPDESK_NLU_DATA_DIR (default bot/data), the adapters from SHOPDESK_NLU_MODEL_ROOT.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--domain",
            type=Path,
            default=DEFAULT_DOMAIN,
            help="Rasa domain whose intents corrections may use (default bot/domain.yml)",
        )
        command.add_argument(
            "--new-intents",
            type=Path,
            default=DEFAULT_NEW_INTENTS,
            metavar="FILE",
            help="where corrections to intents the domain lacks are held (default "
            "var/learning/new_intents.yml)",
        )

    export = sub.add_parser(
        "export",
        help="write the agents' corrections as NLU examples (bot/data/nlu_corrections.yml)",
        description="Read every correction, redact it again, drop duplicates and what the "
        "training data already has, hold back conflicts (one text, two intents) and intents "
        "the domain does not list, write the rest to bot/data/nlu_corrections.yml (the whole "
        "file, sorted) and check the data as `python -m nlu_models check-data` does. Exits 1 "
        "when the check finds errors (nothing is written then), 2 on bad input.",
    )
    data_options(export)

    retrain = sub.add_parser(
        "retrain",
        help="export, train a candidate intent adapter, compare before/after, promote it",
        description="Export the corrections, score the current intent adapter on the fixed "
        "validation set and on the corrections, train a candidate with the same settings, "
        "score it the same way, write report.md and report.json, and put the candidate in "
        "place unless --dry-run or its validation macro-F1 fell by more than --max-drop. The "
        "running classifier uses the new adapter after its next restart.",
    )
    data_options(retrain)
    retrain.add_argument(
        "--max-drop",
        type=fraction,
        default=0.01,
        metavar="F",
        help="largest fall of validation macro-F1 still promoted (default 0.01 = 1 point)",
    )
    retrain.add_argument(
        "--dry-run", action="store_true", help="compare and report, keep the current adapter"
    )
    retrain.add_argument(
        "--epochs",
        type=positive_int,
        help="maximum epochs of the candidate (default: the settings', SHOPDESK_NLU_EPOCHS)",
    )
    retrain.add_argument(
        "--out",
        type=Path,
        default=LEARNING_DIR,
        metavar="DIR",
        help="folder for report.md and report.json (default var/learning)",
    )
    retrain.add_argument("--quiet", action="store_true", help="no progress bar")

    stories = sub.add_parser(
        "stories",
        help="write conversations that went well as Rasa test stories",
        description="Conversations that went well (no person, always understood, not rated "
        "below 4, two messages or more), started in the date range and with no agent "
        "correction, as Rasa 3 test stories for `python -m launcher stories`. Conversations "
        "with personal data (an e-mail, phone, address or order number) are held back. "
        "Conversations come from Rasa's tracker store (SHOPDESK_TRACKER_DB_URL / "
        "SHOPDESK_TRACKER_DB).",
    )
    stories.add_argument(
        "--from", dest="start", type=_date, metavar="DATE", help="first day (default: 6 days ago)"
    )
    stories.add_argument(
        "--to", dest="end", type=_date, metavar="DATE", help="last day, included (default today)"
    )
    stories.add_argument(
        "--out",
        type=Path,
        default=LEARNING_DIR / "test_stories.yml",
        metavar="FILE",
        help="default var/learning/test_stories.yml",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from sqlalchemy.exc import SQLAlchemyError

    from learning.corrections import ExportError
    from nlu_models.data import DataError

    try:
        return _run(args)
    except (ExportError, DataError, ValueError, FileNotFoundError) as error:
        print(f"learning: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SQLAlchemyError as error:
        print(
            f"learning: the database cannot be read ({type(error).__name__}); create or "
            "migrate the shop database with `python -m catalog.cli load`",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    from catalog.settings import CatalogSettings
    from learning.corrections import ExportPaths
    from nlu_models.settings import classifier_settings

    database_url = CatalogSettings.from_env().database_url
    if args.command == "stories":
        from learning.story_writer import date_range, export_stories
        from tracker.store import tracker_url_from_env

        start, end = date_range(args.start, args.end, date.today())
        result = export_stories(tracker_url_from_env(), database_url, start, end, args.out)
        print(result.to_text())
        return EXIT_OK

    settings = classifier_settings()
    paths = ExportPaths(settings.intent_data, args.domain, args.new_intents)
    if args.command == "export":
        from learning.corrections import export

        exported = export(database_url, paths)
        print(exported.to_text())
        return EXIT_REFUSED if exported.refused else EXIT_OK

    from learning.retrain import RetrainOptions, retrain

    options = RetrainOptions(args.max_drop, args.dry_run, args.epochs, args.out)
    exported, report = retrain(settings, database_url, paths, options, progress=not args.quiet)
    if report is None:
        return EXIT_REFUSED if exported.refused else EXIT_OK
    md, js = report.write(options.out)
    print(report.to_markdown())
    print(f"learning: wrote {md} and {js}")
    if report.decision.promoted:
        print(
            f"learning: the new intent adapter is in {report.model_dir}; the running "
            "classifier uses it after its next restart (`python -m launcher run`)"
        )
        if args.epochs is not None:
            print(
                "learning: trained with --epochs: `python -m nlu_models ensure` will retrain it "
                "with the settings' epochs unless SHOPDESK_NLU_EPOCHS is the same"
            )
    return EXIT_OK
