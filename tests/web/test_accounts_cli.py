"""`python -m web agents`: adding, listing and disabling accounts, and its polite refusals."""

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from catalog.db import session_scope
from catalog.models import Agent, AuditEntry
from tests.catalog import test_demo_order_book
from web.accounts_cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from web.auth import authenticate

cli_db = test_demo_order_book.cli_db  # SHOPDESK_DB_PATH at a fresh file, as catalog.cli finds it
PASSWORD = "a long enough secret"


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the person types at the hidden password prompts, in order (EOF when used up)."""
    answers: list[str] = []

    def typed_at(prompt: str = "") -> str:
        if not answers:
            raise EOFError
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", typed_at)
    yield answers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def add_ben(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> int:
    monkeypatch.setenv("BEN_PASSWORD", PASSWORD)
    args = ("add", "--username", "Ben", "--name", "Ben Miller", "--password-env", "BEN_PASSWORD")
    return run(capsys, *args)[0]


def test_add_with_password_from_the_environment(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEN_PASSWORD", PASSWORD)
    code, out, err = run(
        capsys, "add", "--username", "Ben", "--name", "Ben Miller", "--password-env", "BEN_PASSWORD"
    )
    assert (code, err) == (EXIT_OK, "")
    assert out == "agents: created agent account 'ben' (Ben Miller)\n"
    with session_scope(cli_db) as session:
        ben = authenticate(session, "ben", PASSWORD)
        assert ben is not None and (ben.display_name, ben.role) == ("Ben Miller", "agent")
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.agent_id) == ("create_agent", None)
        assert PASSWORD not in entry.detail and "ben" in entry.detail


def test_a_short_password_is_refused_and_nothing_is_added(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEN_PASSWORD", "short-one")
    code, out, err = run(
        capsys, "add", "--username", "ben", "--name", "Ben", "--password-env", "BEN_PASSWORD"
    )
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert "at least 12 characters" in err and "Nothing was changed" in err
    assert "short-one" not in err
    with session_scope(cli_db) as session:
        assert session.scalars(select(Agent)).all() == []


def test_an_unset_password_variable_is_refused(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)
    code, _, err = run(
        capsys, "add", "--username", "ben", "--name", "Ben", "--password-env", "NO_SUCH_VARIABLE"
    )
    assert code == EXIT_BAD_INPUT and "NO_SUCH_VARIABLE is not set or is empty" in err


def test_add_asks_for_the_password_twice(
    cli_db: str, typed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    typed.extend([PASSWORD, PASSWORD])
    code, out, _ = run(capsys, "add", "--username", "anna", "--name", "Anna", "--role", "admin")
    assert code == EXIT_OK and "created admin account 'anna'" in out
    with session_scope(cli_db) as session:
        anna = authenticate(session, "anna", PASSWORD)
        assert anna is not None and anna.role == "admin"


@pytest.mark.parametrize(
    ("answers", "complaint"),
    [
        ([PASSWORD, PASSWORD + "!"], "the two passwords are not the same"),
        (["too short"], "at least 12 characters"),
        ([], "no password was typed; in a script, use --password-env VAR"),
    ],
)
def test_typed_passwords_that_will_not_do(
    cli_db: str,
    typed: list[str],
    capsys: pytest.CaptureFixture[str],
    answers: list[str],
    complaint: str,
) -> None:
    typed.extend(answers)
    code, _, err = run(capsys, "add", "--username", "anna", "--name", "Anna")
    assert code == EXIT_BAD_INPUT and complaint in err
    with session_scope(cli_db) as session:
        assert session.scalars(select(Agent)).all() == []


def test_a_taken_username_is_refused_before_the_password_is_asked(
    cli_db: str,
    typed: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add_ben(monkeypatch, capsys) == EXIT_OK
    code, _, err = run(capsys, "add", "--username", " BEN ", "--name", "Another Ben")
    assert code == EXIT_BAD_INPUT and "the username 'ben' is already taken" in err


def test_bad_fields_and_arguments_exit_2(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEN_PASSWORD", PASSWORD)
    with_password = ("--password-env", "BEN_PASSWORD")
    code, _, err = run(capsys, "add", "--username", "b e n", "--name", "Ben", *with_password)
    assert code == EXIT_BAD_INPUT and "Please choose a username" in err
    for argv in (
        [],
        ["add", "--name", "Ben"],
        ["add", "--username", "ben", "--name", "Ben", "--role", "boss"],
        ["remove", "--username", "ben"],
    ):
        code, _, err = run(capsys, *argv)
        assert code == EXIT_BAD_INPUT and "usage: python -m web agents" in err


@pytest.mark.parametrize(
    ("option", "complaint"),
    [
        ("--password", "a password is never given on the command line"),
        ("--password=", "a password is never given on the command line"),
        ("--password-env", "takes the NAME of an environment variable"),
    ],
)
def test_a_password_as_an_argument_is_refused_and_not_repeated(
    cli_db: str, capsys: pytest.CaptureFixture[str], option: str, complaint: str
) -> None:
    given = [option + PASSWORD] if option.endswith("=") else [option, PASSWORD]
    code, _, err = run(capsys, "add", "--username", "ben", "--name", "Ben", *given)
    assert code == EXIT_BAD_INPUT and complaint in err and PASSWORD not in err
    assert not Path(str(make_url(cli_db).database)).exists()  # refused before it was opened


def test_help_describes_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK and all(word in out for word in ("add", "list", "disable", "exit"))
    code, out, _ = run(capsys, "add", "--help")
    assert code == EXIT_OK and "--password-env VAR" in out and "--role {agent,admin}" in out


def test_list_and_disable(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "list")
    assert code == EXIT_OK and "no accounts yet" in out
    assert add_ben(monkeypatch, capsys) == EXIT_OK
    code, out, _ = run(capsys, "list")
    header, row = out.splitlines()
    assert header.split()[:4] == ["username", "role", "status", "created"]
    assert row.split()[:3] == ["ben", "agent", "active"] and row.endswith("Ben Miller")
    code, out, _ = run(capsys, "disable", "--username", "BEN")
    assert code == EXIT_OK and "disabled 'ben'" in out
    assert run(capsys, "list")[1].splitlines()[1].split()[:3] == ["ben", "agent", "disabled"]
    code, out, _ = run(capsys, "disable", "--username", "ben")
    assert code == EXIT_OK and "already disabled" in out
    with session_scope(cli_db) as session:
        assert authenticate(session, "ben", PASSWORD) is None
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["create_agent", "disable_agent"]


def test_disable_refuses_an_unknown_account_and_the_last_admin(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "disable", "--username", "nobody")
    assert code == EXIT_BAD_INPUT and "no account with the username 'nobody'" in err
    monkeypatch.setenv("ROOT_PASSWORD", PASSWORD)
    args = ("--name", "Root", "--role", "admin", "--password-env", "ROOT_PASSWORD")
    assert run(capsys, "add", "--username", "root", *args)[0] == EXIT_OK
    code, _, err = run(capsys, "disable", "--username", "root")
    assert code == EXIT_BAD_INPUT and "last active admin" in err


def test_a_database_that_cannot_be_reached_is_said_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    code, _, err = run(capsys, "list")
    assert code == EXIT_FAILED and err.startswith("agents: the database could not be used: ")
