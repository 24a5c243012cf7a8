"""Time and memory of the stack: cold start, reply latency, RSS per process, and
how long a reply takes over REST.

`python -m benchmarks.footprint` writes benchmarks/results/footprint.json and .md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.measure import machine
from core.stats import measured_percentile
from launcher.chat import send
from launcher.stack import Stack, StackConfig, prepare

RESULTS = Path(__file__).resolve().parent / "results"
MESSAGES = [
    "hi",
    "do you have a black hoodie?",
    "running shorts for women",
    "where is my order?",
    "000000001",
    "how much is shipping?",
]


def memory_mib(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process and all its descendants."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.exists():
            found = [int(c) for c in children.read_text().split()]
            pids += found
            frontier += found
    rss = peak = 0
    for each in pids:
        status = Path(f"/proc/{each}/status")
        if not status.exists():
            continue
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1])
    return {"rss_mib": round(rss / 1024, 1), "peak_rss_mib": round(peak / 1024, 1)}


def stack_numbers(rounds: int) -> dict[str, Any]:
    config = StackConfig.from_env()
    prepare(config)
    stack = Stack(config)
    try:
        ready = stack.start()
        latencies: list[float] = []
        for round_number in range(rounds):
            sender = f"bench-{round_number}-{uuid.uuid4().hex[:6]}"
            for text in MESSAGES:
                t0 = time.perf_counter()
                replies = send(config.chat_url, sender, text)
                latencies.append((time.perf_counter() - t0) * 1000)
                if not replies:
                    raise RuntimeError(f"no reply to {text!r}")
        memory = {name: memory_mib(pid) for name, pid in stack.pids().items()}
    finally:
        stack.stop()
    return {
        "cold_start_s_until_healthy": ready,
        "reply_latency_ms": {
            "messages": len(latencies),
            "median": round(statistics.median(latencies), 1),
            "p95": round(measured_percentile(latencies, 95), 1),
        },
        "memory": memory,
    }


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    s = result["stack"]
    lines = [
        "# Footprint of the ShopDesk stack",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['system']}.",
        f"Measured {result['measured_at']} with `python -m benchmarks.footprint`.",
        "",
        "| process | healthy after start (s) | RSS (MiB) | peak RSS (MiB) |",
        "|---|---|---|---|",
    ]
    for name, ready in s["cold_start_s_until_healthy"].items():
        mem = s["memory"].get(name, {})
        lines.append(f"| {name} | {ready} | {mem.get('rss_mib')} | {mem.get('peak_rss_mib')} |")
    lat = s["reply_latency_ms"]
    lines += [
        "",
        f"Reply latency over the REST channel, one shopper at a time, {lat['messages']} "
        f"messages: median {lat['median']} ms, p95 {lat['p95']} ms.",
        "",
        "The classifier's own latency and memory, 8-bit and fp32: "
        "[classifiers.md](classifiers.md).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.footprint",
        description="Start the real stack on the default ports, measure cold start, reply "
        "latency and memory per process; write benchmarks/results/footprint.{json,md}.",
    )
    parser.add_argument("--rounds", type=int, default=5, help="conversations of 6 messages")
    args = parser.parse_args(argv)
    result = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "stack": stack_numbers(args.rounds),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "footprint.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "footprint.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
