"""launcher.stack: Rasa's HTTP API and the internal services sit behind tokens that are never
constants."""

from __future__ import annotations

import argparse

import pytest

from launcher.stack import HOST, Stack, StackConfig


def rasa_command(config: StackConfig) -> list[str]:
    return Stack(config).services["rasa"].command


def test_rasa_serves_its_api_on_localhost_behind_the_configs_token() -> None:
    config = StackConfig()
    command = rasa_command(config)
    assert command[command.index("--interface") + 1] == HOST == "127.0.0.1"
    assert "--enable-api" in command
    assert f"--auth-token={config.rasa_token}" in command


def test_a_token_that_starts_with_a_dash_is_not_read_as_an_option() -> None:
    """token_urlsafe may start with "-"; `--auth-token -x…` made Rasa's argparse fail."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-t", "--auth-token")
    parser.add_argument("--enable-api", action="store_true")
    command = rasa_command(StackConfig(rasa_token="-starts-with-a-dash"))
    options = [a for a in command if a.startswith("--auth-token") or a == "--enable-api"]
    assert parser.parse_args(options).auth_token == "-starts-with-a-dash"


def test_each_config_gets_its_own_random_token_kept_out_of_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOPDESK_RASA_TOKEN", raising=False)
    tokens = {StackConfig().rasa_token, StackConfig().rasa_token, StackConfig.from_env().rasa_token}
    assert len(tokens) == 3 and all(len(t) >= 40 for t in tokens)
    config = StackConfig()
    assert config.rasa_token not in repr(config)


def test_shopdesk_rasa_token_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", "tester-token-123")
    assert StackConfig.from_env().rasa_token == "tester-token-123"
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", "  ")
    assert StackConfig.from_env().rasa_token.strip()


def test_the_internal_secret_reaches_every_process_and_stays_out_of_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOPDESK_INTERNAL_TOKEN", raising=False)
    first, second = StackConfig.from_env(), StackConfig.from_env()
    assert first.internal_token != second.internal_token and len(first.internal_token) >= 40
    assert first.env()["SHOPDESK_INTERNAL_TOKEN"] == first.internal_token
    assert first.internal_token not in repr(first)
    assert Stack(first).services["actions"].command[1:3] == ["-m", "actions.server"]
    monkeypatch.setenv("SHOPDESK_INTERNAL_TOKEN", "given-secret")
    assert StackConfig.from_env().internal_token == "given-secret"
