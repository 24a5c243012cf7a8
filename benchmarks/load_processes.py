"""Load: CPU and memory of the measured processes while a level runs.

A sampler thread reads each process tree's CPU seconds and resident memory with psutil every
SAMPLE_INTERVAL_S, and the whole machine's busy time; the arithmetic turns samples into average
cores and peak memory over a level's window. Snapshots of every process on the machine name the
busiest other ones, as the machine is shared (benchmarks.analytics uses them too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_INTERVAL_S = 0.5

JSON = dict[str, Any]


@dataclass(frozen=True)
class Sample:
    """One look at the processes: `at` (epoch s); per process (tree) its cumulative CPU
    seconds and resident memory; the whole machine's busy CPU seconds."""

    at: float
    cpu_s: Mapping[str, float]
    rss_mib: Mapping[str, float]
    machine_busy_s: float = 0.0


def usage(samples: Sequence[Sample], start: float, end: float) -> JSON:
    """Average cores each process used from `start` to `end` (between the samples just outside
    the window), its peak resident memory in the samples of that span, and the whole machine's
    busy cores."""
    if not samples:
        return {"processes": {}, "machine_busy_cores": None, "span_s": 0.0}
    first = next((s for s in reversed(samples) if s.at <= start), samples[0])
    last = next((s for s in samples if s.at >= end), samples[-1])
    span = last.at - first.at
    inside = [s for s in samples if first.at <= s.at <= last.at]
    processes: JSON = {}
    for name in last.cpu_s:
        used = last.cpu_s[name] - first.cpu_s.get(name, 0.0)
        processes[name] = {
            "cpu_cores": round(used / span, 2) if span > 0 else None,
            "peak_rss_mib": round(max(s.rss_mib.get(name, 0.0) for s in inside), 1),
        }
    busy = last.machine_busy_s - first.machine_busy_s
    return {
        "processes": processes,
        "machine_busy_cores": round(busy / span, 2) if span > 0 else None,
        "span_s": round(span, 2),
    }


def other_processes(
    before: Mapping[tuple[int, float], tuple[str, float]],
    after: Mapping[tuple[int, float], tuple[str, float]],
    seconds: float,
    ours: set[tuple[int, float]],
    top: int = 3,
) -> list[JSON]:
    """The busiest processes outside the measured ones between two snapshots of every
    process ((pid, start time) → (name, CPU s)): the machine is shared."""
    if seconds <= 0:
        return []
    busy: list[tuple[float, str, int]] = []
    for key, (name, cpu_s) in after.items():
        cores = (cpu_s - before.get(key, (name, 0.0))[1]) / seconds
        if key not in ours and cores >= 0.05:
            busy.append((round(cores, 2), name, key[0]))
    busy.sort(reverse=True)
    return [{"name": name, "pid": pid, "cpu_cores": cores} for cores, name, pid in busy[:top]]


@dataclass
class Sampler:
    """Samples the process trees of `roots` (name → pid) every `interval_s` in a thread. A
    process that has exited keeps its last CPU time, so a tree's CPU never goes back."""

    roots: Mapping[str, int]
    interval_s: float = SAMPLE_INTERVAL_S
    samples: list[Sample] = field(default_factory=list, init=False)
    # per process tree: (pid, start time) → its latest CPU seconds
    _seen: dict[str, dict[tuple[int, float], float]] = field(default_factory=dict, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _everything: tuple[float, dict[tuple[int, float], tuple[str, float]]] | None = field(
        default=None, init=False
    )

    def sample(self) -> Sample:
        cpu: dict[str, float] = {}
        rss: dict[str, float] = {}
        for name, pid in self.roots.items():
            seen = self._seen.setdefault(name, {})
            resident = 0
            for process in _tree(pid):
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        key = (process.pid, process.create_time())
                        resident += process.memory_info().rss
                    seen[key] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            cpu[name] = sum(seen.values())
            rss[name] = resident / 2**20
        return Sample(time.time(), cpu, rss, machine_busy_s())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._everything = (time.time(), every_process())
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.samples

    def others(self) -> list[JSON]:
        """The busiest other processes on the machine since `start` (call after `stop`)."""
        if self._everything is None:
            return []
        started, before = self._everything
        ours = {key for seen in self._seen.values() for key in seen}
        return other_processes(before, every_process(), time.time() - started, ours)


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy, all cores (Linux counts guest time in user)."""
    times = psutil.cpu_times()._asdict()
    not_busy = ("idle", "iowait", "guest", "guest_nice")
    return float(sum(value for key, value in times.items() if key not in not_busy))


def every_process() -> dict[tuple[int, float], tuple[str, float]]:
    found: dict[tuple[int, float], tuple[str, float]] = {}
    for process in psutil.process_iter(["name", "cpu_times", "create_time"]):
        info = process.info
        if info.get("cpu_times") is not None and info.get("create_time") is not None:
            cpu = info["cpu_times"].user + info["cpu_times"].system
            found[(process.pid, info["create_time"])] = (str(info["name"]), cpu)
    return found


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []
