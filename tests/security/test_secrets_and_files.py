"""A shared computer: another local user reads what the running stack leaves readable, and a
service that an attacker takes over holds only the secrets it needs.

- Command lines are readable by every user (`ps`, /proc/<pid>/cmdline): no secret may be in
  one (Rasa's API token was, as `--auth-token=...`).
- The stack's folders, logs, databases and key file carry no group or other bits (they were
  755/644: conversations, addresses and orders readable by anyone on the machine).
- /proc/<pid>/environ of each service (readable by the same user, i.e. by code running in any
  of the services) holds only that service's secrets: the admin password and the session key
  only in the web server, Rasa's token only in Rasa and the web server, the internal token
  only in Rasa, the action server and the classifier.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.stack import ROOT, Stack
from tests.security.conftest import ADMIN, new_sender, rest

PROC = Path("/proc")
WEB_SECRET_FILE = ROOT / "var" / "web_secret.key"
SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


def secrets_of(stack: Stack) -> dict[str, bytes]:
    """Every secret of the running stack, by name."""
    return {
        "rasa token": stack.config.rasa_token.encode(),
        "internal token": stack.config.internal_token.encode(),
        "web secret": WEB_SECRET_FILE.read_bytes().strip(),
        "admin password": ADMIN[2].encode(),
    }


# The secrets each service must have; it must have none of the others.
NEEDED = {
    "classifier": {"internal token"},
    "actions": {"internal token"},
    "rasa": {"rasa token", "internal token"},
    # the web server reads its key from var/web_secret.key, not from its environment
    "web": {"rasa token", "admin password"},
}


def read(path: Path) -> bytes:
    """A /proc file, or nothing if that process has ended meanwhile."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return b""


def parents() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (text := read(entry / "stat").decode(errors="replace")):
            # `pid (name) state ppid ...`; the name may hold spaces and parentheses
            found[int(entry.name)] = int(text.rsplit(")", 1)[1].split()[1])
    return found


def with_descendants(pid: int, tree: dict[int, int]) -> Iterator[int]:
    yield pid
    for child, parent in tree.items():
        if parent == pid:
            yield from with_descendants(child, tree)


@pytest.fixture(scope="module")
def talked_to(live: Stack) -> Stack:
    """The stack after a conversation, so Rasa has written its tracker store."""
    assert rest(live, new_sender(), "hello")
    return live


def test_a_local_user_reads_no_secret_in_any_command_line(talked_to: Stack) -> None:
    """What `ps aux` shows every user: the command line of every process on the machine."""
    stack = talked_to
    tree = parents()
    ours = {pid for service in stack.pids().values() for pid in with_descendants(service, tree)}
    assert len(ours) >= len(stack.pids()) == 4
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            command = read(entry / "cmdline").replace(b"\0", b" ")
            found += [(entry.name, name) for name, s in secrets_of(stack).items() if s in command]
    assert found == []
    rasa_command = read(PROC / str(stack.pids()["rasa"]) / "cmdline").split(b"\0")
    assert b"--enable-api" in rasa_command  # the API is on, its token given another way


def test_a_local_user_cannot_read_the_stacks_databases_logs_or_key(talked_to: Stack) -> None:
    config = talked_to.config
    shop = Path(config.extra_env["SHOPDESK_DB_PATH"])
    logs = sorted(config.log_dir.glob("*.log"))
    assert {log.stem for log in logs} >= {"classifier", "actions", "rasa", "web"}
    sqlite = [
        path
        for database in (shop, config.tracker_db)
        for path in (database, *(Path(f"{database}{side}") for side in ("-wal", "-shm")))
        if path.exists()
    ]
    assert shop in sqlite and config.tracker_db in sqlite
    private = [config.log_dir, *logs, *sqlite, ROOT / "var", WEB_SECRET_FILE]
    modes = {str(path): oct(stat.S_IMODE(path.stat().st_mode)) for path in private}
    assert {p: m for p, m in modes.items() if int(m, 8) & SHARED_BITS} == {}


def test_each_service_holds_only_the_secrets_it_needs(talked_to: Stack) -> None:
    """Code that runs inside one service (a bad dependency, a template injection) reads its
    own environment; it must find nothing that opens the other services."""
    stack = talked_to
    tree = parents()
    secrets = secrets_of(stack)
    held: dict[str, set[str]] = {}
    for name, pid in stack.pids().items():
        for process in with_descendants(pid, tree):
            environ = read(PROC / str(process) / "environ").split(b"\0")
            assert environ != [b""], f"cannot read the environment of {name} ({process})"
            present = {key for key, value in secrets.items() if any(value in v for v in environ)}
            held[name] = held.get(name, set()) | present
    assert held == NEEDED
