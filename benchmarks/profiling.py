"""Where the stack's processes spend their time under load: py-spy samples each process while a
load level runs, and the samples are summed per function (`python -m benchmarks.load
--profile`). This is how the bottlenecks in docs/performance.md were found.

py-spy reads another process's memory, which needs ptrace rights: root, or
`kernel.yama.ptrace_scope=0`. Without them the profile is skipped with a clear reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Frames that are only the way into the work (thread start, the event loop, the CLI) are
# left out of the summary: they hold every sample and say nothing.
PLUMBING = ("threading.py", "<frozen runpy>", "asyncio/", "runners.py", "selectors.py")


def py_spy() -> str | None:
    """The py-spy command beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    name: str
    output: Path
    process: subprocess.Popen[bytes]


class Profiler:
    """py-spy recorders on the given processes (and their children) for `seconds`."""

    def __init__(self, pids: Mapping[str, int], seconds: int, folder: Path) -> None:
        self.pids = dict(pids)
        self.seconds = seconds
        self.folder = folder
        self.recordings: list[Recording] = []

    def start(self) -> str | None:
        """Start recording; the reason when it cannot (no py-spy)."""
        command = py_spy()
        if command is None:
            return "py-spy is not installed (pip install py-spy)"
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            output = self.folder / f"{name}.raw.txt"
            record = ["record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
            options = ["--duration", str(self.seconds), "--rate", "100", "--format", "raw"]
            process = subprocess.Popen(
                [command, *record, *options, "--output", str(output)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            self.recordings.append(Recording(name, output, process))
        return None

    def finish(self) -> dict[str, list[tuple[float, str]] | str]:
        """Per process: the functions with the largest share of samples, or why none."""
        results: dict[str, list[tuple[float, str]] | str] = {}
        for recording in self.recordings:
            try:
                _, error = recording.process.communicate(timeout=self.seconds + 60)
            except subprocess.TimeoutExpired:
                recording.process.kill()
                _, error = recording.process.communicate()
            if recording.output.exists() and recording.output.stat().st_size:
                lines = recording.output.read_text(errors="replace").splitlines()
                results[recording.name] = top_functions(lines)
            else:
                last = (error or b"").decode(errors="replace").strip().splitlines()
                results[recording.name] = last[-1] if last else "py-spy recorded nothing"
        return results


def frame_name(frame: str) -> str:
    """`function (path/file.py:123)` → `function (file.py)`: lines merged per function."""
    function, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    return f"{function} ({file.rsplit('/', 1)[-1]})" if where else function


def top_functions(raw_lines: Iterable[str], count: int = 25) -> list[tuple[float, str]]:
    """Share of samples (percent) in which each function is on the stack, largest first,
    from py-spy's raw format (`frame;frame;... samples` per line)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw_lines:
        stack, _, samples = line.rstrip().rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        total += int(samples)
        # `process PID:"command line"` frames (--subprocesses) are dropped: a command line can
        # hold a token (Rasa's --auth-token)
        frames = [
            f
            for f in stack.split(";")
            if not f.startswith("process ") and not any(p in f for p in PLUMBING)
        ]
        for name in {frame_name(f) for f in frames}:
            inclusive[name] += int(samples)
    if not total:
        return []
    return [(round(100 * n / total, 1), name) for name, n in inclusive.most_common(count)]


def markdown(profiles: Mapping[str, list[tuple[float, str]] | str], title: str) -> str:
    """The profiles as a section of the load report."""
    lines = [
        f"## Where the time goes {title} (py-spy)",
        "",
        "Share of samples in which a function was on the stack (inclusive), per process:",
    ]
    for name, profile in profiles.items():
        lines += ["", f"**{name}**", ""]
        if isinstance(profile, str):
            lines.append(f"not profiled: {profile}")
            continue
        lines += [f"- {share:.1f} % {function}" for share, function in profile]
    return "\n".join(lines) + "\n"
