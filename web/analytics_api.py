"""The console's analytics for admins (docs/agent-console.md): the report as JSON and as CSV.

The report reads the shop database and Rasa's tracker store, seconds of work for a long range,
so it runs in a worker thread, never on the event loop that serves shoppers. Every CSV export
leaves an audit row (who took which table of which days out of the console). Sign-in and errors
are the console's (web/console): web/console.install puts these routes under its prefix.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from analytics.csv_export import CSV_TABLES, report_csv
from analytics.report import Report, load_report, parse_range
from catalog.models import Agent
from core.clock import local, utc_now
from web import audit
from web.console.deps import ConsoleError, HubDep, SignedIn, admin_only
from web.hub import Hub

PRIVATE: Final = {"Cache-Control": "no-store"}  # shoppers' searches: never in a shared cache
EXPORT_CSV: Final = "export_csv"  # the audit action of GET analytics.csv
STORE_DOWN: Final = "The conversation store is not answering; please try again shortly."
DEFAULT_TABLE: Final = "days"

Admin = Annotated[SignedIn, admin_only("see the analytics")]
# the range's ends as the agent typed them; parse_range says what is wrong with them (400)
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]

router = APIRouter()


async def report(hub: Hub, start_text: str | None, end_text: str | None) -> Report:
    start, end = parse_range(start_text, end_text, local(utc_now()).date())

    def build(session: Session) -> Report:
        return load_report(hub.transcripts.engine, session, start, end)

    try:
        return await hub.db(build)
    except SQLAlchemyError:
        raise ConsoleError(503, STORE_DOWN) from None


@router.get("/analytics")
async def analytics(who: Admin, hub: HubDep, start: From = None, end: To = None) -> Response:
    return JSONResponse((await report(hub, start, end)).as_json(), headers=PRIVATE)


@router.get("/analytics.csv")
async def analytics_csv(
    who: Admin, hub: HubDep, start: From = None, end: To = None, table: str | None = None
) -> Response:
    table = table or DEFAULT_TABLE
    if table not in CSV_TABLES:
        raise ConsoleError(
            400,
            f"There is no table {table[:40]!r} to export; choose one of: {', '.join(CSV_TABLES)}.",
        )
    made = await report(hub, start, end)
    summary = made.as_json()
    name = f"shopdesk-{table}-{_day(summary['from'])}-{_day(summary['to'])}.csv"

    def note_export(session: Session) -> None:
        agent = session.get(Agent, who.agent_id)
        audit.record(session, EXPORT_CSV, agent=agent, detail=name)

    try:
        await hub.db(note_export)  # no export without its audit row
    except SQLAlchemyError:
        raise ConsoleError(503, STORE_DOWN) from None
    return Response(
        report_csv(made, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **PRIVATE},
    )


def _day(value: object) -> str:
    """A range end for a file name: only an ISO date, whatever else the report held."""
    return date.fromisoformat(str(value)).isoformat()
