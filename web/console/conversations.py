"""Working one conversation: read it, take it, reply, note, mark misread messages, hand it
back or close it. Every change is audited (web/audit.py); reading is audited too, once per
agent and conversation in READ_AUDIT_WINDOW_S."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

import web.console.misreadings as misreadings
from catalog import handoffs
from catalog.models import Agent, AuditEntry
from catalog.statuses import HandoffStatus
from core.clock import utc_now
from web import audit, handoff, notes
from web.console.bodies import CorrectionBody, NoteBody, ReplyBody
from web.console.deps import (
    ChangingAgent,
    ConsoleError,
    HubDep,
    JsonBody,
    SignedIn,
    SignedInAgent,
    agent_row,
)
from web.console.queue import queue_snapshot
from web.hub import Hub
from web.messages import conversation_messages
from web.summary import summarize


class AuditAction(StrEnum):
    """What this module's routes write to the audit log (web/audit.py)."""

    READ_TRANSCRIPT = "read_transcript"  # GET conversations/{id}
    TAKE = "take"
    REPLY = "reply"
    NOTE = "note"
    HAND_BACK = "hand_back"
    CLOSE = "close"


READ_TRANSCRIPT: Final = AuditAction.READ_TRANSCRIPT
READ_AUDIT_WINDOW_S: Final = 600.0
MAX_SEQ_DIGITS: Final = 9
CONVERSATION: Final = "/conversations/{conversation_id}"
HAND_BACK_NOTICE: Final = (
    "{name} has handed you back to the shop assistant. Is there anything else I can help you with?"
)
CLOSE_NOTICE: Final = (
    "{name} has closed this chat. Thank you for contacting us! If you write again, "
    "the shop assistant will answer. How did we do?"
)


def note_read(
    session: Session, agent: Agent, conversation_id: str, now: datetime | None = None
) -> None:
    """Audit that `agent` read the conversation's transcript (who read whose words).

    An open console reads the conversation again every few seconds; one row per agent and
    conversation within READ_AUDIT_WINDOW_S says who read what without burying the log."""
    now = now or utc_now()
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


async def tracker_events(hub: Hub, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's events as Rasa has them: the console numbers its messages from them."""
    return list((await hub.rasa.tracker(conversation_id)).get("events") or [])


router = APIRouter()


@router.get(CONVERSATION)
async def conversation(conversation_id: str, who: SignedInAgent, hub: HubDep) -> dict[str, Any]:
    tracker = await hub.rasa.tracker(conversation_id)
    events = list(tracker.get("events") or [])
    messages = conversation_messages(events, with_intents=True)
    markable = misreadings.markable(events)
    for message in messages:
        if message["sender"] == "user":  # typed, not a button: it may be marked misread
            message["markable"] = message["seq"] in markable

    def read(session: Session) -> dict[str, Any]:
        note_read(session, agent_row(session, who), conversation_id)
        current = handoffs.current(session, conversation_id)
        return {
            "conversation_id": conversation_id,
            "handoff": handoff.as_json(session, current) if current else None,
            "summary": summarize(session, tracker),
            "notes": notes.notes_for(session, conversation_id),
            "corrections": misreadings.corrections_for(session, conversation_id, messages),
        }

    answer = await hub.db(read)
    answer["messages"] = messages
    return answer


@router.post(CONVERSATION + "/take")
async def take(conversation_id: str, who: ChangingAgent, hub: HubDep) -> dict[str, Any]:
    def claim(session: Session) -> tuple[dict[str, Any], bool]:
        agent = agent_row(session, who)
        already = handoffs.owner_of(session, conversation_id) is not None
        taken = handoffs.take(session, conversation_id, agent)
        if not already:
            audit.record(session, AuditAction.TAKE, agent=agent, conversation_id=conversation_id)
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


@router.post(CONVERSATION + "/reply")
async def reply(
    conversation_id: str,
    who: ChangingAgent,
    body: Annotated[ReplyBody, Depends(JsonBody(ReplyBody))],
    hub: HubDep,
) -> dict[str, Any]:
    text = body.text

    def check(session: Session) -> None:
        agent = agent_row(session, who)
        handoffs.require_owner(session, conversation_id, agent)
        audit.record(
            session, AuditAction.REPLY, agent=agent, conversation_id=conversation_id,
            detail=f"{len(text)} characters",
        )  # fmt: skip

    await hub.db(check)
    message = await hub.agent_says(conversation_id, text, who.display_name, who.agent_id)
    return {"message": message}


@router.post(CONVERSATION + "/note")
async def note(
    conversation_id: str,
    who: ChangingAgent,
    body: Annotated[NoteBody, Depends(JsonBody(NoteBody))],
    hub: HubDep,
) -> dict[str, Any]:
    def add(session: Session) -> dict[str, Any]:
        agent = agent_row(session, who)
        notes.add_note(session, conversation_id, agent, body.text)
        audit.record(session, AuditAction.NOTE, agent=agent, conversation_id=conversation_id)
        return notes.notes_for(session, conversation_id)[-1]

    return {"note": await hub.db(add)}


@router.get("/intents")
async def intents(who: SignedInAgent) -> dict[str, Any]:
    return {"intents": misreadings.choosable_intents()}


@router.post(CONVERSATION + "/corrections")
async def mark_misread(
    conversation_id: str,
    who: ChangingAgent,
    body: Annotated[CorrectionBody, Depends(JsonBody(CorrectionBody))],
    hub: HubDep,
) -> dict[str, Any]:
    """Any agent may mark: whoever reads the transcript sees the misreading."""
    # the same events the console numbered its messages from: the text is the tracker's
    events = await tracker_events(hub, conversation_id)

    def store(session: Session) -> dict[str, Any]:
        agent = agent_row(session, who)
        return misreadings.mark(session, conversation_id, events, body.as_data(), agent)

    return {"correction": await hub.db(store)}


def message_number(seq: str) -> int:
    """The path's message number: only digits, at most MAX_SEQ_DIGITS of them (400)."""
    if not (seq.isascii() and seq.isdigit()) or len(seq) > MAX_SEQ_DIGITS:
        raise ConsoleError(400, "Say which message you mean: its number in the transcript.")
    return int(seq)


@router.delete(CONVERSATION + "/corrections/{seq}")
async def unmark_misread(
    conversation_id: str, seq: str, who: ChangingAgent, hub: HubDep
) -> dict[str, Any]:
    number = message_number(seq)
    events = await tracker_events(hub, conversation_id)

    def withdraw(session: Session) -> bool:
        agent = agent_row(session, who)
        return misreadings.unmark(session, conversation_id, events, number, agent)

    if not await hub.db(withdraw):
        raise ConsoleError(404, f"Message {seq} is not marked as misunderstood.")
    return {}


async def finish(
    hub: Hub, who: SignedIn, conversation_id: str, status: str, action: str, notice: str,
    buttons: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """End the agent's part: the handoff gets `status`, the bot resumes with `notice`."""

    def done_in(session: Session) -> dict[str, Any]:
        agent = agent_row(session, who)
        done = handoffs.finish(session, conversation_id, agent, status)
        audit.record(session, action, agent=agent, conversation_id=conversation_id)
        return handoff.as_json(session, done)

    done = await hub.db(done_in)
    await hub.resume_bot(
        conversation_id, notice.format(name=who.display_name), who.display_name,
        who.agent_id, handoff.rating_buttons() if buttons else None,
    )  # fmt: skip
    await hub.queue_changed(await queue_snapshot(hub))
    return {"handoff": done}


@router.post(CONVERSATION + "/hand_back")
async def hand_back(conversation_id: str, who: ChangingAgent, hub: HubDep) -> dict[str, Any]:
    return await finish(
        hub,
        who,
        conversation_id,
        HandoffStatus.HANDED_BACK,
        AuditAction.HAND_BACK,
        HAND_BACK_NOTICE,
    )


@router.post(CONVERSATION + "/close")
async def close(conversation_id: str, who: ChangingAgent, hub: HubDep) -> dict[str, Any]:
    return await finish(
        hub,
        who,
        conversation_id,
        HandoffStatus.CLOSED,
        AuditAction.CLOSE,
        CLOSE_NOTICE,
        buttons=True,
    )
