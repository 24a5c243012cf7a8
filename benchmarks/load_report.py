"""Load: the results of a run, summarized per level and written as JSON and markdown.

Pure functions: the messages Locust recorded and the process samples of a level become its
summary (counts, errors, exact latency percentiles, messages per second, CPU and memory); the
whole run becomes benchmarks/results/load.md beside load.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import profiling
from benchmarks.load_processes import JSON, SAMPLE_INTERVAL_S, Sample, usage
from core.stats import measured_percentile


def summarize(records: Sequence[tuple[float, bool]], window_s: float) -> JSON:
    """Messages as (latency ms, answered): counts, error rate, answered messages per second of
    the window, and exact percentiles of the answered messages' latency (None if none)."""
    answered = [latency for latency, ok in records if ok]
    errors = len(records) - len(answered)
    latency: JSON | None = None
    if answered:
        latency = {
            "p50": round(measured_percentile(answered, 50), 1),
            "p95": round(measured_percentile(answered, 95), 1),
            "p99": round(measured_percentile(answered, 99), 1),
            "mean": round(sum(answered) / len(answered), 1),
            "max": round(max(answered), 1),
        }
    return {
        "messages": len(records),
        "answered": len(answered),
        "errors": errors,
        "error_rate": round(errors / len(records), 4) if records else 0.0,
        "msg_per_s": round(len(answered) / window_s, 2) if window_s > 0 else 0.0,
        "latency_ms": latency,
    }


def level_result(
    users: int, data: Mapping[str, Any], samples: Sequence[Sample], duration: int
) -> JSON:
    """One level from the locustfile's record and the samples: the window runs from the test's
    start to the last reply (the run time plus the replies in flight when it ended)."""
    requests = data.get("requests") or []
    started = data.get("test_start")
    if started is None:
        started = min((end - ms / 1000 for end, ms, _, _ in requests), default=time.time())
    last_end = max((end for end, _, _, _ in requests), default=started + duration)
    window_s = max(last_end - started, 1e-9)
    summary = summarize([(ms, bool(ok)) for _, ms, ok, _ in requests], window_s)
    return {
        "users": users,
        "duration_s": duration,
        "window_s": round(window_s, 2),
        **summary,
        "conversations_begun": data.get("conversations") or {},
        "error_kinds": data.get("errors") or {},
        "by_message": by_message(requests),
        **usage(samples, started, last_end),
    }


def by_message(requests: Sequence[Sequence[Any]]) -> JSON:
    """Per message text (the 4th field of a request): count, errors, p50 and max of the
    answered ones; the slowest median first."""
    grouped: dict[str, list[tuple[float, bool]]] = {}
    for _, ms, ok, text in requests:
        grouped.setdefault(str(text), []).append((float(ms), bool(ok)))
    stats: list[tuple[float, str, JSON]] = []
    for text, records in grouped.items():
        answered = [ms for ms, ok in records if ok]
        p50 = round(measured_percentile(answered, 50), 1) if answered else None
        each = {
            "messages": len(records),
            "errors": len(records) - len(answered),
            "p50": p50,
            "max": round(max(answered), 1) if answered else None,
        }
        stats.append((-1.0 if p50 is None else p50, text, each))
    stats.sort(key=lambda item: -item[0])
    return {text: each for _, text, each in stats}


def cell(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def users_label(count: int) -> str:
    return f"{count} user" if count == 1 else f"{count} users"


def markdown(result: Mapping[str, Any]) -> str:
    m = result["machine"]
    think = result["think_time_s"]
    pacing = "a closed loop" if think == 0 else f"{think:g} s between messages"
    lines = [
        "# Load: simulated shoppers on the ShopDesk stack",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['system']}.",
        f"Measured {result['measured_at']} with `{result['command']}`: setup "
        f"{result['setup']}, {result['duration_s']} s per level, think time {think:g} s "
        f"({pacing}). The load generator (Locust) runs on the same machine.",
        "",
        "| users | messages | msg/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for level in result["levels"]:
        latency = level["latency_ms"] or {}
        lines.append(
            f"| {level['users']} | {level['messages']} | {level['msg_per_s']} | "
            f"{cell(latency.get('p50'))} | {cell(latency.get('p95'))} | "
            f"{cell(latency.get('p99'))} | {level['errors']} "
            f"({level['error_rate'] * 100:.1f}%) |"
        )
    path = (
        "through the web server's socket.io channel, as the chat widget sends it, until the "
        "server turns the typing indicator off"
        if result.get("via") == "web"
        else "to Rasa's REST channel until its reply is in"
    )
    lines += [
        "",
        f"Latency: from sending a message {path}; exact percentiles of the answered messages. "
        "msg/s: answered messages per second of the level's wall time (its run time plus the "
        "replies in flight at its end). An error is an HTTP error, no reply in time, an empty "
        "reply, or one of the stack's apologies that a part did not answer.",
        "",
        "CPU (average cores in use over the level) and peak resident memory (MiB, sampled "
        f"every {SAMPLE_INTERVAL_S:g} s) of each process with its child processes:",
        "",
    ]
    names = list(dict.fromkeys(n for lv in result["levels"] for n in lv["processes"]))
    header = " | ".join(users_label(lv["users"]) for lv in result["levels"])
    lines += [f"| process | {header} |", "|---|" + "---|" * len(result["levels"])]
    for name in names:
        cells = []
        for level in result["levels"]:
            each = level["processes"].get(name) or {}
            cells.append(
                f"{cell(each.get('cpu_cores'))} cores, {cell(each.get('peak_rss_mib'))} MiB"
            )
        lines.append(f"| {name} | {' | '.join(cells)} |")
    busy = ", ".join(
        f"{users_label(lv['users'])} {cell(lv['machine_busy_cores'])}" for lv in result["levels"]
    )
    lines += ["", f"The whole machine's busy cores (every process on it): {busy}."]
    for level in result["levels"]:
        if others := level.get("other_busy_processes"):
            shown = ", ".join(f"{o['name']} ({o['pid']}) {o['cpu_cores']}" for o in others)
            lines.append(f"Other busy processes at {users_label(level['users'])}: {shown} cores.")
    if hwm := result.get("peak_since_start_mib"):
        peaks = ", ".join(f"{name} {mib}" for name, mib in hwm.items())
        lines.append(f"Peak resident memory since start (VmHWM) after the last level: {peaks} MiB.")
    cold = result["cold_start"]
    healthy = ", ".join(f"{name} {s} s" for name, s in cold["healthy_s"].items())
    lines += [
        "",
        f"Cold start: all processes healthy {cold['all_healthy_s']} s after they were started "
        f'({healthy}); the first reply to "hi" {cold["first_reply_s"]} s after the start '
        f"(that reply took {cold['first_reply_ms']} ms). Then a warm-up of "
        f"{result['warmup_messages']} messages, not counted.",
    ]
    slowest = [
        f"{users_label(lv['users'])}: "
        + "; ".join(f"{text!r} {each['p50']}" for text, each in list(lv["by_message"].items())[:3])
        for lv in result["levels"]
        if lv.get("by_message")
    ]
    if slowest:
        lines += ["", "Slowest messages (median ms): " + ". ".join(slowest) + "."]
    mix = ", ".join(f"{name} {weight}" for name, weight in result["conversation_mix"].items())
    lines += ["", f"Conversations, by weight: {mix} (benchmarks/locustfile.py)."]
    failed = [lv for lv in result["levels"] if lv["error_kinds"]]
    if failed:
        lines += ["", "Errors:"]
        for level in failed:
            kinds = sorted(level["error_kinds"].items(), key=lambda kv: -kv[1])[:5]
            shown = "; ".join(f"{count}× {kind}" for kind, count in kinds)
            lines.append(f"- {users_label(level['users'])}: {shown}")
    if result.get("note"):
        lines += ["", f"Note: {result['note']}"]
    for level in result["levels"]:
        if "profile" in level:
            title = f"at {users_label(level['users'])}"
            lines += ["", profiling.markdown(level["profile"], title).rstrip("\n")]
    return "\n".join(lines) + "\n"


def write_results(result: Mapping[str, Any], out: Path) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_name(out.name + ".json"), out.with_name(out.name + ".md")
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(markdown(result))
    return json_path, md_path
