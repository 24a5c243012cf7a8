"""What only an admin reads in the console: `GET audit`, the audit log's newest entries and a
summary of failed sign-ins (each failure itself is kept out of the log, auth.sign_in_failures).
The analytics are web/analytics_api.py."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter

from web import audit, auth
from web.console.deps import HubDep, SignedIn, admin_only

AUDIT_VIEW: Final = 200  # the newest entries shown


router = APIRouter()


@router.get("/audit")
async def audit_log(
    who: Annotated[SignedIn, admin_only("read the audit log")], hub: HubDep
) -> dict[str, Any]:
    return {
        "entries": await hub.db(lambda session: audit.recent(session, AUDIT_VIEW)),
        # failed sign-ins have their own table; the admin sees how many, not each one
        "sign_in_failures": await hub.db(auth.sign_in_failure_summary),
    }
