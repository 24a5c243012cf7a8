"""What every console route depends on: the hub and settings, the signed-in agent, the CSRF
check, and JSON bodies read within a limit and checked by a Pydantic model.

Sessions are random tokens in an HttpOnly, SameSite=Strict cookie, stored hashed; every change
also needs the session's CSRF token in a header. A route names what it needs as parameters
(`who: SignedInAgent` to read, `who: ChangingAgent` to change, then
`body: Annotated[Model, Depends(JsonBody(Model))]`) and FastAPI resolves them in that order,
so sign-in and CSRF are checked before a body is read.

Bodies are read by a dependency rather than as FastAPI body parameters because FastAPI reads
a declared body in full before any dependency runs: a megabyte of "password" could not be
refused unread, and a malformed body would be answered before the sign-in check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final, Generic, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from catalog.models import Agent
from core.clock import utc_now
from web import auth
from web.hub import Hub
from web.settings import WebSettings

API_PREFIX: Final = "/agent/api"
COOKIE: Final = "shopdesk_agent"
CSRF_HEADER: Final = "X-CSRF-Token"
JSON_TYPE: Final = "application/json"
# Every console request but sign-in: a reply of MAX_REPLY_CHARS, even fully \u-escaped, fits.
MAX_BODY_BYTES: Final = 64 * 1024

Model = TypeVar("Model", bound=BaseModel)


class Role(StrEnum):
    """An agent account's role (web/auth.py): admins also read the audit log and analytics."""

    AGENT = "agent"
    ADMIN = "admin"


class ConsoleError(Exception):
    """A refusal the console shows the agent: `{"error": message}` with `status` (errors.py)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class SignedIn:
    """The agent behind a request's session cookie, as the session found them."""

    agent_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    @classmethod
    def of(cls, agent: Agent, csrf_token: str) -> SignedIn:
        return cls(agent.id, agent.username, agent.display_name, agent.role, csrf_token)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.agent_id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
        }


def hub_of(request: Request) -> Hub:
    """The app's hub (web/app.py puts it on `app.state`)."""
    hub: Hub = request.app.state.hub
    return hub


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


HubDep = Annotated[Hub, Depends(hub_of)]
SettingsDep = Annotated[WebSettings, Depends(settings_of)]


async def signed_in(request: Request, hub: HubDep, settings: SettingsDep) -> SignedIn:
    """The agent of the request's session cookie; ConsoleError 401 otherwise. Also used by
    the console's other routers (analytics)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise ConsoleError(401, "Please sign in.")

    def lookup(session: Session) -> SignedIn | None:
        found = auth.agent_for_token(
            session, token, settings.agent_session_ttl_s, utc_now(),
            settings.agent_session_max_age_s,
        )  # fmt: skip
        if found is None:
            return None
        agent, agent_session = found
        return SignedIn.of(agent, agent_session.csrf_token)

    who = await hub.db(lookup)
    if who is None:
        raise ConsoleError(401, "Your session has expired, please sign in again.")
    return who


async def csrf_checked(request: Request, who: Annotated[SignedIn, Depends(signed_in)]) -> SignedIn:
    """The signed-in agent of a change, which must carry the session's CSRF token (403)."""
    if not auth.csrf_ok(who, request.headers.get(CSRF_HEADER)):
        raise ConsoleError(403, "This request did not come from the console (CSRF check).")
    return who


SignedInAgent = Annotated[SignedIn, Depends(signed_in)]  # a route that reads
ChangingAgent = Annotated[SignedIn, Depends(csrf_checked)]  # a route that changes something


def admin_only(what: str) -> Any:
    """A dependency: the signed-in agent, who must be an admin (403 names `what`)."""

    async def admin(who: SignedInAgent) -> SignedIn:
        if not who.is_admin:
            raise ConsoleError(403, f"Only an admin can {what}.")
        return who

    return Depends(admin)


def agent_row(session: Session, who: SignedIn) -> Agent:
    """The signed-in agent's row, for audit entries and ownership."""
    agent = session.get(Agent, who.agent_id)
    if agent is None:
        raise ConsoleError(401, "Your account no longer exists.")
    return agent


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


def first_problem(error: ValidationError) -> str:
    """The sentence of a body's first problem: a model's own validators speak to the agent;
    anything else names the field."""
    problem = error.errors(include_url=False)[0]
    if problem["type"] == "value_error":
        return str(problem["ctx"]["error"])
    field = ".".join(str(part) for part in problem["loc"]) or "the body"
    return f"The request's {field} is not right: {problem['msg']}."


class JsonBody(Generic[Model]):
    """A dependency: the request's JSON body, at most `limit` bytes, as a `model`; a body that
    is no JSON object or does not fit the model is a polite 400 (413 when too large)."""

    def __init__(self, model: type[Model], limit: int = MAX_BODY_BYTES) -> None:
        self.model = model
        self.limit = limit

    async def __call__(self, request: Request) -> Model:
        data = await read_json(request, self.limit)
        try:
            return self.model.model_validate(data)
        except ValidationError as error:
            raise ConsoleError(400, first_problem(error)) from None
