"""`python -m launcher systemd`: unit files that systemd accepts, with the launcher's own
commands, and no secret in any unit (they go to 0600 environment files, per process kind).

The units are checked against systemd's documented syntax (systemd.syntax(7): sections,
`Key=Value` lines; systemd.unit(5), systemd.service(5), systemd.exec(5): the keys), and with
`systemd-analyze verify` where the machine has it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from launcher import systemd
from launcher.__main__ import main
from launcher.stack import SECRET_RECIPIENTS, Stack, StackConfig
from tests.conftest import require

RASA_TOKEN, INTERNAL_TOKEN = "rasa-token-0123456789-abcdefghij", "internal-token-0123456789-xyz"
DB_PASSWORD = "pg-secret-pass"
SECTION = re.compile(r"^\[(?P<name>[A-Za-z]+)\]$")
ASSIGNMENT = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9]*)=(?P<value>.*)$")
# the keys each section may hold here, as systemd.unit(5), .service(5) and .exec(5) name them
DOCUMENTED = {
    "Unit": {
        "Description", "Documentation", "PartOf", "After", "Wants", "StartLimitIntervalSec",
        "StartLimitBurst",
    },
    "Service": {
        "Type", "User", "WorkingDirectory", "Environment", "EnvironmentFile", "ExecStart",
        "Restart", "RestartSec", "TimeoutStopSec", "UMask", "NoNewPrivileges",
    },
    "Install": {"WantedBy"},
}  # fmt: skip


def parse(text: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as systemd.syntax(7) reads it: sections of `Key=Value` lines; any other
    line fails the test."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(("#", ";")):
            continue
        if header := SECTION.match(line):
            current = sections.setdefault(header["name"], [])
            continue
        assignment = ASSIGNMENT.match(line)
        assert assignment and current is not None, f"line {number} is not systemd syntax: {line}"
        current.append((assignment["key"], assignment["value"]))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for k, value in section if k == key]


@pytest.fixture
def config() -> StackConfig:
    return StackConfig(rasa_token=RASA_TOKEN, internal_token=INTERNAL_TOKEN)


def test_every_process_gets_a_unit_with_the_launchers_command(
    config: StackConfig, tmp_path: Path
) -> None:
    files = systemd.write(config, tmp_path / "units")
    stack = Stack(config)
    assert set(files.units) == {f"shopdesk-{n}.service" for n in stack.services} | {
        "shopdesk.target"
    }
    for name, service in stack.services.items():
        unit = parse((tmp_path / "units" / f"shopdesk-{name}.service").read_text())
        assert set(unit) == {"Unit", "Service", "Install"}
        for section, pairs in unit.items():
            assert {key for key, _ in pairs} <= DOCUMENTED[section], section
        run = unit["Service"]
        [exec_start] = values(run, "ExecStart")
        assert shlex.split(exec_start) == service.command
        assert Path(service.command[0]).is_absolute()
        assert values(run, "Restart") == ["on-failure"]
        assert values(run, "WorkingDirectory") == [str(Path(service.command[0]).parents[2])]
        [env_file] = values(run, "EnvironmentFile")
        assert env_file == str(tmp_path / "units" / f"shopdesk-{name}.env")
        assert Path(env_file).stat().st_mode & 0o777 == 0o600
        assert values(unit["Install"], "WantedBy") == ["shopdesk.target"]
        assert values(unit["Unit"], "PartOf") == ["shopdesk.target"]
    target = parse((tmp_path / "units" / "shopdesk.target").read_text())
    [wanted] = values(target["Unit"], "Wants")
    assert set(wanted.split()) == {f"shopdesk-{n}.service" for n in stack.services}
    assert values(target["Install"], "WantedBy") == ["multi-user.target"]


def test_secrets_are_only_in_the_environment_files_of_the_processes_that_use_them(
    tmp_path: Path,
) -> None:
    url = f"postgresql://shop:{DB_PASSWORD}@127.0.0.1/shop"
    config = StackConfig(
        rasa_token=RASA_TOKEN,
        internal_token=INTERNAL_TOKEN,
        deployment="scaled",
        rasa_instances=2,
        actions_instances=2,
        extra_env={"SHOPDESK_DATABASE_URL": url, "SHOPDESK_TRACKER_DB_URL": url},
    )
    files = systemd.write(config, tmp_path)
    for text in files.units.values():
        for secret in (RASA_TOKEN, INTERNAL_TOKEN, DB_PASSWORD):
            assert secret not in text
    internal, rasa, shop, tracker = (
        "SHOPDESK_INTERNAL_TOKEN", "SHOPDESK_RASA_TOKEN", "SHOPDESK_DATABASE_URL",
        "SHOPDESK_TRACKER_DB_URL",
    )  # fmt: skip
    expected = {
        "classifier": {internal},
        "actions": {internal, shop, tracker},
        "actions-2": {internal, shop, tracker},
        "rasa": {rasa, internal, tracker},
        "rasa-2": {rasa, internal, tracker},
        "web": {rasa, shop, tracker},
    }
    for name, secrets in expected.items():
        text = (tmp_path / f"shopdesk-{name}.env").read_text()
        given = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line}
        assert given == secrets, name
        assert given <= set(SECRET_RECIPIENTS)
    assert f'SHOPDESK_RASA_TOKEN="{RASA_TOKEN}"' in (tmp_path / "shopdesk-web.env").read_text()
    # the second Rasa instance calls the second action server, as under the launcher
    rasa_2 = parse(files.units["shopdesk-rasa-2.service"])
    assert any("SHOPDESK_ACTIONS_URL=" in v and ":5155/" in v for v in values(
        rasa_2["Service"], "Environment"
    ))  # fmt: skip


def test_user_and_quoting(config: StackConfig, tmp_path: Path) -> None:
    files = systemd.unit_files(config, tmp_path, user="shopdesk")
    web = parse(files.units["shopdesk-web.service"])
    assert values(web["Service"], "User") == ["shopdesk"]
    # systemd expands %specifiers (and $variables in commands): they are doubled
    assert systemd.escape('50% "off" \\ now') == '"50%% \\"off\\" \\\\ now"'
    assert systemd.exec_line(["/a b/python", "-c", "print($HOME)"]) == (
        '"/a b/python" -c "print($$HOME)"'
    )
    with pytest.raises(systemd.UnitError):
        systemd.escape("two\nlines")


def test_the_command_writes_the_files_and_says_how_to_install_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", RASA_TOKEN)
    assert main(["systemd", "--out", str(tmp_path / "units")]) == 0
    out = capsys.readouterr().out
    assert "systemctl enable --now shopdesk.target" in out and "launcher prepare" in out
    assert (tmp_path / "units").stat().st_mode & 0o777 == 0o700
    assert RASA_TOKEN in (tmp_path / "units" / "shopdesk-rasa.env").read_text()


def test_systemd_analyze_verifies_the_units(config: StackConfig, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    require(analyze, "systemd-analyze is missing (Debian: the systemd package)", "systemd")
    assert analyze is not None
    files = systemd.write(config, tmp_path)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in files.units)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_a_setting_a_unit_cannot_hold_gets_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDESK_SHOP_NAME", "two\nlines")
    assert main(["systemd", "--out", str(tmp_path)]) == 1
    assert "shopdesk: a setting holds a line break" in capsys.readouterr().err
