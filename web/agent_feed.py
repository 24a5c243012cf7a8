"""The agent console's live feed: which socket is whose, and whether it may still be sent to.

The cookie is checked when a console socket connects, but a socket outlives that moment: its
agent signs out, an admin disables the account with `python -m web agents disable` (another
process, which only changes the database), or the session expires while the tab stays open.
So the feed remembers each socket's session (its SHA-256 id, never the token) and agent, reads
the sessions again from the shop database before it sends anything and on every sweep of the
web server (web/app.py, each second), and disconnects a socket whose session has ended.

What goes where (docs/web.md): every signed-in agent gets the queue; a conversation's messages
go only to the sockets of the agent who holds it (web/hub.py). Reading any other transcript is
a REST request, which checks the session and is audited (web/console/).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import socketio
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog.models import Agent, AgentSession
from core.clock import utc_now
from web.auth import unexpired

log = logging.getLogger(__name__)
T = TypeVar("T")

AGENT_NAMESPACE = "/agent"
# SQLite allows 999 bound parameters in one query; far more sockets than one shop's agents.
CHECK_CHUNK = 500


@dataclass(frozen=True)
class AgentSocket:
    """What the feed keeps of a console socket: whose it is and which sign-in opened it."""

    agent_id: int
    session_id: str  # AgentSession.id: the token's SHA-256


def live_sessions(
    session: Session,
    session_ids: Collection[str],
    ttl_s: float,
    max_age_s: float,
    now: datetime,
) -> set[str]:
    """Those of `session_ids` still signed in: the session exists (not signed out), its agent
    is active (not disabled), it was seen within `ttl_s` and began within `max_age_s` (not
    expired): web/auth.py's `unexpired`, the rule `agent_for_token` applies.

    Only reads: an open socket must not keep a session alive; the console's own requests do.
    """
    ids = list(session_ids)
    live: set[str] = set()
    for start in range(0, len(ids), CHECK_CHUNK):
        live.update(
            session.scalars(
                select(AgentSession.id)
                .join(Agent, Agent.id == AgentSession.agent_id)
                .where(
                    AgentSession.id.in_(ids[start : start + CHECK_CHUNK]),
                    Agent.active.is_(True),
                    unexpired(ttl_s, max_age_s, now),
                )
            )
        )
    return live


class AgentFeed:
    """The console sockets of this web process, each checked against its session before use."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        db: Callable[[Callable[[Session], Any]], Awaitable[Any]],
        session_ttl_s: float,
        session_max_age_s: float,
    ) -> None:
        self.sio = sio
        self.db = db
        self.session_ttl_s = session_ttl_s
        self.session_max_age_s = session_max_age_s
        self.sockets: dict[str, AgentSocket] = {}

    def join(self, sid: str, agent_id: int, session_id: str) -> None:
        """A socket whose cookie was just checked (web/app.py `agent_connect`)."""
        self.sockets[sid] = AgentSocket(agent_id, session_id)

    def leave(self, sid: str) -> None:
        self.sockets.pop(sid, None)

    async def verified(self, sids: Iterable[str]) -> list[str]:
        """Those of `sids` whose session is still live; the others are disconnected.

        If the database cannot be read, none: nothing is sent that could not be checked,
        and nobody is thrown out over a database hiccup (the next sweep decides)."""
        wanted = {sid: self.sockets[sid] for sid in sids if sid in self.sockets}
        if not wanted:
            return []
        session_ids = {s.session_id for s in wanted.values()}
        ttl_s, max_age_s = self.session_ttl_s, self.session_max_age_s

        def check(session: Session) -> set[str]:
            return live_sessions(session, session_ids, ttl_s, max_age_s, utc_now())

        try:
            live = await self.db(check)
        except SQLAlchemyError as error:
            log.warning("could not check the console sockets' sessions: %s", type(error).__name__)
            return []
        ended = [sid for sid, s in wanted.items() if s.session_id not in live]
        await self.drop(ended)
        return [sid for sid in wanted if sid not in ended]

    async def drop(self, sids: Iterable[str]) -> None:
        """Disconnect these sockets (their session ended); the console then signs in again."""
        for sid in list(sids):
            self.leave(sid)
            await self.sio.disconnect(sid, namespace=AGENT_NAMESPACE)

    async def end_session(self, session_id: str) -> None:
        """Sign-out: this session's sockets go at once, not at the next sweep."""
        await self.drop(sid for sid, s in self.sockets.items() if s.session_id == session_id)

    async def recheck(self) -> None:
        """Every socket's session, again (the sweep): a disabled account or an expired
        session loses its feed within a sweep even when nothing is being sent."""
        await self.verified(list(self.sockets))

    async def to_agent(self, agent_id: int, event: str, items: Iterable[Any]) -> None:
        """`event` once per item, to the live sockets of this agent only."""
        sids = await self.verified(sid for sid, s in self.sockets.items() if s.agent_id == agent_id)
        await self._emit(sids, event, list(items))

    async def to_everyone(self, event: str, data: Any) -> None:
        """`event` to every live console socket (the queue summary)."""
        await self._emit(await self.verified(list(self.sockets)), event, [data])

    async def _emit(self, sids: list[str], event: str, items: list[Any]) -> None:
        for item in items:
            for sid in sids:
                await self.sio.emit(event, item, to=sid, namespace=AGENT_NAMESPACE)
