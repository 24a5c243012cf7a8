"""A terminal chat with the running assistant over the REST channel."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def send(
    chat_url: str,
    sender: str,
    text: str,
    timeout: float = 30.0,
    tester_token: str | None = None,
) -> list[dict[str, Any]]:
    """One shopper turn; the bot's replies as Rasa's REST channel returns them.

    `tester_token` (Rasa's API token) marks a tester's message: the channel then lets Rasa's
    "/intent{...}" syntax through as it is, as `rasa test` does; a shopper's is read as words.
    """
    payload: dict[str, Any] = {"sender": sender, "message": text}
    headers = {"Content-Type": "application/json"}
    if tester_token:
        payload["metadata"] = {"raw_intents": True}
        headers["Authorization"] = f"Bearer {tester_token}"
    request = urllib.request.Request(
        chat_url, data=json.dumps(payload).encode("utf-8"), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        replies: list[dict[str, Any]] = json.loads(response.read().decode("utf-8"))
    return replies


def repl(chat_url: str) -> None:
    sender = f"terminal-{uuid.uuid4().hex[:12]}"
    health_url = chat_url.rsplit("/", 1)[0] + "/"
    try:
        urllib.request.urlopen(health_url, timeout=5).close()
    except (urllib.error.URLError, OSError):
        print(f"The assistant is not running at {health_url}: start it with `make run`.")
        return
    print("Type a message for the Luma shop assistant (Ctrl-D or Ctrl-C to stop).")
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            print()
            return
        if not text:
            continue
        try:
            replies = send(chat_url, sender, text)
        except (urllib.error.URLError, OSError) as error:
            print(f"(the assistant is not reachable: {error})")
            continue
        for reply in replies:
            if "text" in reply:
                print("bot>", reply["text"].replace("\n", "\n     "))
