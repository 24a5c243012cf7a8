"""End-to-end shopper tasks: multi-turn conversations played against the live stack.

`python -m benchmarks.tasks` starts a fresh stack the way `python -m launcher stories` does
(free ports, a temporary tracker and a freshly loaded SQLite shop, so tasks that cancel,
return or re-address orders find them as the order book made them), or plays against a
running one with --url. Every task of benchmarks/tasks.yml gets a conversation of its own
(a new sender id) and its messages go over Rasa's REST channel as a shopper's do: without
the tester token, so each one is read as words by the classifier.

A turn passes when every `must` pattern is in the bot's replies to it and no `must_not`
pattern is; a task passes when every turn does, and, if the task has its own `must`, each of
those appeared somewhere in the conversation. The share of tasks passed is the resolution
rate a shop would quote (Intercom publishes 67 % for Fin; issue 18 aims at 0.90).

Results: benchmarks/results/tasks.{json,md}; a run limited with --only or --task writes
tasks-partial.{json,md} unless --output names another file.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import time
import urllib.error
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypedDict

import yaml

from benchmarks.measure import add_note_option, machine, say, without_notes

BENCHMARKS: Final = Path(__file__).resolve().parent
TASKS_FILE: Final = BENCHMARKS / "tasks.yml"
RESULTS: Final = BENCHMARKS / "results"
DEFAULT_OUTPUT: Final = "tasks"
PARTIAL_OUTPUT: Final = "tasks-partial"
# The groups of issue 18's task list; each must hold at least MIN_PER_GROUP tasks.
GROUPS: Final = (
    "track_order", "refund_status", "cancel", "return", "change_address", "search_refine",
    "product_question", "promo_code", "not_carried", "handoff", "login_trouble", "exchange",
)  # fmt: skip
MIN_TASKS: Final = 60
MIN_PER_GROUP: Final = 5
TASK_KEYS: Final = frozenset({"name", "group", "turns", "must", "must_not", "note"})
TURN_KEYS: Final = frozenset({"say", "must", "must_not"})
# A pattern written /like this/ is a regular expression; anything else a plain substring.
# Both are matched without regard to case.
REGEX_DELIMITER: Final = "/"
SEND_TIMEOUT_S: Final = 60.0
TRANSCRIPT_EXCERPT_TURNS: Final = 3  # turns shown in the .md up to and including the failure
EXIT_DONE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130


class TaskFileError(ValueError):
    """benchmarks/tasks.yml cannot be used; the message names the task and what is wrong."""


@dataclass(frozen=True)
class Pattern:
    """One expectation on the bot's replies: a substring, or a regex written /between slashes/."""

    source: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """Raises re.error for a /regex/ that does not compile."""
        delimited = len(text) > 2 and text.startswith(REGEX_DELIMITER) and text.endswith("/")
        body = text[1:-1] if delimited else re.escape(text)
        return cls(text, re.compile(body, re.IGNORECASE))

    def found_in(self, text: str) -> bool:
        return self.regex.search(text) is not None


@dataclass(frozen=True)
class TaskTurn:
    say: str
    must: tuple[Pattern, ...] = ()
    must_not: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class Task:
    name: str
    group: str
    turns: tuple[TaskTurn, ...]
    # Task-wide: `must` must appear somewhere in the conversation, `must_not` in no turn.
    must: tuple[Pattern, ...] = ()
    must_not: tuple[Pattern, ...] = ()


class TurnRecord(TypedDict):
    user: str
    bot: list[str]


class TaskResult(TypedDict):
    name: str
    group: str
    passed: bool
    failed_turn: int | None  # 1-based; None when passed or when a task-wide `must` is missing
    why: str | None
    transcript: list[TurnRecord]
    duration_s: float


class GroupSummary(TypedDict):
    tasks: int
    passed: int
    task_success_rate: float


# --------------------------------------------------------------------------------------------
# Loading


def _flatten(raw: Any) -> Any:
    """A list with lists inside (YAML anchors such as `[*lost, "order number"]`) made flat."""
    if not isinstance(raw, list):
        return raw
    return [item for inner in raw for item in (_flatten(inner) if isinstance(inner, list)
                                                else [inner])]  # fmt: skip


def _patterns(raw: Any, key: str, where: str) -> tuple[Pattern, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else _flatten(raw)
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise TaskFileError(f"{where}: `{key}` must be a text or a list of non-empty texts")
    try:
        return tuple(Pattern.parse(item) for item in items)
    except re.error as error:
        raise TaskFileError(f"{where}: `{key}` has a regular expression that does not compile: "
                            f"{error}") from None  # fmt: skip


def _turn(raw: Any, where: str) -> TaskTurn:
    if isinstance(raw, str):
        raw = {"say": raw}
    if not isinstance(raw, dict):
        raise TaskFileError(f"{where}: a turn is a message or a mapping with `say`")
    if unknown := set(raw) - TURN_KEYS:
        raise TaskFileError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))} "
                            f"(a turn has {', '.join(sorted(TURN_KEYS))})")  # fmt: skip
    text = raw.get("say")
    if not isinstance(text, str | int) or not str(text).strip():
        raise TaskFileError(f"{where}: `say` must be the shopper's message")
    return TaskTurn(
        str(text),
        _patterns(raw.get("must"), "must", where),
        _patterns(raw.get("must_not"), "must_not", where),
    )


def parse_tasks(document: Any, source: str = "tasks.yml") -> list[Task]:
    """The tasks of a parsed YAML document; TaskFileError names the task that is wrong."""
    if not isinstance(document, list) or not document:
        raise TaskFileError(f"{source}: expected a list of tasks")
    tasks: list[Task] = []
    seen: set[str] = set()
    for number, item in enumerate(document, start=1):
        where = f"{source}, task {number}"
        if not isinstance(item, dict):
            raise TaskFileError(f"{where}: a task is a mapping with name, group and turns")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise TaskFileError(f"{where}: needs a `name`")
        where = f"{source}, task {number} ({name!r})"
        if name in seen:
            raise TaskFileError(f"{where}: the name is used by an earlier task")
        seen.add(name)
        if unknown := set(item) - TASK_KEYS:
            raise TaskFileError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        if item.get("group") not in GROUPS:
            raise TaskFileError(f"{where}: `group` must be one of {', '.join(GROUPS)}")
        raw_turns = item.get("turns")
        if not isinstance(raw_turns, list) or not raw_turns:
            raise TaskFileError(f"{where}: `turns` must be a list of at least one message")
        turns = tuple(
            _turn(raw, f"{where}, turn {index}") for index, raw in enumerate(raw_turns, start=1)
        )
        task = Task(
            name,
            str(item["group"]),
            turns,
            _patterns(item.get("must"), "must", where),
            _patterns(item.get("must_not"), "must_not", where),
        )
        if not task.must and not task.must_not and not any(t.must or t.must_not for t in turns):
            raise TaskFileError(f"{where}: nothing is checked (no `must` or `must_not`)")
        tasks.append(task)
    return tasks


def load_tasks(path: Path = TASKS_FILE) -> list[Task]:
    """Read and check the task file; TaskFileError for a missing, unreadable or wrong one."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TaskFileError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise TaskFileError(f"{path.name}: not valid YAML ({error})") from None
    return parse_tasks(document, path.name)


def select(tasks: Sequence[Task], groups: Iterable[str], names: Iterable[str]) -> list[Task]:
    """The tasks of these groups and with these names (no filter: all); TaskFileError names an
    unknown group or task."""
    groups, names = list(groups), list(names)
    if unknown := [g for g in groups if g not in GROUPS]:
        raise TaskFileError(f"unknown group {', '.join(unknown)}; the groups are "
                            f"{', '.join(GROUPS)}")  # fmt: skip
    known = {task.name for task in tasks}
    if unknown := [n for n in names if n not in known]:
        raise TaskFileError(f"no task named {', '.join(map(repr, unknown))}")
    if not groups and not names:
        return list(tasks)
    return [task for task in tasks if task.group in groups or task.name in names]


# --------------------------------------------------------------------------------------------
# Checking


def reply_lines(replies: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a shopper on a text channel sees: each reply's text and its buttons' titles
    (custom payloads are for the widget and are left out)."""
    lines: list[str] = []
    for reply in replies:
        if text := reply.get("text"):
            lines.append(str(text))
        buttons = reply.get("buttons")
        if isinstance(buttons, list):
            titles = [str(b.get("title", "")) for b in buttons if isinstance(b, Mapping)]
            if titles := [t for t in titles if t]:
                lines.append("[buttons: " + " | ".join(titles) + "]")
        if image := reply.get("image"):
            lines.append(f"[image {image}]")
    return lines


def check_turn(turn: TaskTurn, task: Task, lines: Sequence[str]) -> str | None:
    """Why the bot's replies to this turn fail it, or None when they pass."""
    text = "\n".join(lines)
    if not text.strip():
        return "the bot said nothing"
    missing = [p.source for p in turn.must if not p.found_in(text)]
    present = [p.source for p in (*turn.must_not, *task.must_not) if p.found_in(text)]
    problems = [f"missing {', '.join(map(repr, missing))}"] * bool(missing)
    problems += [f"must not say {', '.join(map(repr, present))}"] * bool(present)
    return "; ".join(problems) or None


def check_task_wide(task: Task, transcript: Sequence[TurnRecord]) -> str | None:
    """The task's own `must`: each somewhere in the whole conversation."""
    text = "\n".join(line for record in transcript for line in record["bot"])
    missing = [p.source for p in task.must if not p.found_in(text)]
    return f"never said {', '.join(map(repr, missing))}" if missing else None


Sender = Callable[[str, str], list[dict[str, Any]]]


def new_sender_id() -> str:
    return f"tasks-{secrets.token_hex(8)}"


def play_task(task: Task, send: Sender, sender_id: str | None = None) -> TaskResult:
    """Play the task's turns in one new conversation; stop at the first turn that fails."""
    sender_id = sender_id or new_sender_id()
    started = time.monotonic()
    transcript: list[TurnRecord] = []
    failed_turn: int | None = None
    why: str | None = None
    for number, turn in enumerate(task.turns, start=1):
        try:
            lines = reply_lines(send(sender_id, turn.say))
        except (urllib.error.URLError, OSError, ValueError) as error:
            transcript.append({"user": turn.say, "bot": []})
            reason = getattr(error, "reason", error)
            failed_turn, why = number, f"the stack did not answer: {reason}"
            break
        transcript.append({"user": turn.say, "bot": lines})
        if (why := check_turn(turn, task, lines)) is not None:
            failed_turn = number
            break
    if why is None:
        why = check_task_wide(task, transcript)
    return {
        "name": task.name,
        "group": task.group,
        "passed": why is None,
        "failed_turn": failed_turn,
        "why": why,
        "transcript": transcript,
        "duration_s": round(time.monotonic() - started, 2),
    }


# --------------------------------------------------------------------------------------------
# Summing up and writing


def _rate(passed: int, total: int) -> float:
    return round(passed / total, 3) if total else 0.0


def summarise(results: Sequence[TaskResult]) -> tuple[float, dict[str, GroupSummary]]:
    """The overall task success rate and each group's, groups in GROUPS order."""
    groups: dict[str, GroupSummary] = {}
    for group in GROUPS:
        mine = [r for r in results if r["group"] == group]
        if mine:
            passed = sum(r["passed"] for r in mine)
            groups[group] = {"tasks": len(mine), "passed": passed,
                             "task_success_rate": _rate(passed, len(mine))}  # fmt: skip
    return _rate(sum(r["passed"] for r in results), len(results)), groups


def report(
    results: Sequence[TaskResult], target: str, duration_s: float, notes: Sequence[str]
) -> dict[str, Any]:
    overall, groups = summarise(results)
    return {
        "benchmark": "end-to-end shopper tasks (issue 18)",
        "command": " ".join(["python -m benchmarks.tasks", *without_notes(sys.argv[1:])]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "target": target,
        "duration_s": round(duration_s, 1),
        "task_success_rate": overall,
        "groups": groups,
        "notes": list(notes),
        "tasks": list(results),
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def _excerpt(result: TaskResult) -> list[str]:
    transcript = result["transcript"]
    end = result["failed_turn"] or len(transcript)
    lines = []
    for record in transcript[max(0, end - TRANSCRIPT_EXCERPT_TURNS) : end]:
        lines.append(f"    shopper: {record['user']}")
        for reply in record["bot"] or ["(nothing)"]:
            lines.append("    bot:     " + reply.replace("\n", "\n             "))
    return lines


def markdown(result: Mapping[str, Any]) -> str:
    machine_info = result["machine"]
    lines = [
        "# End-to-end shopper tasks",
        "",
        f"`{result['command']}` — {result['date']}, against {result['target']}, "
        f"{result['duration_s']} s; machine: {machine_info.get('cpu')}, "
        f"{machine_info.get('cores')} cores, {machine_info.get('memory_gib')} GiB.",
        "",
        "Each task is a conversation of its own over the REST channel, read as a shopper's words "
        "(no tester token). A task passes when every turn's replies hold all its `must` "
        "patterns and none of its `must_not` (benchmarks/tasks.yml).",
        "",
        f"**Task success rate: {result['task_success_rate']:.3f}** "
        f"({sum(t['passed'] for t in result['tasks'])} of {len(result['tasks'])} tasks; "
        "aim ≥ 0.90)",
        "",
        "| group | tasks | passed | task success rate |",
        "|---|---:|---:|---:|",
    ]
    for group, row in result["groups"].items():
        lines.append(
            f"| {group} | {row['tasks']} | {row['passed']} | {row['task_success_rate']:.3f} |"
        )
    failed = [t for t in result["tasks"] if not t["passed"]]
    if failed:
        lines += ["", "## Failed tasks", ""]
        for task in failed:
            turn = f"turn {task['failed_turn']}" if task["failed_turn"] else "the whole task"
            lines += [f"- **{task['name']}** ({task['group']}), {turn}: {task['why']}", ""]
            lines += ["  ```", *_excerpt(task), "  ```", ""]
    lines += ["", "## Every task, by group (failed first)"]
    for group in result["groups"]:
        mine = [t for t in result["tasks"] if t["group"] == group]
        lines += ["", f"### {group}", "", "| task | result | turns | why |", "|---|---|---:|---|"]
        for task in sorted(mine, key=lambda t: t["passed"]):
            outcome = "pass" if task["passed"] else f"FAIL (turn {task['failed_turn'] or '–'})"
            lines.append(f"| {task['name']} | {outcome} | {len(task['transcript'])} | "
                         f"{_cell(task['why'] or '')} |")  # fmt: skip
    if result["notes"]:
        lines += ["", "## Notes", "", *[f"- {note}" for note in result["notes"]]]
    return "\n".join(lines).rstrip() + "\n"


def write_results(result: Mapping[str, Any], output: str, folder: Path = RESULTS) -> list[Path]:
    """`output` is a name under `folder`, or a path (with a folder) without extension."""
    stem = Path(output) if Path(output).parent != Path() else folder / output
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_name(f"{stem.name}.json"), stem.with_name(f"{stem.name}.md")
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(markdown(result), "utf-8")
    return [json_path, md_path]


# --------------------------------------------------------------------------------------------
# The command


class StackUnavailable(RuntimeError):
    """The stack could not be started or reached; nothing was played."""


@contextmanager
def live_stack(url: str | None) -> Iterator[tuple[Sender, str]]:
    """A shopper's `send` to the running Rasa at `url`, or to a fresh stack (launcher/stories/
    starts it as `python -m launcher stories` does, and stops it afterwards)."""
    # The launcher is imported here: --help and the unit tests need none of it.
    from launcher.chat import send
    from launcher.stack import StackError, http_ok
    from launcher.stories.play import RunnerError, target

    def sender_for(rasa_url: str) -> Sender:
        chat_url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"
        return lambda sender, text: send(chat_url, sender, text, timeout=SEND_TIMEOUT_S)

    if url:
        if not http_ok(f"{url.rstrip('/')}/webhooks/rest/"):
            raise StackUnavailable(f"Rasa's REST channel does not answer at {url}")
        yield sender_for(url), url.rstrip("/")
        return
    try:
        with target(None) as (client, _config):
            yield sender_for(client.url), "a fresh stack (temporary shop database and tracker)"
    except (RunnerError, StackError) as error:
        raise StackUnavailable(str(error)) from None


DESCRIPTION = """\
Play the end-to-end shopper tasks of benchmarks/tasks.yml against the live ShopDesk stack
and write the task success rate, per group and overall, to benchmarks/results/tasks.json
and tasks.md (failed tasks first, with the conversation up to where each went wrong).

Each task is a new conversation; its messages go over Rasa's REST channel as a shopper's do
(no tester token). Without --url a fresh stack is started as `python -m launcher stories`
starts it (free ports, a fresh SQLite shop and tracker, models trained if stale) and stopped
at the end. Run it alone on the machine: it starts four processes.

Exit status: 0 played (whatever the tasks' outcome), 2 bad task file or arguments or no
stack, 130 interrupted."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tasks",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GROUP",
        help=f"play only this group's tasks (repeatable); groups: {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="NAME",
        help="play only the task with this name (repeatable; adds to --only)",
    )
    parser.add_argument(
        "--url",
        help="play against this running Rasa (e.g. http://127.0.0.1:5005) instead of a fresh "
        "stack; tasks that change orders then need a freshly loaded shop database",
    )
    parser.add_argument(
        "--file", type=Path, default=TASKS_FILE, help="the task file (default: %(default)s)"
    )
    parser.add_argument(
        "--output",
        help=f"results name under benchmarks/results/ (or a path), without extension "
        f"(default: {DEFAULT_OUTPUT}, or {PARTIAL_OUTPUT} with --only/--task)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the tasks per group and exit (no stack)"
    )
    add_note_option(parser)
    return parser


def _display(path: Path) -> str:
    resolved = path.resolve()
    root = BENCHMARKS.parent
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def _fail(message: str) -> int:
    print(f"benchmarks.tasks: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _progress(index: int, total: int, result: TaskResult) -> None:
    width = len(str(total))
    head = f"[{index:>{width}}/{total}] {'PASS' if result['passed'] else 'FAIL'}  " \
           f"{result['group']:<16} {result['name']}"  # fmt: skip
    if result["passed"]:
        say(f"{head} ({len(result['transcript'])} turns, {result['duration_s']:.1f}s)")
    else:
        turn = f"turn {result['failed_turn']}" if result["failed_turn"] else "task"
        say(f"{head} — {turn}: {result['why']}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        tasks = select(load_tasks(args.file), args.only, args.task)
    except TaskFileError as error:
        return _fail(str(error))
    if args.list:
        for group in GROUPS:
            names = [t.name for t in tasks if t.group == group]
            if names:
                print(f"{group} ({len(names)}): {', '.join(names)}")
        return EXIT_DONE
    output = args.output or (PARTIAL_OUTPUT if args.only or args.task else DEFAULT_OUTPUT)
    say(f"{len(tasks)} tasks in {len({t.group for t in tasks})} groups from {args.file.name}")
    started = time.monotonic()
    results: list[TaskResult] = []
    try:
        with live_stack(args.url) as (send, target):
            say(f"==> playing {len(tasks)} tasks against {target}")
            for index, task in enumerate(tasks, start=1):
                results.append(play_task(task, send))
                _progress(index, len(tasks), results[-1])
    except StackUnavailable as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("\nstopped; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    result = report(results, target, time.monotonic() - started, args.note)
    paths = write_results(result, output)
    say(f"\ntask success rate {result['task_success_rate']:.3f} "
        f"({sum(r['passed'] for r in results)}/{len(results)})")  # fmt: skip
    for group, row in result["groups"].items():
        say(f"  {group:<16} {row['passed']:>2}/{row['tasks']:<2} {row['task_success_rate']:.3f}")
    say("wrote " + ", ".join(_display(path) for path in paths))
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
