"""The one settings mechanism (core/settings.py): typed sections from SHOPDESK_* variables,
blank means default, a sentence that names the variable for a bad value, one cached set per
process, secrets from the environment or from files only their owner can read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BeforeValidator

from core.settings import (
    InternalSettings,
    Section,
    SettingsError,
    ShopDeskSettings,
    Text,
    choice,
    number,
    read_secret_file,
    settings,
    var,
    whole_number,
    words,
    write_secret_file,
)


class Example(Section):
    name: Text = var("SHOPDESK_TEST_NAME", "shop")
    timeout_s: Annotated[float, BeforeValidator(number(1))] = var("SHOPDESK_TEST_TIMEOUT_S", 5.0)
    workers: Annotated[int, BeforeValidator(whole_number(1))] = var("SHOPDESK_TEST_WORKERS", 2)
    mode: Annotated[str, BeforeValidator(choice("on", "off"))] = var("SHOPDESK_TEST_MODE", "on")
    hosts: Annotated[tuple[str, ...], BeforeValidator(words())] = var("SHOPDESK_TEST_HOSTS", ())


def test_unset_or_blank_variables_keep_the_defaults() -> None:
    assert Example.from_env({}) == Example.from_env({"SHOPDESK_TEST_NAME": "  "})
    assert Example.from_env({}).name == "shop"


def test_values_are_parsed_by_their_type() -> None:
    example = Example.from_env(
        {
            "SHOPDESK_TEST_NAME": " luma ",
            "SHOPDESK_TEST_TIMEOUT_S": "2.5",
            "SHOPDESK_TEST_WORKERS": "4",
            "SHOPDESK_TEST_MODE": "off",
            "SHOPDESK_TEST_HOSTS": "a, b,,c ",
        }
    )
    assert (example.name, example.timeout_s, example.workers) == ("luma", 2.5, 4)
    assert (example.mode, example.hosts) == ("off", ("a", "b", "c"))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SHOPDESK_TEST_TIMEOUT_S", "soon", "SHOPDESK_TEST_TIMEOUT_S must be a number, not 'soon'"),
        ("SHOPDESK_TEST_TIMEOUT_S", "nan", "SHOPDESK_TEST_TIMEOUT_S must be a finite number"),
        ("SHOPDESK_TEST_TIMEOUT_S", "0.5", "SHOPDESK_TEST_TIMEOUT_S must be at least 1, not '0.5'"),
        ("SHOPDESK_TEST_WORKERS", "1e3", "SHOPDESK_TEST_WORKERS must be a positive whole number"),
        ("SHOPDESK_TEST_WORKERS", "0", "SHOPDESK_TEST_WORKERS must be a positive whole number"),
        ("SHOPDESK_TEST_MODE", "maybe", "SHOPDESK_TEST_MODE must be one of on, off (got 'maybe')"),
    ],
)
def test_a_bad_value_gets_a_sentence_naming_its_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        Example.from_env({name: value})
    assert str(refused.value).startswith(message)


def test_fields_may_be_given_in_code_and_win_over_the_environment() -> None:
    example = Example.from_env({"SHOPDESK_TEST_WORKERS": "4"}, workers=8)
    assert example.workers == 8
    assert example.model_copy(update={"name": "other"}).name == "other"


def test_one_process_reads_each_section_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_TEST_WORKERS", "3")
    first = settings().section(Example)
    monkeypatch.setenv("SHOPDESK_TEST_WORKERS", "9")
    assert settings().section(Example) is first and first.workers == 3
    settings.cache_clear()  # what a new process, or a test, does
    assert settings().section(Example).workers == 9
    fresh = ShopDeskSettings({"SHOPDESK_TEST_WORKERS": "5"})
    assert fresh.section(Example).workers == 5


def test_a_secret_stays_out_of_the_repr() -> None:
    internal = InternalSettings.from_env({"SHOPDESK_INTERNAL_TOKEN": "s3cret-token"})
    assert internal.internal_token == "s3cret-token"
    assert "s3cret" not in repr(internal)


def test_secret_files_are_made_private_and_refused_when_shared_or_short(tmp_path: Path) -> None:
    path = tmp_path / "private" / "key"
    write_secret_file(path, b"k" * 40)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    read = {"if_shared": "delete it", "if_short": "make a longer one"}
    assert read_secret_file(path, "test key", 32, **read) == b"k" * 40
    path.chmod(0o640)
    with pytest.raises(SettingsError, match=r"open to other users \(mode 640\); delete it"):
        read_secret_file(path, "test key", 32, **read)
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="holds 40 characters, fewer than 64: make a longer"):
        read_secret_file(path, "test key", 64, **read)
