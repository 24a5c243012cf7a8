"""`GET /newsletter/confirm?token=…`: the link e-mailed for a newsletter change the chat could
not verify (catalog/newsletter.py). Following it carries out the change; a used, expired or
unknown token changes nothing and says so politely."""

from __future__ import annotations

import html
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from catalog import newsletter
from web.console.deps import HubDep

PAGE: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Newsletter</title>'
    "</head><body><main><h1>Newsletter</h1><p>{message}</p></main></body></html>"
)

router = APIRouter()


@router.get(newsletter.CONFIRM_PATH, include_in_schema=False)
async def confirm(hub: HubDep, token: str = "") -> HTMLResponse:
    def work(session: Session) -> newsletter.Confirmed | None:
        return newsletter.confirm(session, token)

    done = await hub.db(work)
    if done is None:
        message = (
            "This link is not valid any more (it was used, or it is older than "
            f"{newsletter.VALID_FOR.days} days). Nothing was changed."
        )
        return HTMLResponse(PAGE.format(message=message), status_code=404)
    change = "is now subscribed to" if done.subscribed else "will not receive"
    message = f"Thank you: {html.escape(done.email)} {change} our newsletter."
    return HTMLResponse(PAGE.format(message=message))
