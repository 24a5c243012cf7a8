"""Playing stories: each under a fresh sender id, message by message, against one Rasa.

`RasaClient` speaks Rasa's REST channel (as a tester, so "/intent{...}" messages pass) and its
HTTP API (the tracker after each message); `target` is that Rasa: a running one (`--url`) or
a fresh stack of its own, started and stopped around the stories.
"""

from __future__ import annotations

import json
import secrets
import signal
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

from core.paths import PROJECT_ROOT
from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.stack import Stack, StackConfig, missing_environments, prepare, stack_settings
from launcher.stories.compare import (
    JSON,
    Divergence,
    compare_turn,
    observe_turn,
    turn_events,
)
from launcher.stories.parse import Story, display

# A fresh stack's logs (read at call time: the end-to-end tests point it elsewhere).
STORY_LOG_DIR = PROJECT_ROOT / "var" / "logs" / "stories"


class RunnerError(RuntimeError):
    """The stack cannot be reached or started; nothing could be tested."""


class RasaClient:
    """The REST channel and the HTTP API (tracker, status) of one Rasa server."""

    def __init__(self, url: str, token: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    @property
    def chat_url(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def _api(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        params = urllib.parse.urlencode({**(query or {}), "token": self.token})
        request = urllib.request.Request(f"{self.url}{path}?{params}", method="GET")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return json.loads(response.read().decode("utf-8"))

    def check(self) -> None:
        """RunnerError unless Rasa answers, serves its HTTP API and accepts the token."""
        try:
            self._api("/status")
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise RunnerError(
                    f"Rasa at {self.url} refused the API token ({mask(self.token)}): pass the "
                    "token it was started with in SHOPDESK_RASA_TOKEN"
                ) from None
            if error.code == 404:
                raise RunnerError(
                    f"Rasa at {self.url} does not serve its HTTP API: start it with "
                    "--enable-api and a token (the launcher does)"
                ) from None
            raise RunnerError(f"Rasa at {self.url} answered {error.code} to /status") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise RunnerError(f"cannot reach Rasa at {self.url}: {reason}") from None

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        return send(self.chat_url, sender, text, timeout=self.timeout_s, tester_token=self.token)

    def events(self, sender: str) -> list[dict[str, Any]]:
        tracker = self._api(
            f"/conversations/{urllib.parse.quote(sender, safe='')}/tracker",
            {"include_events": "ALL"},
        )
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return [e for e in events or [] if isinstance(e, dict)]


def mask(token: str) -> str:
    return f"{token[:3]}…" if len(token) > 6 else "…"


def reply_texts(replies: Sequence[Mapping[str, Any]]) -> list[str]:
    """The REST channel's replies as lines: texts, and a tag for anything else."""
    shown = []
    for reply in replies:
        if reply.get("text"):
            shown.append(str(reply["text"]))
        elif isinstance(reply.get("custom"), Mapping):
            shown.append(f"[custom payload {reply['custom'].get('type', '')}]".replace(" ]", "]"))
        elif reply.get("image"):
            shown.append(f"[image {reply['image']}]")
        else:
            shown.append(f"[{', '.join(k for k in reply if k != 'recipient_id')}]")
    return shown


@dataclass
class StoryResult:
    story: Story
    sender: str
    turns: list[JSON]
    failure: Divergence | None
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.failure is None

    def as_json(self) -> JSON:
        return {
            "story": self.story.name,
            "file": self.story.file,
            "status": "PASS" if self.passed else "FAIL",
            "sender": self.sender,
            "duration_s": round(self.duration_s, 3),
            "turns": self.turns,
            "failure": self.failure.as_json() if self.failure else None,
        }


def play_story(story: Story, client: RasaClient) -> StoryResult:
    """Send the story's user messages under a fresh sender id; stop at the first divergence."""
    sender = f"story-{secrets.token_hex(8)}"
    started = time.monotonic()
    turns: list[JSON] = []
    seen = 0
    failure: Divergence | None = None
    for turn in story.turns():
        text = turn.user.text or ""
        try:
            replies = reply_texts(client.send(sender, text))
            all_events = client.events(sender)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            failure = Divergence(
                turn.user.number, "error", f"the stack did not answer: {reason}", text
            )
            break
        events = turn_events(all_events[seen:])
        seen = len(all_events)
        turns.append({"step": turn.user.number, **observe_turn(events, replies)})
        failure = compare_turn(turn, events, replies)
        if failure is not None:
            break
    return StoryResult(story, sender, turns, failure, time.monotonic() - started)


@contextmanager
def target(url: str | None) -> Iterator[tuple[RasaClient, StackConfig]]:
    """A client for the Rasa at `url` (--url), or for a fresh stack that is stopped
    afterwards (the config: for --rasa-test, which needs that stack's classifier)."""
    if url:
        given = stack_settings()
        token = given.rasa_token
        if not token:
            raise RunnerError(
                "--url needs Rasa's API token in SHOPDESK_RASA_TOKEN (start the stack with "
                "SHOPDESK_RASA_TOKEN set to choose it)"
            )
        client = RasaClient(url, token)
        client.check()
        # For --rasa-test: the classifier of that stack (SHOPDESK_NLU_URL, else the port).
        config = StackConfig.from_env()
        if nlu_url := given.nlu_url:
            config = replace(config, extra_env={**config.extra_env, "SHOPDESK_NLU_URL": nlu_url})
        yield client, config
        return
    with tempfile.TemporaryDirectory(prefix="shopdesk-stories-") as work:
        config = fresh_config(Path(work), STORY_LOG_DIR)
        if missing := missing_environments(config):
            raise RunnerError("missing " + ", ".join(missing))
        for name in ("classifier", "actions", "rasa", "web"):
            (config.log_dir / f"{name}.log").unlink(missing_ok=True)
        stack = Stack(config)
        previous = _stop_on_sigterm()
        try:
            prepare(config)
            ready = stack.start()
            print(f"==> stack up ({', '.join(f'{n} {s:.1f}s' for n, s in ready.items())}); "
                  f"logs in {display(config.log_dir)}", flush=True)  # fmt: skip
            client = RasaClient(config.rasa_url, config.rasa_token)
            client.check()
            yield client, config
        finally:
            stack.stop()
            _restore_sigterm(previous)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """SIGTERM stops the stack like Ctrl-C (only the main thread may set handlers)."""
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
