"""Load: simulated shoppers on the real stack, at several numbers of concurrent users.

`python -m benchmarks.load` starts the stack (a fresh one on free ports, as the conversation
tests do), measures its cold start, warms it up, then runs Locust headless once per level of
concurrent users (benchmarks/locustfile.py: realistic conversations over Rasa's REST channel)
for a fixed time each, against loopback addresses only. While a level runs, each process's
CPU and memory (with its child processes) is sampled with psutil, the load generator's too,
as it shares the machine. Writes benchmarks/results/load.json and load.md (`--out`).

This module is the command: its options, the loopback check, the conversation scripts, and the
run (`main`). The sampler thread and its CPU/memory arithmetic are in benchmarks.load_processes,
the summaries and the report (JSON and markdown) in benchmarks.load_report.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import ipaddress
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from benchmarks import profiling
from benchmarks.footprint import memory_mib
from benchmarks.load_processes import JSON, Sampler
from benchmarks.load_report import cell, level_result, markdown, users_label, write_results
from benchmarks.measure import machine, without_notes
from launcher.chat import send
from launcher.fresh import fresh_config, scaled_config
from launcher.scaled import ScaledSetupError
from launcher.stack import ROOT, Stack, StackConfig, StackError, missing_environments, prepare

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
DEFAULT_OUT = HERE / "results" / "load"
LOG_DIR = ROOT / "var" / "logs" / "load"
# The locustfile's environment variables (benchmarks/locustfile.py).
THINK_ENV = "SHOPDESK_LOAD_THINK_S"
LATENCIES_ENV = "SHOPDESK_LOAD_LATENCIES"
INSTANCES_ENV = "SHOPDESK_LOAD_RASA_URLS"
VIA_ENV = "SHOPDESK_LOAD_VIA"  # the locustfile reads these four
VIAS = ("rasa", "web")

DEFAULT_USERS = "1,10,20,50"
MAX_USERS = 1000
MIN_DURATION_S, MAX_DURATION_S = 5, 3600
MAX_THINK_S = 60.0
STOP_TIMEOUT_S = 10
FIRST_REPLY_TIMEOUT_S = 240.0
LOAD_GENERATOR = "load generator"
SETUPS = ("embedded", "scaled")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

Conversations = dict[str, tuple[int, list[str]]]


class LoadError(RuntimeError):
    """The benchmark cannot go on; the message says why (and where the log is)."""


# --------------------------------------------------------------------------------------------
# Options


def users_levels(text: str) -> list[int]:
    """`"1,10,20,50"` → [1, 10, 20, 50]; argparse.ArgumentTypeError says what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give numbers of users separated by commas, e.g. {DEFAULT_USERS}"
        )
    levels: list[int] = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= MAX_USERS:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a number of users from 1 to {MAX_USERS}"
            )
        if int(part) in levels:
            raise argparse.ArgumentTypeError(f"{part} users is given twice")
        levels.append(int(part))
    return levels


def duration_s(text: str) -> int:
    if not text.strip().isdigit() or not MIN_DURATION_S <= int(text) <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of seconds from {MIN_DURATION_S} to {MAX_DURATION_S}"
        )
    return int(text)


def think_time_s(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_THINK_S:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to {MAX_THINK_S:g}"
        )
    return seconds


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description="Start the real ShopDesk stack and drive it with Locust: simulated shoppers "
        "(product search, order status, a return, delivery and payment questions) at several "
        "numbers of concurrent users, on this machine only. Records reply latency (p50/p95/"
        "p99), messages per second, errors, CPU and peak memory per process, and the cold "
        "start; writes <out>.json and <out>.md.",
    )
    command.add_argument(
        "--users",
        type=users_levels,
        default=users_levels(DEFAULT_USERS),
        metavar="N,N,...",
        help=f"levels of concurrent simulated shoppers, run one after another "
        f"(default {DEFAULT_USERS})",
    )
    command.add_argument(
        "--duration",
        type=duration_s,
        default=60,
        metavar="SECONDS",
        help="how long each level runs (default 60)",
    )
    command.add_argument(
        "--think-time",
        type=think_time_s,
        default=0.0,
        metavar="SECONDS",
        help="pause of a shopper between messages (default 0: a closed loop, the next message "
        "goes out as soon as the reply is in)",
    )
    command.add_argument(
        "--setup",
        choices=SETUPS,
        default="embedded",
        help="embedded: a fresh stack on free ports with a temporary tracker and catalog "
        "(default); scaled: the scaled setup of launcher/scaled.py",
    )
    command.add_argument(
        "--via",
        choices=VIAS,
        default="rasa",
        help="rasa: messages go to Rasa's REST channel, the path every message takes "
        "(default); web: through the web server's socket.io channel as the chat widget sends "
        "them, a reply complete when the typing indicator goes off",
    )
    command.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="PREFIX",
        help="where to write the results: PREFIX.json and PREFIX.md "
        "(default benchmarks/results/load)",
    )
    command.add_argument(
        "--note", default="", metavar="TEXT", help="a remark recorded under the tables"
    )
    command.add_argument(
        "--profile",
        action="store_true",
        help="also sample every process with py-spy during each level and report where the "
        "time goes (slows the stack down: keep a profiled run's numbers apart)",
    )
    return command


def parse_options(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; a bad value exits with status 2 and a message, as argparse does."""
    command = parser()
    args = command.parse_args(argv)
    out: Path = args.out
    if out.name in ("", ".", "..") or out.is_dir():
        command.error(f"--out {out}: give a file name prefix such as benchmarks/results/load")
    if out.suffix in (".json", ".md"):
        args.out = out.with_suffix("")
    return args


def loopback_url(url: str) -> str:
    """The URL itself if its host is a loopback address; LoadError otherwise (this benchmark
    puts a machine under load and must never be pointed at another one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not loopback:
        raise LoadError(
            f"refusing to send load to {url!r}: only loopback hosts (127.0.0.0/8, ::1, "
            "localhost) over http(s) are allowed"
        )
    return url


# The web server limits the shopper channel per address (docs/web.md); with `--via web` every
# simulated shopper may come from 127.0.0.1, so the measured stack lifts those limits.
LOAD_LIMITS = {
    "SHOPDESK_SOCKET_CONNECTS_PER_MINUTE": "1000000",
    "SHOPDESK_SOCKET_MESSAGES_PER_MINUTE": "1000000",
}


def stack_config(setup: str, work: Path) -> StackConfig:
    """The stack to measure: `embedded` is a fresh one of its own in `work` (free ports, a
    temporary tracker and catalog); `scaled` is launcher.scaled's. Either with LOAD_LIMITS."""
    if setup == "embedded":
        config = fresh_config(work, LOG_DIR)
    elif setup == "scaled":
        config = scaled_config(work)
    else:
        raise ValueError(f"unknown setup {setup!r}; choose one of {', '.join(SETUPS)}")
    return replace(config, extra_env={**config.extra_env, **LOAD_LIMITS})


# --------------------------------------------------------------------------------------------
# The conversation scripts (read from the locustfile without importing Locust)


def validate_conversations(value: Any, source: str = "CONVERSATIONS") -> Conversations:
    """`{name: (weight, [message, ...])}` checked; ValueError says what is wrong."""
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{source} must be a non-empty dict of name: (weight, [messages])")
    checked: Conversations = {}
    for name, script in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{source}: a conversation name must be a non-empty string")
        if not isinstance(script, tuple | list) or len(script) != 2:
            raise ValueError(f"{source}[{name!r}] must be (weight, [messages])")
        weight, messages = script
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise ValueError(f"{source}[{name!r}]: the weight must be a whole number from 1")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, str) and m.strip() for m in messages)
        ):
            raise ValueError(f"{source}[{name!r}]: the messages must be non-empty strings")
        checked[name] = (weight, list(messages))
    return checked


def conversations(path: Path = LOCUSTFILE) -> Conversations:
    """The locustfile's CONVERSATIONS literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "CONVERSATIONS" for t in targets):
            if node.value is None:
                break
            return validate_conversations(ast.literal_eval(node.value), f"{path.name}")
    raise ValueError(f"{path}: no CONVERSATIONS = {{...}} literal")


# --------------------------------------------------------------------------------------------
# Running


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cold_start(stack: Stack, config: StackConfig) -> JSON:
    """Start the stack: seconds until each process is healthy and until the first reply."""
    started = time.monotonic()
    healthy = stack.start()
    sender = f"load-cold-{uuid.uuid4().hex[:8]}"
    deadline = started + FIRST_REPLY_TIMEOUT_S
    while True:
        sent = time.perf_counter()
        try:
            if send(config.chat_url, sender, "hi", timeout=FIRST_REPLY_TIMEOUT_S):
                break
        except (urllib.error.URLError, OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise LoadError(f"no reply to 'hi' within {FIRST_REPLY_TIMEOUT_S:g} s of the start")
        time.sleep(0.25)
    first_reply_ms = (time.perf_counter() - sent) * 1000
    return {
        "healthy_s": healthy,
        "all_healthy_s": max(healthy.values(), default=0.0),
        "first_reply_s": round(time.monotonic() - started, 2),
        "first_reply_ms": round(first_reply_ms, 1),
    }


def warm_up(config: StackConfig, scripts: Conversations) -> int:
    """Every conversation once, one message at a time; not counted. Messages sent."""
    sent = 0
    for name, (_, messages) in scripts.items():
        sender = f"load-warmup-{uuid.uuid4().hex[:8]}"
        for text in messages:
            sent += 1
            try:
                if not send(config.chat_url, sender, text, timeout=60):
                    progress(f"    warm-up: no reply to {text!r} ({name})")
            except (urllib.error.URLError, OSError, ValueError) as error:
                progress(f"    warm-up: {text!r} ({name}) failed: {error}")
    return sent


def locust_command(host: str, users: int, duration: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "--run-time",
        f"{duration}s",
        "--host",
        loopback_url(host),
        "--only-summary",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--exit-code-on-error",
        "0",  # failed messages are results here, not a failed run
    ]


def run_level(
    config: StackConfig,
    pids: Mapping[str, int],
    users: int,
    args: argparse.Namespace,
    work: Path,
    position: str,
) -> JSON:
    record = work / f"latencies-{users}.json"
    log_path = LOG_DIR / f"locust-{users}-users.log"
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),  # the locustfile uses web.rasa_client
        THINK_ENV: repr(args.think_time),
        LATENCIES_ENV: str(record),
        INSTANCES_ENV: ",".join(loopback_url(url) for url in config.rasa_urls),
        VIA_ENV: args.via,
    }
    progress(f"==> level {position}: {users_label(users)} for {args.duration} s")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            locust_command(
                config.web_url if args.via == "web" else config.rasa_url, users, args.duration
            ),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sampler = Sampler({**pids, LOAD_GENERATOR: process.pid})
    sampler.start()
    profiler = profiling.Profiler(pids, args.duration, work / f"profile-{users}")
    not_profiled = profiler.start() if args.profile else None
    started = time.monotonic()
    limit = args.duration + STOP_TIMEOUT_S + 60
    try:
        shown = 0
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed > limit:
                raise LoadError(f"Locust still runs {limit} s after the start; log {log_path}")
            if elapsed >= shown + 10:
                shown = int(elapsed) // 10 * 10
                done = min(elapsed, args.duration)
                progress(f"    {users_label(users)}: {done:.0f}/{args.duration} s")
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        samples = sampler.stop()
        profile = profiler.finish() if args.profile and not_profiled is None else None
    if process.returncode != 0 or not record.exists():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise LoadError(f"Locust failed (exit {process.returncode}); log {log_path}:\n{tail}")
    result = level_result(users, json.loads(record.read_text()), samples, args.duration)
    result["other_busy_processes"] = sampler.others()
    if args.profile:
        result["profile"] = profile or dict.fromkeys(pids, not_profiled or "not recorded")
    latency = result["latency_ms"] or {}
    progress(
        f"    {users_label(users)}: {result['messages']} messages, {result['msg_per_s']} msg/s, "
        f"p50 {cell(latency.get('p50'))} ms, p95 {cell(latency.get('p95'))} ms, "
        f"{result['errors']} errors"
    )
    return result


def run(args: argparse.Namespace, command_line: str) -> JSON:
    scripts = conversations()
    with tempfile.TemporaryDirectory(prefix="shopdesk-load-") as work_dir:
        work = Path(work_dir)
        config = stack_config(args.setup, work)
        loopback_url(config.rasa_url)
        if missing := missing_environments(config):
            raise LoadError("missing " + ", ".join(missing))
        stack = Stack(config)
        for service in stack.services.values():
            (config.log_dir / f"{service.name}.log").unlink(missing_ok=True)
        try:
            prepare(config)
            progress("==> cold start")
            cold = cold_start(stack, config)
            progress(
                f"    healthy after {cold['all_healthy_s']} s, first reply after "
                f"{cold['first_reply_s']} s; logs in {config.log_dir}"
            )
            progress("==> warm-up: every conversation once")
            warmup = warm_up(config, scripts)
            pids = stack.pids()
            levels = [
                run_level(config, pids, users, args, work, f"{n}/{len(args.users)}")
                for n, users in enumerate(args.users, start=1)
            ]
            hwm = {name: memory_mib(pid)["peak_rss_mib"] for name, pid in pids.items()}
        finally:
            stack.stop()
    return {
        "benchmark": "load",
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": command_line,
        "note": args.note,
        "machine": machine(),
        "setup": args.setup,
        "via": args.via,
        "users": args.users,
        "duration_s": args.duration,
        "think_time_s": args.think_time,
        "conversation_mix": {name: weight for name, (weight, _) in scripts.items()},
        "cold_start": cold,
        "warmup_messages": warmup,
        "levels": levels,
        "peak_since_start_mib": hwm,
    }


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parse_options(arguments)
    if importlib.util.find_spec("locust") is None:
        progress("Locust is missing: pip install -e '.[dev]'")
        return EXIT_BAD_INPUT
    command_line = shlex.join(["python", "-m", "benchmarks.load", *without_notes(arguments)])
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(args, command_line)
    except KeyboardInterrupt:
        progress("interrupted; the stack is stopped")
        return EXIT_INTERRUPTED
    except (LoadError, StackError, ScaledSetupError) as error:
        progress(f"error: {error}")
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
    json_path, md_path = write_results(result, args.out)
    print(markdown(result))
    progress(f"wrote {json_path} and {md_path}")
    silent = [lv["users"] for lv in result["levels"] if not lv["answered"]]
    if silent:
        progress(f"error: no message was answered at {', '.join(map(str, silent))} users")
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
