"""The agent console's JSON API (docs/web.md): sign-in, the queue, and working a conversation.

Sessions are random tokens in an HttpOnly, SameSite=Strict cookie, stored hashed; every POST
also needs the session's CSRF token in a header. Each agent action goes to the audit log.
Sign-in takes only a small `application/json` body, which no cross-site form can send (login
CSRF), and is throttled per name and address and per account (auth.sign_in_failures).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.db import session_scope
from catalog.models import Agent, AuditEntry
from catalog.support import local_now
from web import audit, auth, corrections, handoff, notes, proxies
from web.hub import PREVIEW_CHARS, Hub
from web.limits import SlidingWindow
from web.messages import conversation_messages
from web.rasa_client import RasaUnavailable
from web.settings import WebSettings
from web.summary import summarize

COOKIE = "shopdesk_agent"
CSRF_HEADER = "X-CSRF-Token"
MAX_REPLY_CHARS = 2000
LOGIN_FAILURES_ALLOWED = 5  # per username and address, in LOGIN_WINDOW_S
LOGIN_WINDOW_S = 300.0
# Per account from any address, in ACCOUNT_WINDOW_S: a password spray from many addresses.
# Generous, since anyone may lock an account this way; an admin sees it in the audit view.
ACCOUNT_FAILURES_ALLOWED = 20
ACCOUNT_WINDOW_S = 900.0
# A username and a password of auth.MAX_PASSWORD_CHARS characters at 4 UTF-8 bytes each, with
# JSON's quoting, fit; a megabyte of "password" is refused before it is read.
MAX_LOGIN_BODY_BYTES = 8 * 1024
# Every other console request: a reply of MAX_REPLY_CHARS, even fully \u-escaped, fits.
MAX_BODY_BYTES = 64 * 1024
JSON_TYPE = "application/json"
SIGN_IN_BUSY_RETRY_S = 5
TOO_MANY_SIGN_INS = "Too many failed sign-ins. Please wait a few minutes and try again."


@dataclass(frozen=True)
class SignedIn:
    agent_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.agent_id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }


class ConsoleError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class LoginThrottle:
    """Refuses sign-in for a while after repeated failures, against password guessing.

    Two rules: per username and address (`key`, "name|address", counted here), and per
    account from any address (counted in the database by auth, so it outlives a restart).
    Attempts still being checked count as failures until they are known, so guesses sent all
    at once get no further than guesses sent one after another.
    """

    def __init__(self) -> None:
        self._failures = SlidingWindow(LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_S)
        self._pending_keys: Counter[str] = Counter()
        self._pending_accounts: Counter[str] = Counter()

    def blocked(self, key: str) -> bool:
        return self._failures.count(key) + self._pending_keys[key] >= LOGIN_FAILURES_ALLOWED

    def account_locked(self, account: str, recorded: int) -> bool:
        """Whether `account`, with `recorded` failures in ACCOUNT_WINDOW_S, takes no more
        attempts; called within `checking`, whose own attempt is not held against it."""
        others = self._pending_accounts[account] - 1
        return recorded + max(others, 0) >= ACCOUNT_FAILURES_ALLOWED

    @contextlib.contextmanager
    def checking(self, key: str, account: str) -> Iterator[None]:
        """One attempt on its way: counted against both rules until it is settled."""
        self._pending_keys[key] += 1
        self._pending_accounts[account] += 1
        try:
            yield
        finally:
            for pending, name in ((self._pending_keys, key), (self._pending_accounts, account)):
                pending[name] -= 1
                if pending[name] <= 0:
                    del pending[name]

    def failed(self, key: str) -> None:
        self._failures.add(key)

    def succeeded(self, key: str) -> None:
        self._failures.clear(key)


def is_json(request: Request) -> bool:
    """Whether the body is declared `application/json` (a charset parameter is fine).

    A cross-site HTML form can only send form or text/plain bodies, and a script on another
    site cannot send JSON without a preflight this server never grants."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0]
    return media_type.strip().lower() == JSON_TYPE


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object, read no further than `limit` bytes: a declared length over
    it is refused unread, a streamed body as soon as it passes it. ConsoleError otherwise."""
    too_large = ConsoleError(
        413, f"That request is too large for the console (at most {limit // 1024} KiB)."
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise too_large
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond parsing
        raise ConsoleError(400, "The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise ConsoleError(400, "The request body must be a JSON object.")
    return data


async def queue_snapshot(hub: Hub) -> dict[str, Any]:
    """The open handoffs, oldest first, each with the shopper's last message as a preview."""

    def read(session: Session) -> dict[str, Any]:
        return {
            "conversations": [handoff.as_json(session, h) for h in handoff.open_handoffs(session)]
        }

    queue = await hub.db(read)
    for entry in queue["conversations"]:
        conversation_id = entry["conversation_id"]
        if conversation_id not in hub.previews:  # not seen since this server started
            with contextlib.suppress(RasaUnavailable):
                shopper = [m for m in await hub.messages(conversation_id) if m["sender"] == "user"]
                hub.previews[conversation_id] = (
                    shopper[-1]["text"][:PREVIEW_CHARS] if shopper else ""
                )
        entry["preview"] = hub.previews.get(conversation_id, "")
    return queue


READ_TRANSCRIPT = "read_transcript"  # the audit action of GET conversations/{id}
READ_AUDIT_WINDOW_S = 600.0


def note_read(
    session: Session, agent: Agent, conversation_id: str, now: datetime | None = None
) -> None:
    """Audit that `agent` read the conversation's transcript (who read whose words).

    An open console reads the conversation again every few seconds; one row per agent and
    conversation within READ_AUDIT_WINDOW_S says who read what without burying the log."""
    now = now or local_now()
    recently = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.at > now - timedelta(seconds=READ_AUDIT_WINDOW_S),
            AuditEntry.action == READ_TRANSCRIPT,
            AuditEntry.agent_id == agent.id,
            AuditEntry.conversation_id == conversation_id[:64],
        )
        .limit(1)
    )
    if recently is None:
        audit.record(
            session, READ_TRANSCRIPT, agent=agent, conversation_id=conversation_id, now=now
        )


async def signed_in_agent(
    hub: Hub, settings: WebSettings, request: Request, changes: bool
) -> SignedIn:
    """The agent of the request's session cookie; ConsoleError (401, or 403 for a change
    without the session's CSRF token) otherwise. Shared by every console router."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ConsoleError(401, "Please sign in.")

    def lookup(session: Session) -> SignedIn | None:
        found = auth.agent_for_token(
            session, token, settings.agent_session_ttl_s, local_now(),
            settings.agent_session_max_age_s,
        )  # fmt: skip
        if found is None:
            return None
        agent, agent_session = found
        return SignedIn(
            agent.id, agent.username, agent.display_name, agent.role, agent_session.csrf_token
        )

    who = await hub.db(lookup)
    if who is None:
        raise ConsoleError(401, "Your session has expired, please sign in again.")
    if changes and not auth.csrf_ok(who, request.headers.get(CSRF_HEADER)):
        raise ConsoleError(403, "This request did not come from the console (CSRF check).")
    return who


def console_router(hub: Hub, settings: WebSettings) -> APIRouter:
    router = APIRouter(prefix="/agent/api")
    throttle = LoginThrottle()
    passwords = auth.PasswordPool()  # scrypt off the pool that shoppers' work runs on

    async def signed_in(request: Request, changes: bool) -> SignedIn:
        return await signed_in_agent(hub, settings, request, changes)

    async def act(request: Request, changes: bool, work: Any) -> JSONResponse:
        try:
            who = await signed_in(request, changes)
            return JSONResponse(await work(who))
        except ConsoleError as problem:
            return error(problem.status, problem.message)
        except handoff.HandoffError as problem:
            return error(problem.status, str(problem))
        except ValueError as problem:
            return error(400, str(problem))
        except RasaUnavailable:
            return error(503, "The assistant (Rasa) is not answering; please try again shortly.")

    async def body(request: Request) -> dict[str, Any]:
        return await read_json(request)

    def agent_row(session: Session, who: SignedIn) -> Agent:
        agent = session.get(Agent, who.agent_id)
        if agent is None:
            raise ConsoleError(401, "Your account no longer exists.")
        return agent

    def sign_in(username: str, password: str, address: str) -> tuple[str, SignedIn] | None:
        """The check itself, on the password pool: a session, or a failure on record."""
        with session_scope(hub.database_url) as session:
            agent = auth.authenticate(session, username, password)
            if agent is None:
                auth.record_sign_in_failure(session, username, address)
                return None
            token, agent_session = auth.start_session(session, agent)
            audit.record(session, "login", agent=agent)
            return token, SignedIn(
                agent.id, agent.username, agent.display_name, agent.role, agent_session.csrf_token
            )

    def too_many(retry_after_s: float) -> JSONResponse:
        response = error(429, TOO_MANY_SIGN_INS)
        response.headers["Retry-After"] = str(int(retry_after_s))
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        if not is_json(request):
            return error(415, "Please sign in from the console page (the request must be JSON).")
        try:
            data = await read_json(request, MAX_LOGIN_BODY_BYTES)
        except ConsoleError as problem:
            return error(problem.status, problem.message)
        username = str(data.get("username") or "").strip()[:64]
        password = str(data.get("password") or "")
        address = proxies.client_address(request.scope)
        key, account = f"{username.casefold()}|{address}", auth.normalise_username(username)
        if throttle.blocked(key):
            return too_many(LOGIN_WINDOW_S)
        with throttle.checking(key, account):
            recorded = await hub.db(
                lambda session: auth.recent_sign_in_failures(session, username, ACCOUNT_WINDOW_S)
            )
            if throttle.account_locked(account, recorded):
                return too_many(ACCOUNT_WINDOW_S)
            try:
                result = await passwords.run(lambda: sign_in(username, password, address))
            except auth.SignInBusy:
                busy = error(503, "Signing in is busy right now. Please try again in a moment.")
                busy.headers["Retry-After"] = str(SIGN_IN_BUSY_RETRY_S)
                return busy
            if result is None:
                throttle.failed(key)
                return error(
                    401, "That username and password do not match an active agent account."
                )
        throttle.succeeded(key)
        token, who = result
        response = JSONResponse({"agent": who.as_json(), "csrf_token": who.csrf_token})
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/",  # the console's socket.io handshake (/socket.io/) needs it too
            max_age=int(settings.agent_session_max_age_s),  # the server ends it then at the latest
            # over TLS, directly or behind a trusted proxy (web/proxies.py): never sent in clear
            secure=proxies.is_https(request.scope),
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            token = request.cookies.get(COOKIE, "")

            def end(session: Session) -> None:
                auth.end_session(session, token)
                audit.record(session, "logout", agent=agent_row(session, who))

            await hub.db(end)
            # its console sockets go now: a signed-out tab must not keep the live feed
            await hub.feed.end_session(auth.token_id(token))
            return {}

        response = await act(request, True, work)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/me")
    async def me(request: Request) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            return {"agent": who.as_json(), "csrf_token": who.csrf_token}

        return await act(request, False, work)

    @router.get("/queue")
    async def queue(request: Request) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            return await queue_snapshot(hub)

        return await act(request, False, work)

    @router.get("/conversations/{conversation_id}")
    async def conversation(request: Request, conversation_id: str) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            tracker = await hub.rasa.tracker(conversation_id)
            events = list(tracker.get("events") or [])
            messages = conversation_messages(events, with_intents=True)
            markable = corrections.markable(events)
            for message in messages:
                if message["sender"] == "user":  # typed, not a button: it may be marked misread
                    message["markable"] = message["seq"] in markable

            def read(session: Session) -> dict[str, Any]:
                note_read(session, agent_row(session, who), conversation_id)
                current = handoff.current(session, conversation_id)
                return {
                    "conversation_id": conversation_id,
                    "handoff": handoff.as_json(session, current) if current else None,
                    "summary": summarize(session, tracker),
                    "notes": notes.notes_for(session, conversation_id),
                    "corrections": corrections.corrections_for(session, conversation_id, messages),
                }

            answer = await hub.db(read)
            answer["messages"] = messages
            return answer

        return await act(request, False, work)

    @router.post("/conversations/{conversation_id}/take")
    async def take(request: Request, conversation_id: str) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            def claim(session: Session) -> tuple[dict[str, Any], bool]:
                agent = agent_row(session, who)
                already = handoff.owner_of(session, conversation_id) is not None
                taken = handoff.take(session, conversation_id, agent)
                if not already:
                    audit.record(session, "take", agent=agent, conversation_id=conversation_id)
                return handoff.as_json(session, taken), not already

            taken, is_new = await hub.db(claim)
            if is_new:
                await hub.agent_says(
                    conversation_id,
                    f"Hi, I'm {who.display_name} from the support team. I'm reading our chat now.",
                    who.display_name,
                    who.agent_id,
                )
                await hub.queue_changed(await queue_snapshot(hub))
            return {"handoff": taken}

        return await act(request, True, work)

    @router.post("/conversations/{conversation_id}/reply")
    async def reply(request: Request, conversation_id: str) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            text = str((await body(request)).get("text") or "").strip()
            if not text:
                raise ValueError("Type a message first.")
            if len(text) > MAX_REPLY_CHARS:
                raise ValueError(f"A message can have at most {MAX_REPLY_CHARS} characters.")

            def check(session: Session) -> None:
                agent = agent_row(session, who)
                handoff.require_owner(session, conversation_id, agent)
                audit.record(
                    session, "reply", agent=agent, conversation_id=conversation_id,
                    detail=f"{len(text)} characters",
                )  # fmt: skip

            await hub.db(check)
            message = await hub.agent_says(conversation_id, text, who.display_name, who.agent_id)
            return {"message": message}

        return await act(request, True, work)

    @router.post("/conversations/{conversation_id}/note")
    async def note(request: Request, conversation_id: str) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            text = str((await body(request)).get("text") or "")

            def add(session: Session) -> dict[str, Any]:
                agent = agent_row(session, who)
                notes.add_note(session, conversation_id, agent, text)
                audit.record(session, "note", agent=agent, conversation_id=conversation_id)
                return notes.notes_for(session, conversation_id)[-1]

            return {"note": await hub.db(add)}

        return await act(request, True, work)

    @router.get("/intents")
    async def intents(request: Request) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            return {"intents": corrections.choosable_intents()}

        return await act(request, False, work)

    @router.post("/conversations/{conversation_id}/corrections")
    async def mark_misread(request: Request, conversation_id: str) -> Response:
        """Any agent may mark: whoever reads the transcript sees the misreading."""

        async def work(who: SignedIn) -> dict[str, Any]:
            data = await body(request)
            # the same events the console numbered its messages from: the text is the tracker's
            events = list((await hub.rasa.tracker(conversation_id)).get("events") or [])

            def store(session: Session) -> dict[str, Any]:
                agent = agent_row(session, who)
                return corrections.mark(session, conversation_id, events, data, agent)

            return {"correction": await hub.db(store)}

        return await act(request, True, work)

    @router.delete("/conversations/{conversation_id}/corrections/{seq}")
    async def unmark_misread(request: Request, conversation_id: str, seq: str) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            if not (seq.isascii() and seq.isdigit()) or len(seq) > 9:
                raise ValueError("Say which message you mean: its number in the transcript.")
            events = list((await hub.rasa.tracker(conversation_id)).get("events") or [])

            def withdraw(session: Session) -> bool:
                agent = agent_row(session, who)
                return corrections.unmark(session, conversation_id, events, int(seq), agent)

            if not await hub.db(withdraw):
                raise ConsoleError(404, f"Message {seq} is not marked as misunderstood.")
            return {}

        return await act(request, True, work)

    def finishing(status: str, action: str, notice: str, buttons: bool = False) -> Any:
        async def endpoint(request: Request, conversation_id: str) -> Response:
            async def work(who: SignedIn) -> dict[str, Any]:
                def finish(session: Session) -> dict[str, Any]:
                    agent = agent_row(session, who)
                    done = handoff.finish(session, conversation_id, agent, status)
                    audit.record(session, action, agent=agent, conversation_id=conversation_id)
                    return handoff.as_json(session, done)

                done = await hub.db(finish)
                await hub.resume_bot(
                    conversation_id, notice.format(name=who.display_name), who.display_name,
                    who.agent_id, handoff.rating_buttons() if buttons else None,
                )  # fmt: skip
                await hub.queue_changed(await queue_snapshot(hub))
                return {"handoff": done}

            return await act(request, True, work)

        return endpoint

    router.add_api_route(
        "/conversations/{conversation_id}/hand_back",
        finishing(
            "handed_back",
            "hand_back",
            "{name} has handed you back to the shop assistant. Is there anything else I can "
            "help you with?",
        ),
        methods=["POST"],
    )
    router.add_api_route(
        "/conversations/{conversation_id}/close",
        finishing(
            "closed",
            "close",
            "{name} has closed this chat. Thank you for contacting us! If you write again, "
            "the shop assistant will answer. How did we do?",
            buttons=True,
        ),
        methods=["POST"],
    )

    @router.get("/audit")
    async def audit_log(request: Request) -> Response:
        async def work(who: SignedIn) -> dict[str, Any]:
            if who.role != "admin":
                raise ConsoleError(403, "Only an admin can read the audit log.")
            return {
                "entries": await hub.db(lambda session: audit.recent(session, 200)),
                # failed sign-ins have their own table; the admin sees how many, not each one
                "sign_in_failures": await hub.db(auth.sign_in_failure_summary),
            }

        return await act(request, False, work)

    return router
