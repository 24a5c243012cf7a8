"""What every benchmark records: the machine it ran on and its peak memory (percentiles come
from core.stats, the definition the analytics page uses too)."""

from __future__ import annotations

import argparse
import os
import platform
import resource
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    described: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }
    try:
        import torch

        described["torch"] = torch.__version__
        if torch.cuda.is_available():
            described["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return described


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def without_notes(arguments: list[str]) -> list[str]:
    """The command line as recorded: the notes are shown under the tables instead."""
    kept: list[str] = []
    skip = False
    for argument in arguments:
        if skip:
            skip = False
        elif argument == "--note":
            skip = True
        else:
            kept.append(argument)
    return kept


def add_note_option(parser: argparse.ArgumentParser) -> None:
    """`--note`, repeatable: a remark written under a benchmark's results."""
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        help="a remark written under the results (may be given several times)",
    )


def say(line: str) -> None:
    """A progress line, shown at once."""
    print(line, flush=True)
