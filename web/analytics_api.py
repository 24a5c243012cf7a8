"""The console's analytics for admins (docs/agent-console.md): the report as JSON and as CSV.

The report reads the shop database and Rasa's tracker store, seconds of work for a long range,
so it runs in a worker thread, never on the event loop that serves shoppers. Every CSV export
leaves an audit row (who took which table of which days out of the console).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from analytics.csv_export import CSV_TABLES, report_csv
from analytics.report import Report, load_report, parse_range
from catalog.models import Agent
from catalog.support import local_now
from web import audit
from web.console_api import ConsoleError, SignedIn, error, signed_in_agent
from web.hub import Hub
from web.settings import WebSettings

PRIVATE = {"Cache-Control": "no-store"}  # shoppers' searches: never in a shared cache
EXPORT_CSV = "export_csv"  # the audit action of GET analytics.csv


def analytics_router(hub: Hub, settings: WebSettings) -> APIRouter:
    router = APIRouter(prefix="/agent/api")

    async def admin(request: Request) -> SignedIn:
        who = await signed_in_agent(hub, settings, request, changes=False)
        if who.role != "admin":
            raise ConsoleError(403, "Only an admin can see the analytics.")
        return who

    async def report(request: Request) -> Report:
        start, end = parse_range(
            request.query_params.get("from"), request.query_params.get("to"), local_now().date()
        )

        def build(session: Session) -> Report:
            return load_report(hub.transcripts.engine, session, start, end)

        return await hub.db(build)

    async def answer(request: Request, work: Callable[[SignedIn], Awaitable[Response]]) -> Response:
        try:
            return await work(await admin(request))
        except ConsoleError as problem:
            return error(problem.status, problem.message)
        except ValueError as problem:  # parse_range's sentence about the dates
            return error(400, str(problem))
        except SQLAlchemyError:
            return error(503, "The conversation store is not answering; please try again shortly.")

    @router.get("/analytics")
    async def analytics(request: Request) -> Response:
        async def work(who: SignedIn) -> Response:
            return JSONResponse((await report(request)).as_json(), headers=PRIVATE)

        return await answer(request, work)

    @router.get("/analytics.csv")
    async def analytics_csv(request: Request) -> Response:
        async def work(who: SignedIn) -> Response:
            table = request.query_params.get("table") or "days"
            if table not in CSV_TABLES:
                raise ValueError(
                    f"There is no table {table[:40]!r} to export; choose one of: "
                    f"{', '.join(CSV_TABLES)}."
                )
            made = await report(request)
            summary = made.as_json()
            name = f"shopdesk-{table}-{_day(summary['from'])}-{_day(summary['to'])}.csv"

            def note_export(session: Session) -> None:
                agent = session.get(Agent, who.agent_id)
                audit.record(session, EXPORT_CSV, agent=agent, detail=name)

            await hub.db(note_export)  # no export without its audit row
            return Response(
                report_csv(made, table),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"', **PRIVATE},
            )

        return await answer(request, work)

    return router


def _day(value: object) -> str:
    """A range end for a file name: only an ISO date, whatever else the report held."""
    return date.fromisoformat(str(value)).isoformat()
