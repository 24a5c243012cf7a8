"""launcher.stack: Rasa's HTTP API and the internal services sit behind tokens that are never
constants."""

from __future__ import annotations

import os
import stat
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from launcher.ports import HOST
from launcher.stack import (
    Role,
    Service,
    Stack,
    StackConfig,
    passed_environment,
    secure_files,
    shop_database_file,
)

RASA_TOKEN, INTERNAL_TOKEN = "rasa-token-in-the-shell-0123456789", "internal-secret-0123456789"
WEB_SECRET, ADMIN_PASSWORD = "web-secret-" + "w" * 40, "the admin's long passphrase"
POSTGRES_PASSWORD, REDIS_PASSWORD = "pg-hunter2-pass", "redis-hunter3-pass"
SECRETS_GIVEN = {
    "SHOPDESK_RASA_TOKEN": RASA_TOKEN,
    "SHOPDESK_INTERNAL_TOKEN": INTERNAL_TOKEN,
    "SHOPDESK_WEB_SECRET": WEB_SECRET,
    "SHOPDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "SHOPDESK_POSTGRES_URL": f"postgresql://shop:{POSTGRES_PASSWORD}@127.0.0.1/shop",
    "SHOPDESK_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/1",
}
# The user's shell also holds others' secrets, which no process of the stack needs.
FOREIGN = {"AWS_SECRET_ACCESS_KEY": "aws-xyz", "GITHUB_TOKEN": "ghp-xyz", "HF_TOKEN": "hf-xyz"}
HARMLESS = {
    "PATH": "/usr/bin:/bin", "HOME": "/home/shop", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0", "CI": "true", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    "SHOPDESK_NLU_THREADS": "1", "SHOPDESK_ADMIN_USERNAME": "boss",
}  # fmt: skip


def rasa_command(config: StackConfig) -> list[str]:
    return Stack(config).services["rasa"].command


def test_rasa_serves_its_api_on_localhost_behind_the_configs_token() -> None:
    config = StackConfig()
    command = rasa_command(config)
    assert command[:4] == [
        str(config.rasa_venv / "bin" / "python"),
        "-m",
        "shopdesk_rasa.run",
        "run",
    ]
    assert command[command.index("--interface") + 1] == HOST == "127.0.0.1"
    assert "--enable-api" in command
    assert config.env("rasa")["SHOPDESK_RASA_TOKEN"] == config.rasa_token  # run.py hands it on


def test_no_secret_is_on_any_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every user of the machine reads command lines (`ps`, /proc/<pid>/cmdline)."""
    for name, value in SECRETS_GIVEN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHOPDESK_DEPLOYMENT", "scaled")
    config = StackConfig.from_env()
    for service in Stack(config).services.values():
        command = " ".join(service.command)
        assert config.rasa_token not in command and config.internal_token not in command
        assert not [value for value in SECRETS_GIVEN.values() if value in command]


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


def test_the_internal_secret_reaches_the_services_and_stays_out_of_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOPDESK_INTERNAL_TOKEN", raising=False)
    first, second = StackConfig.from_env(), StackConfig.from_env()
    assert first.internal_token != second.internal_token and len(first.internal_token) >= 40
    assert first.env("actions")["SHOPDESK_INTERNAL_TOKEN"] == first.internal_token
    assert first.internal_token not in repr(first)
    assert Stack(first).services["actions"].command[1:3] == ["-m", "actions.server"]
    monkeypatch.setenv("SHOPDESK_INTERNAL_TOKEN", "given-secret")
    assert StackConfig.from_env().internal_token == "given-secret"


# --- which process gets which secret ---------------------------------------------------------

# role -> the secrets it must get; every other secret it must not.
NEEDED: dict[Role, set[str]] = {
    "classifier": {INTERNAL_TOKEN},
    "actions": {INTERNAL_TOKEN, POSTGRES_PASSWORD},
    "rasa": {RASA_TOKEN, INTERNAL_TOKEN, POSTGRES_PASSWORD, REDIS_PASSWORD},
    "web": {RASA_TOKEN, WEB_SECRET, ADMIN_PASSWORD, POSTGRES_PASSWORD},
    "tool": {POSTGRES_PASSWORD},
}


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell with every secret set, the scaled setup on, and unrelated variables."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in {**SECRETS_GIVEN, **FOREIGN, **HARMLESS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHOPDESK_DEPLOYMENT", "scaled")
    monkeypatch.setenv("UNRELATED_SETTING", "x")


@pytest.mark.parametrize("role", sorted(NEEDED))
def test_each_process_gets_only_the_secrets_it_uses(shell: None, role: Role) -> None:
    config = StackConfig.from_env()
    values = " ".join(config.env(role).values())
    every = {RASA_TOKEN, INTERNAL_TOKEN, WEB_SECRET, ADMIN_PASSWORD, POSTGRES_PASSWORD,
             REDIS_PASSWORD}  # fmt: skip
    assert {secret for secret in every if secret in values} == NEEDED[role]
    assert not [value for value in FOREIGN.values() if value in values]
    assert "UNRELATED_SETTING" not in config.env(role)
    for name, value in HARMLESS.items():
        assert config.env(role)[name] == value


def test_the_scaled_setups_urls_reach_the_processes_that_connect(shell: None) -> None:
    config = StackConfig.from_env()
    postgres = SECRETS_GIVEN["SHOPDESK_POSTGRES_URL"]
    roles: tuple[Role, ...] = ("actions", "web", "tool")
    for role in roles:
        assert config.env(role)["SHOPDESK_DATABASE_URL"] == postgres
    for role in (*roles, "rasa"):
        assert config.env(role)["SHOPDESK_TRACKER_DB_URL"] == postgres
    rasa = config.env("rasa")
    assert rasa["SHOPDESK_REDIS_PASSWORD"] == REDIS_PASSWORD and "SHOPDESK_DATABASE_URL" not in rasa
    assert "SHOPDESK_REDIS_PASSWORD" not in config.env("web")
    assert "SHOPDESK_POSTGRES_URL" not in config.env("actions")  # read by the launcher only


def test_a_secret_given_through_extra_env_is_routed_too() -> None:
    config = StackConfig(extra_env={"SHOPDESK_ADMIN_PASSWORD": ADMIN_PASSWORD, "SHOPDESK_X": "1"})
    assert config.env("web")["SHOPDESK_ADMIN_PASSWORD"] == ADMIN_PASSWORD
    others: tuple[Role, ...] = ("classifier", "actions", "rasa", "tool")
    for role in others:
        assert "SHOPDESK_ADMIN_PASSWORD" not in config.env(role)
        assert config.env(role)["SHOPDESK_X"] == "1"


def test_the_users_environment_is_filtered_by_name() -> None:
    given = {**HARMLESS, **FOREIGN, "SSH_AUTH_SOCK": "/tmp/agent", "PGPASSWORD": "pw"}
    passed = passed_environment({**given, "SHOPDESK_REDIS_KEY_PREFIX": "shop"})
    assert passed == {**HARMLESS, "SHOPDESK_REDIS_KEY_PREFIX": "shop"}


# --- files and folders ----------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def private_config(tmp_path: Path) -> StackConfig:
    return StackConfig(
        log_dir=tmp_path / "var" / "logs",
        tracker_db=tmp_path / "var" / "db" / "tracker.sqlite3",
        extra_env={
            "SHOPDESK_DB_PATH": str(tmp_path / "shop" / "shop.sqlite3"),
            "SHOPDESK_DATABASE_URL": "",
        },
    )


def test_the_stacks_folders_are_made_private(private_config: StackConfig, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        secure_files(private_config)
    finally:
        os.umask(previous)
    for folder in ("var", "var/logs", "var/db", "shop"):
        assert mode(tmp_path / folder) == 0o700, folder


def test_world_readable_files_left_from_before_are_tightened(
    private_config: StackConfig, tmp_path: Path
) -> None:
    shop = shop_database_file(private_config.env())
    assert shop == tmp_path / "shop" / "shop.sqlite3"
    files = [private_config.log_dir / "rasa.log", private_config.tracker_db, shop,
             Path(f"{shop}-wal")]  # fmt: skip
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a shopper's address")
        path.chmod(0o644)
    (tmp_path / "shop").chmod(0o755)  # a folder outside var/ that exists: left as it is
    tightened = secure_files(private_config)
    for path in files:
        assert mode(path) == 0o600, path
        assert f"{path} (was 644)" in tightened
    assert mode(tmp_path / "shop") == 0o755
    assert not [c for c in secure_files(private_config) if str(tmp_path) in c]  # nothing left


def test_a_service_runs_with_a_private_umask_and_its_own_environment(
    private_config: StackConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a service writes (a database, a log) is its owner's alone."""
    monkeypatch.setenv("SHOPDESK_WEB_SECRET", WEB_SECRET)
    config = replace(private_config, rasa_token=RASA_TOKEN, internal_token=INTERNAL_TOKEN)
    stack = Stack(config)
    made = tmp_path / "made-by-the-service.txt"
    script = (
        "import os, sys; open(sys.argv[1], 'w').write('x'); print(' '.join(sorted(os.environ)))"
    )
    stack.services["probe"] = Service(
        "probe", "actions", [sys.executable, "-c", script, str(made)], 0, "http://127.0.0.1:9/"
    )
    secure_files(config)
    previous = os.umask(0o022)
    try:
        stack.start_service("probe")
    finally:
        os.umask(previous)
    process = stack.services["probe"].process
    assert process is not None
    process.wait(timeout=30)
    time.sleep(0.1)
    log = config.log_dir / "probe.log"
    assert mode(made) == 0o600 and mode(log) == 0o600
    names = log.read_text().split()
    assert "SHOPDESK_INTERNAL_TOKEN" in names and "PATH" in names
    assert "SHOPDESK_RASA_TOKEN" not in names and "SHOPDESK_WEB_SECRET" not in names
