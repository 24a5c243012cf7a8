"""The agent console's JSON API (docs/web.md): sign-in, the queue, and working a conversation.

Sessions are random tokens in an HttpOnly, SameSite=Strict cookie, stored hashed; every POST
also needs the session's CSRF token in a header. Each agent action goes to the audit log.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Agent
from catalog.support import local_now
from web import audit, auth, corrections, handoff, notes
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
    """Refuses sign-in for a while after repeated failures, against password guessing."""

    def __init__(self) -> None:
        self._failures = SlidingWindow(LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW_S)

    def blocked(self, key: str) -> bool:
        return self._failures.count(key) >= LOGIN_FAILURES_ALLOWED

    def failed(self, key: str) -> None:
        self._failures.add(key)

    def succeeded(self, key: str) -> None:
        self._failures.clear(key)


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


async def signed_in_agent(
    hub: Hub, settings: WebSettings, request: Request, changes: bool
) -> SignedIn:
    """The agent of the request's session cookie; ConsoleError (401, or 403 for a change
    without the session's CSRF token) otherwise. Shared by every console router."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ConsoleError(401, "Please sign in.")

    def lookup(session: Session) -> SignedIn | None:
        found = auth.agent_for_token(session, token, settings.agent_session_ttl_s, local_now())
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
        try:
            data = await request.json()
        except ValueError:
            raise ConsoleError(400, "The request body must be JSON.") from None
        if not isinstance(data, dict):
            raise ConsoleError(400, "The request body must be a JSON object.")
        return data

    def agent_row(session: Session, who: SignedIn) -> Agent:
        agent = session.get(Agent, who.agent_id)
        if agent is None:
            raise ConsoleError(401, "Your account no longer exists.")
        return agent

    @router.post("/login")
    async def login(request: Request) -> Response:
        try:
            data = await body(request)
        except ConsoleError as problem:
            return error(problem.status, problem.message)
        username = str(data.get("username") or "").strip()[:64]
        password = str(data.get("password") or "")
        key = f"{username.casefold()}|{request.client.host if request.client else ''}"
        if throttle.blocked(key):
            return error(429, "Too many failed sign-ins. Please wait a few minutes and try again.")

        def check(session: Session) -> tuple[str, SignedIn] | None:
            agent = auth.authenticate(session, username, password)
            if agent is None:
                # never the typed name: people type their password there by mistake
                known = session.scalar(
                    select(Agent).where(Agent.username == auth.normalise_username(username))
                )
                audit.record(
                    session, "login_failed", agent=known,
                    detail="wrong password" if known else "unknown username",
                )  # fmt: skip
                return None
            token, agent_session = auth.start_session(session, agent)
            audit.record(session, "login", agent=agent)
            return token, SignedIn(
                agent.id, agent.username, agent.display_name, agent.role, agent_session.csrf_token
            )

        result = await hub.db(check)
        if result is None:
            throttle.failed(key)
            return error(401, "That username and password do not match an active agent account.")
        throttle.succeeded(key)
        token, who = result
        response = JSONResponse({"agent": who.as_json(), "csrf_token": who.csrf_token})
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/",  # the console's socket.io handshake (/socket.io/) needs it too
            max_age=int(settings.agent_session_ttl_s),
            secure=request.url.scheme == "https",
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
            return {"entries": await hub.db(lambda session: audit.recent(session, 200))}

        return await act(request, False, work)

    return router
