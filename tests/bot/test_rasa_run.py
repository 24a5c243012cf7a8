"""bot/shopdesk_rasa/run.py: Rasa starts with its API token from the environment; the token
never is an argument of the process (others read those in `ps`)."""

from __future__ import annotations

import sys

import pytest
from shopdesk_rasa.run import TOKEN_VARIABLE, MissingToken, main, rasa_argv

TOKEN = "-starts-with-a-dash-like-token_urlsafe-may"
RUN = ["run", "--interface", "127.0.0.1", "--port", "5005", "--enable-api"]


def test_the_token_from_the_environment_becomes_rasas_auth_token_argument() -> None:
    argv = rasa_argv(RUN, {TOKEN_VARIABLE: f"  {TOKEN} "})
    assert argv == ["rasa", *RUN, f"--auth-token={TOKEN}"]  # one argument: "-" is no option
    assert rasa_argv(["train", "--fixed-model-name", "x"], {}) == [
        "rasa", "train", "--fixed-model-name", "x"
    ]  # fmt: skip


@pytest.mark.parametrize("token", ["", "   "])
def test_the_api_is_not_served_without_a_token(token: str) -> None:
    with pytest.raises(MissingToken, match=TOKEN_VARIABLE):
        rasa_argv(RUN, {TOKEN_VARIABLE: token})


@pytest.mark.parametrize("given", ["--auth-token=abc", "--auth-token", "--auth=abc", "-tabc", "-t"])
def test_a_token_on_the_command_line_is_refused(given: str) -> None:
    with pytest.raises(MissingToken, match="never given on the command line"):
        rasa_argv([*RUN, given], {TOKEN_VARIABLE: TOKEN})


def test_main_says_why_and_exits_2_without_starting_rasa(
    capsys: pytest.CaptureFixture[str],
) -> None:
    environ = {TOKEN_VARIABLE: ""}
    assert main(RUN, environ) == 2
    assert "needs Rasa's API token in SHOPDESK_RASA_TOKEN" in capsys.readouterr().err


def test_main_hands_over_to_rasas_cli_and_drops_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("rasa.__main__.main", lambda: seen.append(list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["run.py"])
    environ = {TOKEN_VARIABLE: TOKEN, "PATH": "/usr/bin"}
    assert main(RUN, environ) == 0
    assert seen == [["rasa", *RUN, f"--auth-token={TOKEN}"]]
    assert environ == {"PATH": "/usr/bin"}  # what Rasa starts does not inherit it
    # the shopper channel still knows it, to tell the web server and testers from the public
    from shopdesk_rasa import channels, run

    assert run.api_token() == TOKEN and channels.api_token() == TOKEN
    run._api_token = ""  # as before this test
