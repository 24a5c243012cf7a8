"""Agent accounts in the console, for admins: `GET agents`, `POST agents` (a new account and
its invitation link), `POST agents/{id}/disable|enable|password-link`; and, for the agent who
was given a link, `POST password-link/check` and `POST password-link` (no session: the link's
token is the proof) with the page they are sent from, `/agent/set-password`.

The admin routes are CSRF-checked like every console change and refused to non-admins (403).
The link routes take only a small `application/json` body, like sign-in, so no cross-site form
can post one, and the password is hashed on the sign-in pool (auth.PasswordPool), so a flood
of link attempts costs the shoppers' work nothing. The rules and the audit entries are
web/password_links.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, field_validator
from sqlalchemy.orm import Session

from catalog.db import session_scope
from catalog.models import AGENT_ROLES
from web import auth, password_links
from web.console.bodies import as_text
from web.console.deps import (
    ChangingAgent,
    ConsoleError,
    HubDep,
    JsonBody,
    SignedIn,
    admin_only,
    agent_row,
    is_json,
)
from web.console.sign_in import MAX_LOGIN_BODY_BYTES, SIGN_IN_BUSY_RETRY_S, SignIns, sign_ins_of
from web.password_links import LinkRefused

MANAGE: Final = "manage agent accounts"
LINK_PAGE: Final = "set-password.html"
LINK_GONE: Final = 410  # the link existed or may have: it cannot be used any more
# An agent's number in a path: a positive 64-bit row id; anything larger is refused (422)
# before it reaches the database driver, which cannot bind it.
AgentId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"


class NewAgentBody(BaseModel):
    """An account to add; its password is chosen by the agent through the link."""

    username: str = ""
    display_name: str = ""
    role: str = "agent"

    @field_validator("username", "display_name", "role", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return as_text(value)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in AGENT_ROLES:
            raise ValueError("The role must be agent or admin.")
        return value


class LinkBody(BaseModel):
    token: str = ""

    @field_validator("token", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return as_text(value)


class NewPasswordBody(LinkBody):
    password: str = ""

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> Any:
        return as_text(value)


async def changing_admin(who: ChangingAgent) -> SignedIn:
    """An admin's change: signed in, CSRF-checked, then the role (403)."""
    if not who.is_admin:
        raise ConsoleError(403, f"Only an admin can {MANAGE}.")
    return who


ReadingAdmin = Annotated[SignedIn, admin_only(MANAGE)]
ChangingAdmin = Annotated[SignedIn, Depends(changing_admin)]


def json_only(request: Request) -> None:
    """415 for a body not declared JSON, before it is read (no cross-site form can post)."""
    if not is_json(request):
        raise ConsoleError(415, "Please use the link's page (the request must be JSON).")


def _refusals(work: Any) -> Any:
    """`work(session)` with this module's refusals as console answers."""

    def unit(session: Session) -> Any:
        try:
            return work(session)
        except LookupError as missing:
            raise ConsoleError(404, str(missing)) from None
        except LinkRefused as refused:
            raise ConsoleError(LINK_GONE, str(refused)) from None

    return unit


router = APIRouter()
pages = APIRouter()


@pages.get(password_links.SET_PASSWORD_PATH, include_in_schema=False)
async def set_password_page() -> Response:
    """The link's page; its script reads the token from the fragment (never sent here)."""
    return FileResponse(STATIC_DIR / LINK_PAGE)


@router.get("/agents")
async def list_agents(who: ReadingAdmin, hub: HubDep) -> dict[str, Any]:
    return {"agents": await hub.db(password_links.agent_list), "you": who.agent_id}


@router.post("/agents", status_code=201)
async def add_agent(
    who: ChangingAdmin,
    hub: HubDep,
    body: Annotated[NewAgentBody, Depends(JsonBody(NewAgentBody))],
) -> dict[str, Any]:
    def add(session: Session) -> dict[str, Any]:
        agent, link = password_links.add_agent(
            session, body.username, body.display_name, body.role, agent_row(session, who)
        )
        return {"agent": password_links.as_json(agent), "link": link.as_json()}

    return await hub.db(_refusals(add))


@router.post("/agents/{agent_id}/password-link")
async def reset_password(who: ChangingAdmin, hub: HubDep, agent_id: AgentId) -> dict[str, Any]:
    def reset(session: Session) -> dict[str, Any]:
        agent, link = password_links.reset_link(session, agent_id, agent_row(session, who))
        return {"agent": password_links.as_json(agent), "link": link.as_json()}

    return await hub.db(_refusals(reset))


async def _set_active(who: SignedIn, hub: Any, agent_id: int, active: bool) -> dict[str, Any]:
    def change(session: Session) -> dict[str, Any]:
        agent = password_links.set_active(session, agent_id, active, agent_row(session, who))
        return {"agent": password_links.as_json(agent)}

    answer: dict[str, Any] = await hub.db(_refusals(change))
    if not active:
        await hub.feed.recheck()  # its open consoles lose the live feed now, not at the sweep
    return answer


@router.post("/agents/{agent_id}/disable")
async def disable(who: ChangingAdmin, hub: HubDep, agent_id: AgentId) -> dict[str, Any]:
    return await _set_active(who, hub, agent_id, False)


@router.post("/agents/{agent_id}/enable")
async def enable(who: ChangingAdmin, hub: HubDep, agent_id: AgentId) -> dict[str, Any]:
    return await _set_active(who, hub, agent_id, True)


@router.post("/password-link/check", dependencies=[Depends(json_only)])
async def check_link(
    hub: HubDep,
    body: Annotated[LinkBody, Depends(JsonBody(LinkBody, MAX_LOGIN_BODY_BYTES))],
) -> dict[str, Any]:
    """Whose link it is and why, before the agent types a password (410 if it is no use)."""
    return await hub.db(
        _refusals(lambda session: password_links.describe_link(session, body.token))
    )


@router.post("/password-link", dependencies=[Depends(json_only)])
async def use_link(
    hub: HubDep,
    body: Annotated[NewPasswordBody, Depends(JsonBody(NewPasswordBody, MAX_LOGIN_BODY_BYTES))],
    sign_ins: Annotated[SignIns, Depends(sign_ins_of)],
) -> dict[str, Any]:
    """Set the password and use the link up; the page then sends the agent to sign in."""
    token, password = body.token, body.password
    auth.check_password(password)  # a 400 before any hashing or look-up

    def redeem() -> dict[str, Any]:
        with session_scope(hub.database_url) as session:
            agent = _refusals(lambda s: password_links.redeem(s, token, password))(session)
            return {"username": agent.username}

    try:
        answer: dict[str, Any] = await sign_ins.passwords.run(redeem)
    except auth.SignInBusy:
        raise ConsoleError(
            503,
            "Setting passwords is busy right now. Please try again in a moment.",
            {"Retry-After": str(SIGN_IN_BUSY_RETRY_S)},
        ) from None
    return answer
