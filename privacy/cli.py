"""The privacy tasks' command line: export, erase, retention, mask, compact.

Privacy sits below the learning loop, so this module cannot reach the learning loop's
exports: `main` takes the `TrainingDataForgetter` that erasure and retention use, and the
entry point above both layers passes the learning loop's (`python -m launcher.privacy`,
launcher/privacy.py). Every failure is a sentence, not a stack trace.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from catalog.db import migrate, session_scope
from catalog.settings import CatalogSettings
from privacy.compaction import compact_sqlite
from privacy.erasure import erase_shopper, pending_erasures, preview_erasure
from privacy.export import export_shopper
from privacy.forgetting import TrainingDataForgetter
from privacy.masking import mask_transcripts
from privacy.personal import normalise_email
from privacy.retention import apply_retention, retention_days_from_env
from tracker.store import tracker_url_from_env

EXIT_OK: Final = 0
EXIT_DATABASE: Final = 1
EXIT_BAD_ARGUMENTS: Final = 2
DEFAULT_IDLE_MINUTES: Final = 90
DESCRIPTION: Final = "Shoppers' data: export it, erase it, and keep transcripts only so long."

EPILOG = """\
export     everything kept about an e-mail address, as JSON: the account, addresses, orders
           with their lines, reviews, complaints, newsletter choice, messages left, erasure
           requests and each conversation's transcript
erase      delete the shopper's verified conversations (transcripts, agent notes,
           hand-offs, complaints, messages, corrections), their newsletter row, e-mails and
           links, and anonymise their orders, reviews and account; orders keep their lines,
           totals, status and dates for the books. Other records that name them lose those
           words. Without --yes it only shows what it would erase. --pending works through
           the requests shoppers made in the chat ("delete my account").
retention  delete every transcript event older than --days (default
           SHOPDESK_TRANSCRIPT_RETENTION_DAYS, else 365), even in a conversation that went
           on, and older agent notes, corrections, links, e-mails and failure records
mask       mask personal data (e-mail, phone, card, street address...) in the stored
           transcripts of ended sessions (idle for --idle-minutes, default 90), as
           SHOPDESK_TRANSCRIPT_PII says: mask (default) or keep
compact    rewrite the SQLite files without their free space (erase does it; again if
           it said a file was busy)

The web server runs mask and retention itself (SHOPDESK_HOUSEKEEPING_INTERVAL_S).

Transcripts are read from Rasa's tracker store: SHOPDESK_TRACKER_DB_URL, or the SQLite file
SHOPDESK_TRACKER_DB (default var/rasa_tracker.sqlite3). Rasa need not be running.

exit status: 0 done (also when nothing was found); 1 a database could not be used;
2 bad arguments, or erase without --yes (nothing changed).
"""


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _not_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return int(text)


def _fail(message: str, status: int = EXIT_BAD_ARGUMENTS) -> int:
    print(f"privacy: {message}", file=sys.stderr)
    return status


def parser(prog: str) -> argparse.ArgumentParser:
    """The privacy tasks' command line, `prog` as the entry point names it."""
    privacy = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tasks = privacy.add_subparsers(dest="task", required=True, metavar="TASK")
    export = tasks.add_parser(
        "export",
        help="everything kept about an e-mail address, as JSON",
        description="Write everything the shop keeps about an e-mail address as JSON.",
    )
    export.add_argument("--email", required=True, metavar="E", help="the shopper's e-mail")
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="write it here (readable by you only); else print"
    )
    erase = tasks.add_parser(
        "erase",
        help="erase a shopper's data (needs --yes)",
        description="Delete a shopper's conversations and anonymise their orders, reviews and "
        "account. Without --yes it only shows what it would erase.",
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", metavar="E", help="the shopper's e-mail")
    who.add_argument(
        "--pending", action="store_true", help="every pending request made in the chat"
    )
    erase.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")
    retention = tasks.add_parser(
        "retention",
        help="delete transcript events older than --days",
        description="Delete every transcript event older than --days (a conversation that "
        "went on keeps only its recent events), and agent notes, corrections, links, e-mails "
        "and failure records from before then.",
    )
    retention.add_argument(
        "--days",
        type=_positive,
        metavar="N",
        help="keep this many days (default SHOPDESK_TRANSCRIPT_RETENTION_DAYS, else 365)",
    )

    mask = tasks.add_parser(
        "mask",
        help="mask personal data in the transcripts of ended sessions",
        description="Rewrite the stored transcripts of ended sessions (earlier sessions of a "
        "conversation, and conversations idle for --idle-minutes) with their personal data "
        "masked (SHOPDESK_TRANSCRIPT_PII=mask, the default; keep leaves them), after linking "
        "each conversation to whom it verified. Safe to repeat; the web server runs it.",
    )
    mask.add_argument(
        "--idle-minutes",
        type=_not_negative,
        default=DEFAULT_IDLE_MINUTES,
        metavar="N",
        help="conversations without a message for this long have ended (default 90; Rasa "
        "starts a new session after 60); 0 masks conversations still going too",
    )
    tasks.add_parser(
        "compact",
        help="rewrite the SQLite files without their free space",
        description="VACUUM the shop database and the tracker store when they are SQLite "
        "files, so rows deleted by an erasure cannot be read back from the files.",
    )
    return privacy


def _run(args: argparse.Namespace, url: str, forgetter: TrainingDataForgetter) -> int:
    """The privacy tasks; every failure is a sentence, not a stack trace."""
    tracker = tracker_url_from_env()
    try:
        if args.task == "export":
            return _export(args, url, tracker)
        if args.task == "erase":
            return _erase(args, url, tracker, forgetter)
        if args.task == "mask":
            with session_scope(url) as session:
                changed = mask_transcripts(tracker, args.idle_minutes, session=session)
            print(f"privacy: {changed} transcript events masked")
            return EXIT_OK
        if args.task == "compact":
            done = compact_sqlite(url) & compact_sqlite(tracker)
            print("privacy: compacted" if done else "privacy: a file was busy; try again")
            return EXIT_OK if done else EXIT_DATABASE
        days = args.days or retention_days_from_env()
        with session_scope(url) as session:
            result = apply_retention(session, tracker, days, forgetter=forgetter)
        print(f"privacy: transcripts older than {days} days: {result.summary()}")
        return EXIT_OK
    except ValueError as error:
        return _fail(str(error))
    except (SQLAlchemyError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        return _fail(
            f"a database could not be used ({reason}); please check it and run the command "
            "again: it is safe to repeat",
            EXIT_DATABASE,
        )


def _export(args: argparse.Namespace, url: str, tracker: str) -> int:
    email = normalise_email(args.email)
    out: Path | None = args.out
    if out is not None and not out.parent.is_dir():
        return _fail(f"no such folder for --out: {out.parent}")
    with session_scope(url) as session:
        data = export_shopper(session, tracker, email)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if data["customer"] is None and not any(
        data[key] for key in ("orders", "complaints", "messages", "conversations")
    ):
        print("privacy: the shop keeps nothing about that e-mail address", file=sys.stderr)
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    # personal data: readable by the person who asked for it only
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    print(f"privacy: {len(data['orders'])} orders, {len(data['conversations'])} conversations "
          f"written to {out}")  # fmt: skip
    return EXIT_OK


def _erase(
    args: argparse.Namespace, url: str, tracker: str, forgetter: TrainingDataForgetter
) -> int:
    """One address, or every pending request; only a preview without --yes."""
    with session_scope(url) as session:
        if args.pending:
            targets = [
                (f"request {r.id} (customer {r.customer_id or 'unknown'}, asked {r.requested_at})",
                 r.email)
                for r in pending_erasures(session)
            ]  # fmt: skip
        else:
            address = normalise_email(args.email)
            targets = [(address, address)]
        if not targets:
            print("privacy: no pending erasure requests")
            return EXIT_OK
        for who, email in targets:
            if args.yes:
                result = erase_shopper(session, tracker, email, forgetter=forgetter)
                verb = "nothing to erase for" if result.nothing else "erased"
            else:
                result = preview_erasure(session, tracker, email)
                verb = "nothing to erase for" if result.nothing else "would erase"
            print(f"privacy: {verb} {who}" + ("" if result.nothing else f": {result.summary()}"))
    if not args.yes:
        print(
            "privacy: nothing was changed; add --yes to erase (it cannot be undone)",
            file=sys.stderr,
        )
        return EXIT_BAD_ARGUMENTS
    return EXIT_OK


def main(argv: list[str] | None, forgetter: TrainingDataForgetter, prog: str) -> int:
    """Run one task on the shop database (migrated first) and Rasa's tracker store."""
    args = parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = CatalogSettings.from_env().database_url
    migrate(database_url)
    return _run(args, database_url, forgetter)
