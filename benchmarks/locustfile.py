"""Simulated shoppers for `python -m benchmarks.load` (run it through that command: it starts
the stack, checks that the host is a loopback address and reads the file written here).

Each simulated shopper plays one conversation script at a time, chosen by weight from
CONVERSATIONS, with a fresh sender id per conversation, over Rasa's REST channel. Between
messages (and between conversations) it waits SHOPDESK_LOAD_THINK_S seconds (default 0: a
closed loop, the next message goes out as soon as the reply is in). A reply that is an HTTP
error, not a JSON list, or an empty list is a failure.

Every message's latency is recorded exactly (milliseconds, not Locust's rounded buckets) and
written when Locust quits to the JSON file named by SHOPDESK_LOAD_LATENCIES.

CONVERSATIONS is a plain literal: benchmarks/load.py and the tests read it with
`ast.literal_eval` so that they need not import Locust (which monkey-patches the standard
library with gevent on import).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import gevent.event
import socketio
from locust import HttpUser, User, constant, events, task
from locust.env import Environment

from web.rasa_client import instance_order

CHAT_PATH = "/webhooks/rest/webhook"
# Every Rasa instance (comma-separated; the scaled setup has several): each conversation goes
# to one of them as the web server would send it (web/rasa_client.py). Unset: Locust's --host.
INSTANCES_ENV = "SHOPDESK_LOAD_RASA_URLS"
INSTANCES = [u.strip().rstrip("/") for u in os.environ.get(INSTANCES_ENV, "").split(",") if u]
# `rasa`: messages go to Rasa's REST channel; `web`: through the web server's socket.io channel,
# as the chat widget sends them (the web server then calls Rasa and reads the transcript back).
VIA_ENV = "SHOPDESK_LOAD_VIA"
VIA = os.environ.get(VIA_ENV, "rasa")
# The polite answers when the classifier or the action server did not answer in time (the
# domain's utter_classifier_unavailable and utter_catalog_unavailable, the channel's NO_REPLY_TEXT):
# under overload they are failures, not replies.
DEGRADED = (
    "Sorry, I'm having trouble understanding messages right now.",
    "Sorry, I can't answer that right now because part of our system is not responding.",
    "Sorry, I can't reach our shop's records right now.",
)
THINK_ENV = "SHOPDESK_LOAD_THINK_S"
LATENCIES_ENV = "SHOPDESK_LOAD_LATENCIES"
REQUEST_TIMEOUT_S = 60.0

# name: (weight, messages). Texts from the conversation tests in bot/tests/*.yml; the order
# numbers and e-mail addresses are pairs of the demo order book. Nothing here changes an order
# (the return stops at the item list), so every conversation behaves the same on every round.
CONVERSATIONS = {
    "search hoodie": (
        3,
        ["hi", "do you have a black hoodie?", "under $50", "show me the second one"],
    ),
    "search shorts": (
        1,
        ["running shorts for women", "in blue instead", "tell me about the first one"],
    ),
    "order status": (
        2,
        ["where is my order?", "it's 000000101", "james.nguyen@example.net"],
    ),
    "order status, number first": (
        1,
        ["can you track order 000000103 for me", "my email is michael.brooks@example.com"],
    ),
    "return": (
        1,
        [
            "I want to return an item",
            "000000102",
            "sophia.martinez@example.org",
            "what is your refund policy?",
        ],
    ),
    "delivery and payment": (
        2,
        [
            "hello",
            "what shipping options do you have?",
            "how long will delivery take",
            "which payment methods do you accept?",
            "thanks",
        ],
    ),
}


def think_time_s() -> float:
    value = os.environ.get(THINK_ENV, "0").strip() or "0"
    seconds = float(value)
    if not 0 <= seconds <= 3600:
        raise ValueError(f"{THINK_ENV} must be between 0 and 3600 seconds, not {value!r}")
    return seconds


def reply_problem(status: int, body: bytes) -> str | None:
    """Why a REST-channel answer is not a reply (None: it is one)."""
    if status == 0:
        return "no HTTP response (connection failed or timed out)"
    if not 200 <= status < 300:
        return f"HTTP {status}"
    try:
        replies = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(replies, list):
        return "not a list"
    if not replies:
        return "empty reply"
    texts = [r.get("text") or "" for r in replies if isinstance(r, dict)]
    if any(text.startswith(DEGRADED) for text in texts):
        return "an apology: part of the stack did not answer in time"
    return None


# What this process measured, written at quit: when the test started (epoch s), each message
# as (end epoch s, latency ms, ok, message text), the failures by kind, conversations begun.
STARTED: dict[str, float] = {}
REQUESTS: list[tuple[float, float, bool, str]] = []
ERRORS: Counter[str] = Counter()
BEGUN: Counter[str] = Counter()


def _started(environment: Environment, **kwargs: Any) -> None:
    STARTED.setdefault("test_start", time.time())


def _request(
    name: str,
    response_time: float,
    exception: BaseException | None,
    context: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    text = str((context or {}).get("message", name))
    REQUESTS.append((time.time(), float(response_time), exception is None, text))
    if exception is not None:
        ERRORS[str(exception)[:200]] += 1


def _write(environment: Environment, **kwargs: Any) -> None:
    target = os.environ.get(LATENCIES_ENV)
    if not target:
        return
    data = {
        "test_start": STARTED.get("test_start"),
        "think_time_s": think_time_s(),
        "requests": REQUESTS,
        "errors": dict(ERRORS),
        "conversations": dict(BEGUN),
    }
    Path(target).write_text(json.dumps(data))


for hook, listener in (
    (events.test_start, _started),
    (events.request, _request),
    (events.quitting, _write),
):
    hook.add_listener(listener)  # type: ignore[no-untyped-call]  # Locust's hooks are untyped


def pick_conversation() -> tuple[str, list[str]]:
    names = list(CONVERSATIONS)
    [name] = random.choices(names, weights=[CONVERSATIONS[n][0] for n in names])
    BEGUN[name] += 1
    return name, CONVERSATIONS[name][1]


class Shopper(HttpUser):
    """A shopper on Rasa's REST channel (the path every message takes)."""

    abstract = VIA != "rasa"
    wait_time = constant(think_time_s())

    @task
    def conversation(self) -> None:
        name, messages = pick_conversation()
        sender = f"load-{uuid.uuid4().hex}"
        base = INSTANCES[instance_order(sender, len(INSTANCES))[0]] if INSTANCES else ""
        for number, text in enumerate(messages):
            if number:
                # The think time; when the run is stopping, the conversation ends here.
                self.wait()  # type: ignore[no-untyped-call]
            with self.client.post(
                base + CHAT_PATH,
                json={"sender": sender, "message": text},
                name=name,
                context={"message": text},
                catch_response=True,
                timeout=REQUEST_TIMEOUT_S,
            ) as response:
                problem = reply_problem(response.status_code, response.content or b"")
                if problem is None:
                    response.success()
                else:
                    response.failure(f"{problem} to {text!r}")


class WidgetShopper(User):
    """A shopper in the chat widget: socket.io to the web server, a reply complete when the
    server turns the typing indicator off. Each has an address of its own (X-Forwarded-For,
    which the web server trusts from 127.0.0.1 as from a local proxy), as real shoppers do, so
    the per-address limits apply per shopper."""

    abstract = VIA != "web"
    wait_time = constant(think_time_s())

    @task
    def conversation(self) -> None:
        name, messages = pick_conversation()
        address = ".".join(str(random.randint(1, 254)) for _ in range(4))
        client = socketio.Client(reconnection=False)
        done = gevent.event.Event()
        replies: list[str] = []
        notices: list[str] = []

        def bot_uttered(message: dict[str, Any]) -> None:
            if message.get("sender") == "user":  # the shopper's own message, echoed to tabs
                return
            if message.get("transient"):  # a notice (too fast, Rasa down): no typing events
                notices.append(str(message.get("text") or ""))
                done.set()
            else:
                replies.append(str(message.get("text") or ""))

        client.on("bot_uttered", bot_uttered)
        client.on("typing", lambda state: None if state.get("on") else done.set())
        confirmed = gevent.event.Event()
        client.on("session_confirm", lambda _: confirmed.set())
        try:
            client.connect(
                self.host,
                transports=["websocket"],
                headers={"X-Forwarded-For": address},
                auth={"client": "shopdesk-widget"},
                wait_timeout=REQUEST_TIMEOUT_S,
            )
            client.emit("session_request", {})
            if not confirmed.wait(REQUEST_TIMEOUT_S):
                raise TimeoutError("no session_confirm")
            for number, text in enumerate(messages):
                if number:
                    self.wait()  # type: ignore[no-untyped-call]
                done.clear()
                replies.clear()
                notices.clear()
                started = time.perf_counter()
                client.emit("user_uttered", {"message": text})
                answered = done.wait(REQUEST_TIMEOUT_S)
                elapsed_ms = (time.perf_counter() - started) * 1000
                problem = None if answered else "no reply in time"
                if notices:
                    problem = f"a notice instead of a reply: {notices[0][:60]!r}"
                elif answered and not any(replies):
                    problem = "empty reply"
                elif any(r.startswith(DEGRADED) for r in replies):
                    problem = "an apology: part of the stack did not answer in time"
                events.request.fire(  # type: ignore[no-untyped-call]
                    request_type="socket.io",
                    name=name,
                    response_time=elapsed_ms,
                    response_length=sum(map(len, replies)),
                    exception=RuntimeError(f"{problem} to {text!r}") if problem else None,
                    context={"message": text},
                )
        except (socketio.exceptions.SocketIOError, TimeoutError) as error:
            events.request.fire(  # type: ignore[no-untyped-call]
                request_type="socket.io",
                name=name,
                response_time=0.0,
                response_length=0,
                exception=RuntimeError(f"no connection: {type(error).__name__}"),
                context={"message": "(connecting)"},
            )
        finally:
            client.disconnect()
