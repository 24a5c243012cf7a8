"""The pure parts of benchmarks/load.py: options, the loopback check and the conversation
scripts of benchmarks/locustfile.py. No stack, no Locust run."""

import argparse
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import (
    LOCUSTFILE,
    LoadError,
    conversations,
    locust_command,
    loopback_url,
    main,
    parse_options,
    users_levels,
    validate_conversations,
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5005",
        "http://127.1.2.3:80/x",
        "http://localhost:5005",
        "http://[::1]:5005",
    ],
)
def test_loopback_hosts_are_allowed(url: str) -> None:
    assert loopback_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:5005",
        "http://example.com",
        "http://0.0.0.0:5005",
        "http://localhost.example.com:5005",
        "ftp://127.0.0.1/",
        "127.0.0.1:5005",
        "",
    ],
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(LoadError, match="only loopback hosts"):
        loopback_url(url)


def test_the_locust_command_refuses_another_host() -> None:
    with pytest.raises(LoadError):
        locust_command("http://192.168.1.10:5005", 5, 10)
    command = locust_command("http://127.0.0.1:5005", 5, 10)
    assert command[command.index("-u") + 1] == command[command.index("-r") + 1] == "5"
    assert command[command.index("--run-time") + 1] == "10s"
    assert "--headless" in command and "--only-summary" in command


def test_default_options() -> None:
    args = parse_options([])
    assert args.users == [1, 10, 20, 50]
    assert (args.duration, args.think_time, args.setup, args.note) == (60, 0.0, "embedded", "")
    assert args.out.name == "load"
    assert parse_options(["--out", "/tmp/x.json"]).out == Path("/tmp/x")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--users", ""], "separated by commas"),
        (["--users", "1,,5"], "separated by commas"),
        (["--users", "0"], "from 1 to"),
        (["--users", "-3"], "from 1 to"),
        (["--users", "ten"], "from 1 to"),
        (["--users", "5,5"], "given twice"),
        (["--duration", "2"], "whole number of seconds"),
        (["--duration", "1.5"], "whole number of seconds"),
        (["--think-time", "-1"], "from 0 to"),
        (["--think-time", "nan"], "from 0 to"),
        (["--think-time", "soon"], "from 0 to"),
        (["--setup", "cloud"], "invalid choice"),
        (["--out", "."], "file name prefix"),
    ],
)
def test_bad_options_exit_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_options(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_users_levels_keeps_the_order_given() -> None:
    assert users_levels("20, 1,5") == [20, 1, 5]
    with pytest.raises(argparse.ArgumentTypeError):
        users_levels("1001")


def test_the_locustfile_conversations_are_well_formed() -> None:
    scripts = conversations(LOCUSTFILE)
    assert len(scripts) >= 4
    texts = [text.lower() for _, messages in scripts.values() for text in messages]
    assert any("hoodie" in t for t in texts), "a product search"
    assert any("order" in t for t in texts) and any("@example." in t for t in texts)
    assert any("return" in t for t in texts)
    assert any("payment" in t or "shipping" in t for t in texts), "a policy question"
    for name, (weight, messages) in scripts.items():
        assert weight >= 1, name
        assert all(text == text.strip() and "[" not in text for text in messages), name


def test_order_numbers_and_emails_in_the_conversations_are_demo_pairs() -> None:
    """Each order number is followed, in the same conversation, by the e-mail of that order
    in the conversation tests of bot/tests (where the pairs are known to verify)."""
    stories = "\n".join(
        p.read_text() for p in (LOCUSTFILE.parent.parent / "bot/tests").glob("*.yml")
    )
    for name, (_, messages) in conversations().items():
        joined = " ".join(messages)
        numbers = [w.strip("?.,") for w in joined.split() if w.strip("?.,").isdigit()]
        emails = [w for w in joined.split() if "@" in w]
        assert len(numbers) == len(emails), name
        for number, email in zip(numbers, emails, strict=True):
            assert f"[{number}](order_number)" in stories, (name, number)
            assert f"[{email}](email)" in stories, (name, email)


def test_bad_conversation_data_is_refused(tmp_path: Path) -> None:
    bad_data: list[Any] = [
        {},
        {"x": (0, ["hi"])},
        {"x": (1, [])},
        {"x": (1, ["hi", " "])},
        {"": (1, ["a"])},
        {"x": ["hi"]},
        ["hi"],
    ]
    for bad in bad_data:
        with pytest.raises(ValueError):
            validate_conversations(bad)
    missing = tmp_path / "locustfile.py"
    missing.write_text("OTHER = {}\n")
    with pytest.raises(ValueError, match="no CONVERSATIONS"):
        conversations(missing)


def test_bad_scaled_settings_stop_the_run_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPDESK_REDIS_URL", "http://cache:6379")
    code = main(["--setup", "scaled", "--users", "1", "--out", str(tmp_path / "x")])
    assert code != 0
    error = capsys.readouterr().err
    assert "SHOPDESK_REDIS_URL must look like" in error and "Traceback" not in error
    assert not (tmp_path / "x.json").exists()
