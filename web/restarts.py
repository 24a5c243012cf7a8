"""How many times the launcher restarted each process of the stack, for `/health`.

The launcher (launcher/supervise.py) restarts a process that died and counts it; the web server
is one of those processes, so the count cannot live in its memory (a restarted web server would
forget it). The launcher writes the counts to a small JSON file in the stack's log folder and
names it in SHOPDESK_RESTARTS_FILE; `/health` reads the file at each request. The file's shape
is this module's alone: the writer (the launcher sits above web/) and the reader both use it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from core.settings import Section, Text, var

RESTARTS_KEY: Final = "restarts"
GAVE_UP_KEY: Final = "gave_up"
# the counts hold shoppers' nothing, but they sit in the private log folder: same mode
FILE_MODE: Final = 0o600


class RestartSettings(Section):
    """SHOPDESK_RESTARTS_FILE: the launcher's restart counts (blank: not run by the launcher,
    e.g. under systemd, whose `systemctl show -p NRestarts` counts instead)."""

    restarts_file: Text = var("SHOPDESK_RESTARTS_FILE", "")


@dataclass(frozen=True)
class RestartCounts:
    """Restarts per process name since the stack started; `gave_up` names the process the
    launcher stopped restarting (then it stops everything), empty while all is well."""

    restarts: dict[str, int] = field(default_factory=dict)
    gave_up: str = ""

    def write(self, path: Path) -> None:
        """Replace the file in one step (a reader never sees half of it), owner-only."""
        partial = path.with_name(f".{path.name}.partial")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump({RESTARTS_KEY: self.restarts, GAVE_UP_KEY: self.gave_up}, out)
        partial.replace(path)

    @classmethod
    def read(cls, path: Path) -> RestartCounts:
        """The counts in `path`; none when it is missing or unreadable (a health check must
        answer whatever the file holds)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        raw = data.get(RESTARTS_KEY)
        counts = (
            {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
            if isinstance(raw, dict)
            else {}
        )
        gave_up = data.get(GAVE_UP_KEY)
        return cls(counts, gave_up if isinstance(gave_up, str) else "")


def restart_counts(settings: RestartSettings) -> dict[str, int]:
    """What `/health` shows: each process's restarts, {} when the launcher did not start it."""
    if not settings.restarts_file:
        return {}
    return RestartCounts.read(Path(settings.restarts_file)).restarts
