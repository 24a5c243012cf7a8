"""`python -m web agents`: add, list and disable the agent console's accounts.

A password is typed twice without echo, or read from an environment variable for scripts;
never taken as an argument, where it would be left in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from alembic.util import CommandError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from catalog.db import migrate, session_scope
from catalog.models import AGENT_ROLES, Agent
from catalog.settings import CatalogSettings
from web import audit
from web.auth import (
    MIN_PASSWORD_CHARS,
    check_password,
    create_agent,
    disable_agent,
    normalise_username,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
PROG = "python -m web agents"
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NOT_AN_ARGUMENT = (
    "a password is never given on the command line, where it would stay in the shell history; "
    "it is asked for, or read from the variable that --password-env VAR names"
)

EPILOG = f"""\
examples:
  {PROG} add --username anna --name "Anna" --role admin
  NEW_PASSWORD=... {PROG} add --username ben --name "Ben" --password-env NEW_PASSWORD
  {PROG} list
  {PROG} disable --username ben

A password has at least {MIN_PASSWORD_CHARS} characters. A disabled account cannot sign in, its
sessions end and a running web server disconnects its open consoles within seconds; it is
kept, so the audit log and notes still name who did what.

exit status: 0 done; 1 the database could not be used; 2 bad input (nothing changed).

The database is SHOPDESK_DATABASE_URL, or the SQLite file SHOPDESK_DB_PATH
(default var/shopdesk.sqlite3); its schema is brought up to date first.
"""


class _BadInput(Exception):
    """Something the person can fix; the message says what. Nothing was changed."""


class _RefusePassword(argparse.Action):
    """`--password SECRET` is refused by name, without repeating the secret in the error."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        parser.error(NOT_AN_ARGUMENT)


def _variable_name(text: str) -> str:
    if not VARIABLE_NAME.fullmatch(text):  # most likely the password itself: do not echo it
        raise argparse.ArgumentTypeError("this takes the NAME of an environment variable")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,  # `--password X` must not be read as `--password-env X`
        description="Manage the accounts of the ShopDesk agent console.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = sub.add_parser(
        "add",
        allow_abbrev=False,
        help="create an account (asks for its password)",
        description="Create an agent account. The password is asked for twice, hidden, "
        "unless --password-env names a variable that holds it.",
    )
    add.add_argument(
        "--username", required=True, help="what the agent signs in with (kept lower-case)"
    )
    add.add_argument("--name", required=True, help="the display name shoppers see, e.g. Anna")
    add.add_argument(
        "--role",
        choices=AGENT_ROLES,
        default="agent",
        help="admin may also read the audit log (default: agent)",
    )
    add.add_argument(
        "--password-env",
        metavar="VAR",
        type=_variable_name,
        help="read the password from the environment variable VAR instead of asking",
    )
    add.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    sub.add_parser("list", help="show every account", description="Show every account.")
    disable = sub.add_parser(
        "disable",
        allow_abbrev=False,
        help="stop an account from signing in",
        description="Disable an account and end its sessions; the account is kept.",
    )
    disable.add_argument("--username", required=True, help="the account to disable")
    return parser


def _say(text: str) -> None:
    print(f"agents: {text}")


def _complain(text: str) -> None:
    print(f"agents: {text}", file=sys.stderr)


def _password(password_env: str | None) -> str:
    """The new password, checked, from the named variable or typed twice."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            raise _BadInput(f"the environment variable {password_env} is not set or is empty.")
        check_password(password)
        return password
    try:
        password = getpass.getpass(f"Password (at least {MIN_PASSWORD_CHARS} characters): ")
        check_password(password)
        again = getpass.getpass("The same password again: ")
    except EOFError:
        raise _BadInput(
            "no password was typed; in a script, use --password-env VAR instead."
        ) from None
    if again != password:
        raise _BadInput("the two passwords are not the same; please try again.")
    return password


def _add(url: str, args: argparse.Namespace) -> int:
    username = normalise_username(args.username)
    with session_scope(url) as session:  # before the password is asked for, as a courtesy
        if session.scalar(select(Agent.id).where(Agent.username == username)) is not None:
            raise _BadInput(f"the username {username!r} is already taken; please choose another.")
    password = _password(args.password_env)
    with session_scope(url) as session:
        agent = create_agent(session, username, args.name, password, args.role)
        audit.record(
            session, "create_agent", detail=f"{agent.username} ({agent.role}, command line)"
        )
    _say(f"created {agent.role} account {agent.username!r} ({agent.display_name})")
    return EXIT_OK


def _list(url: str) -> int:
    with session_scope(url) as session:
        agents = list(session.scalars(select(Agent).order_by(Agent.username)))
    if not agents:
        _say(f"no accounts yet; add one with: {PROG} add --username NAME --name NAME")
        return EXIT_OK
    print(f"{'username':<24} {'role':<6} {'status':<9} {'created':<20} display name")
    for agent in agents:
        status = "active" if agent.active else "disabled"
        created = agent.created_at.isoformat(sep=" ", timespec="seconds")
        print(
            f"{agent.username:<24} {agent.role:<6} {status:<9} {created:<20} {agent.display_name}"
        )
    return EXIT_OK


def _disable(url: str, args: argparse.Namespace) -> int:
    username = normalise_username(args.username)
    with session_scope(url) as session:
        agent = session.scalar(select(Agent).where(Agent.username == username))
        if agent is not None and not agent.active:
            _say(f"{username!r} is already disabled; nothing changed")
            return EXIT_OK
        agent = disable_agent(session, username)
        audit.record(session, "disable_agent", detail=f"{agent.username} (command line)")
    # the web server checks its console sockets' sessions every sweep (web/agent_feed.py)
    _say(f"disabled {username!r}; its sessions have ended and open consoles are cut off")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status (argparse's own errors and --help return too)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    url = CatalogSettings.from_env().database_url
    try:
        migrate(url)
        if args.command == "add":
            return _add(url, args)
        if args.command == "disable":
            return _disable(url, args)
        return _list(url)
    except (_BadInput, ValueError) as error:
        _complain(f"{error} Nothing was changed.")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _complain("interrupted; nothing was changed.")
        return EXIT_INTERRUPTED
    except (SQLAlchemyError, CommandError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        _complain(f"the database could not be used: {reason}")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
