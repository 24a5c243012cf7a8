"""Signing in and out of the console: `POST login`, `POST logout`, `GET me`.

Sign-in takes only a small `application/json` body, which no cross-site form can send (login
CSRF), and is throttled per name and address and per account (auth.sign_in_failures). The
password check runs on its own bounded pool (auth.PasswordPool), never on the one shoppers'
work runs on. Each sign-in and sign-out goes to the audit log.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from catalog.db import session_scope
from web import audit, auth, proxies
from web.console.bodies import LoginBody
from web.console.deps import (
    COOKIE,
    ConsoleError,
    HubDep,
    JsonBody,
    SettingsDep,
    SignedIn,
    SignedInAgent,
    agent_row,
    csrf_checked,
    is_json,
    signed_in,
)
from web.console.errors import error
from web.limits import SlidingWindow

LOGIN_FAILURES_ALLOWED: Final = 5  # per username and address, in LOGIN_WINDOW_S
LOGIN_WINDOW_S: Final = 300.0
# Per account from any address, in ACCOUNT_WINDOW_S: a password spray from many addresses.
# Generous, since anyone may lock an account this way; an admin sees it in the audit view.
ACCOUNT_FAILURES_ALLOWED: Final = 20
ACCOUNT_WINDOW_S: Final = 900.0
# A username and a password of auth.MAX_PASSWORD_CHARS characters at 4 UTF-8 bytes each, with
# JSON's quoting, fit; a megabyte of "password" is refused before it is read.
MAX_LOGIN_BODY_BYTES: Final = 8 * 1024
SIGN_IN_BUSY_RETRY_S: Final = 5
TOO_MANY_SIGN_INS: Final = "Too many failed sign-ins. Please wait a few minutes and try again."
WRONG_PASSWORD: Final = "That username and password do not match an active agent account."


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


@dataclass
class SignIns:
    """One app's sign-in defences: its throttle and its password pool (on `app.state`)."""

    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    passwords: auth.PasswordPool = field(default_factory=auth.PasswordPool)


def sign_ins_of(request: Request) -> SignIns:
    sign_ins: SignIns = request.app.state.sign_ins
    return sign_ins


def json_only(request: Request) -> None:
    """415 for a body that is not declared JSON, before it is read (login CSRF)."""
    if not is_json(request):
        raise ConsoleError(415, "Please sign in from the console page (the request must be JSON).")


def too_many(retry_after_s: float) -> ConsoleError:
    return ConsoleError(429, TOO_MANY_SIGN_INS, {"Retry-After": str(int(retry_after_s))})


def check_password(
    database_url: str, username: str, password: str, address: str
) -> tuple[str, SignedIn] | None:
    """The check itself, on the password pool: a session, or a failure on record."""
    with session_scope(database_url) as session:
        agent = auth.authenticate(session, username, password)
        if agent is None:
            auth.record_sign_in_failure(session, username, address)
            return None
        token, agent_session = auth.start_session(session, agent)
        audit.record(session, "login", agent=agent)
        return token, SignedIn.of(agent, agent_session.csrf_token)


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


class WhoAmI(BaseModel):
    """Who is signed in, and the session's CSRF token for the changes (kept in memory only)."""

    agent: AgentOut
    csrf_token: str


def who_am_i(who: SignedIn) -> WhoAmI:
    return WhoAmI(agent=AgentOut(**who.as_json()), csrf_token=who.csrf_token)


router = APIRouter()


@router.post("/login", dependencies=[Depends(json_only)])
async def login(
    request: Request,
    response: Response,
    body: Annotated[LoginBody, Depends(JsonBody(LoginBody, MAX_LOGIN_BODY_BYTES))],
    hub: HubDep,
    settings: SettingsDep,
    sign_ins: Annotated[SignIns, Depends(sign_ins_of)],
) -> WhoAmI:
    username, password, throttle = body.username, body.password, sign_ins.throttle
    address = proxies.client_address(request.scope)
    key, account = f"{username.casefold()}|{address}", auth.normalise_username(username)
    if throttle.blocked(key):
        raise too_many(LOGIN_WINDOW_S)
    with throttle.checking(key, account):
        recorded = await hub.db(
            lambda session: auth.recent_sign_in_failures(session, username, ACCOUNT_WINDOW_S)
        )
        if throttle.account_locked(account, recorded):
            raise too_many(ACCOUNT_WINDOW_S)
        try:
            result = await sign_ins.passwords.run(
                lambda: check_password(hub.database_url, username, password, address)
            )
        except auth.SignInBusy:
            raise ConsoleError(
                503,
                "Signing in is busy right now. Please try again in a moment.",
                {"Retry-After": str(SIGN_IN_BUSY_RETRY_S)},
            ) from None
        if result is None:
            throttle.failed(key)
            raise ConsoleError(401, WRONG_PASSWORD)
    throttle.succeeded(key)
    token, who = result
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
    return who_am_i(who)


@router.post("/logout")
async def logout(request: Request, hub: HubDep, settings: SettingsDep) -> Response:
    """Ends the session and its console sockets. The cookie goes whatever the answer, so the
    checks run here rather than as dependencies (whose refusal would keep it)."""
    try:
        who = await csrf_checked(request, await signed_in(request, hub, settings))
        token = request.cookies.get(COOKIE, "")

        def end(session: Session) -> None:
            auth.end_session(session, token)
            audit.record(session, "logout", agent=agent_row(session, who))

        await hub.db(end)
        # its console sockets go now: a signed-out tab must not keep the live feed
        await hub.feed.end_session(auth.token_id(token))
        response: Response = JSONResponse({})
    except ConsoleError as problem:
        response = error(problem.status, problem.message, problem.headers)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me")
async def me(who: SignedInAgent) -> WhoAmI:
    return who_am_i(who)
