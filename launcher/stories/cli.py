"""`python -m launcher stories`: the command that reads the story files, plays them against
a fresh or running stack, prints each verdict and a summary, and writes the JSON report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from core.paths import PROJECT_ROOT
from launcher.stack import StackError
from launcher.stories.parse import Story, StoryFormatError, display, load_stories
from launcher.stories.play import RasaClient, RunnerError, StoryResult, play_story, target
from launcher.stories.rasa_test import report_rasa_test

DEFAULT_STORY_DIR: Final = PROJECT_ROOT / "bot" / "tests"

EXIT_PASSED: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130

TOKEN_HELP = (
    "not taken: a command line is visible to every user of the machine; give Rasa's HTTP "
    "API token for --url in SHOPDESK_RASA_TOKEN"
)


class _RefuseToken(argparse.Action):
    """`--token SECRET` is refused without repeating the secret in the error."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        parser.error(f"--token is {TOKEN_HELP}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="test-story YAML files or folders (default: every *.yml under bot/tests/)",
    )
    parser.add_argument(
        "--url",
        help="play against this already running Rasa (e.g. http://127.0.0.1:5005) instead of "
        "starting a fresh stack; it must run with --enable-api (the launcher starts it so)",
    )
    parser.add_argument(  # refused: others read a command line in `ps`
        "--token", nargs="?", action=_RefuseToken, default=argparse.SUPPRESS, help=TOKEN_HELP
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="also write every result as JSON to FILE"
    )
    parser.add_argument(
        "--story",
        action="append",
        default=[],
        metavar="NAME",
        help="play only the story with this name (repeatable)",
    )
    parser.add_argument(
        "--rasa-test",
        action="store_true",
        help="also run Rasa's own `rasa test core --e2e` on the same stories (model in "
        "models/rasa, classifier running; results in var/rasa-test/; see docs/testing.md for "
        "what it cannot check); its verdict does not change the exit status",
    )


DESCRIPTION = """\
Play Rasa 3 test stories (stories: / story: / steps: with user + intent, entities, action,
slot_was_set, active_loop, bot) against the live ShopDesk stack and compare, per user turn,
the intent and entities, the actions that ran (in order), the slots they set, loop changes
and the bot's replies. Each story gets a fresh conversation.

Without --url a fresh stack is started (free ports, an empty tracker and a freshly loaded
SQLite catalog, so stories that change orders are repeatable; models are trained if stale,
as `make run` does) and stopped at the end; its logs are in var/logs/stories/.

Exit status: 0 all stories passed, 1 a story failed, 2 bad input (unreadable YAML, unknown
step keys, no stories) or the stack could not be started or reached. See docs/testing.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m launcher stories",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command's entry point (`python -m launcher stories ...`); returns the exit status."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    if not args.paths and not DEFAULT_STORY_DIR.is_dir():
        return _fail(
            f"no story files given and {display(DEFAULT_STORY_DIR)}/ does not exist: pass "
            "story files or folders, or put them there (docs/testing.md)"
        )
    try:
        stories = load_stories(args.paths or [DEFAULT_STORY_DIR], args.story)
    except StoryFormatError as error:
        return _fail(str(error))
    print(f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'} from "
          f"{len({s.file for s in stories})} file(s)", flush=True)  # fmt: skip
    started_at = datetime.now(UTC)
    started = time.monotonic()
    try:
        with target(args.url) as (client, config):
            print(f"==> playing stories against {client.url}", flush=True)
            results = [_play_and_print(story, client) for story in stories]
            rasa_test = (
                report_rasa_test(stories, config, bool(args.story)) if args.rasa_test else None
            )
    except (RunnerError, StackError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    failed = [r for r in results if not r.passed]
    if failed:
        print("\nFailures:")
        for result in failed:
            print(_failure_details(result))
    passed = len(results) - len(failed)
    print(f"\nstories: {passed} passed, {len(failed)} failed, {len(results)} total", flush=True)
    if args.report:
        report = {
            "target": args.url.rstrip("/") if args.url else "fresh stack",
            "started_at": started_at.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - started, 2),
            "files": sorted({s.file for s in stories}),
            "summary": {"passed": passed, "failed": len(failed), "total": len(results)},
            "stories": [r.as_json() for r in results],
            "rasa_test": rasa_test,
        }
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"report: {args.report}")
    return EXIT_FAILED if failed else EXIT_PASSED


def _fail(message: str) -> int:
    print(f"shopdesk stories: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _play_and_print(story: Story, client: RasaClient) -> StoryResult:
    result = play_story(story, client)
    turns = len(result.turns)
    if result.failure is None:
        print(f"PASS  {story.name}  ({story.file}, {turns} turn{'s' * (turns != 1)}, "
              f"{result.duration_s:.1f}s)", flush=True)  # fmt: skip
    else:
        print(f"FAIL  {story.name}  ({story.file}) step {result.failure.step}: "
              f"{result.failure.message}", flush=True)  # fmt: skip
    return result


def _failure_details(result: StoryResult) -> str:
    failure = result.failure
    assert failure is not None
    lines = [
        f"- {result.story.name} ({result.story.file}), step {failure.step}, user: {failure.user!r}",
        f"    {failure.message}",
    ]
    lines += [f"    bot replied: {r!r}" for r in failure.replies] or ["    bot replied nothing"]
    lines.append(f"    conversation: {result.sender}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
