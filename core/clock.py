"""The one clock: timezone-aware UTC everywhere a time is made, compared or stored.

Why one: two clocks (naive UTC in the order flows, naive local time in the support tables)
once wrote into the same database, so "older than 30 days" and "waiting since" disagreed by
the server's offset. Times are made here in UTC; they become local only when shown to a
person (`local`).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def utc_now() -> datetime:
    """Now, aware, in UTC, to the second (the precision every stored timestamp has)."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(moment: datetime) -> datetime:
    """`moment` as aware UTC. A naive value is read as UTC: how SQLite hands back what this
    module wrote (it keeps no offset)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local(moment: datetime, zone: tzinfo | None = None) -> datetime:
    """`moment` in `zone` (the server's local zone when None), for showing to a person only."""
    return as_utc(moment).astimezone(zone)
