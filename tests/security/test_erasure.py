"""Red team: a shopper's data must not outlive their erasure, however the transcript looks.

The attack on the old code needed no attacker: a shopper proves who they are in the chat,
the masking job then rewrites the transcript without their address, and an erasure that
looked for the address in the transcript found nothing. The conversation, their order
number, name and city stayed in the databases. Here the stack's own processes do it all:
the check over Rasa's REST channel, the web server's scheduled housekeeping, and the
`privacy` commands an admin runs with the stack's environment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import MetaData, Table, create_engine, func, or_, select
from sqlalchemy.pool import NullPool

from catalog.db import session_scope
from catalog.models import ConversationSubject, Customer, Order, Product
from launcher.stack import Stack
from privacy.conversations import tracker_conversations
from tests.security.conftest import (
    HOUSEKEEPING_INTERVAL_S,
    ROOT,
    new_sender,
    rest,
    shop_db_url,
    texts,
)

RUN_LINE = re.compile(r"housekeeping: \d+ transcript events masked; retention 365 days: ")
SCHEDULE_WAIT_S = 20 * float(HOUSEKEEPING_INTERVAL_S)  # generous: the machine is shared


def privacy(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m launcher.privacy ...` as an admin runs it beside the stack."""
    return subprocess.run(
        [sys.executable, "-m", "launcher.privacy", *args],
        cwd=ROOT, env=stack.config.env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def tracker_url(stack: Stack) -> str:
    return f"sqlite:///{Path(stack.config.tracker_db).resolve()}"


def lone_shopper(stack: Stack) -> tuple[str, str, str, str]:
    """(order number, e-mail, name, city) of a real order whose customer's name and city no
    one else in the shop has: so "no trace of them in the files" means something. Taken
    from the quiet middle of the order book, away from the orders other attacks use."""
    with session_scope(shop_db_url(stack)) as session:
        rows = session.execute(
            select(Order.number, Customer.email, Customer.first_name, Customer.last_name,
                   Customer.city)
            .join(Customer, Order.customer_id == Customer.id)
            .where(Order.number > "000000120", Order.status.in_(("shipped", "delivered")))
            .order_by(Order.number)
        ).all()  # fmt: skip
        for number, email, first, last, city in rows:
            name = f"{first} {last}"
            if not city or len(city) < 5:
                continue
            same_city = session.scalar(
                select(func.count())
                .select_from(Order)
                .join(Customer, Order.customer_id == Customer.id)
                .where(
                    or_(Order.ship_city == city, Customer.city == city, Order.ship_name == name),
                    Customer.email != email,
                )
            )
            in_catalog = session.scalar(
                select(func.count())
                .select_from(Product)
                .where(or_(Product.name.contains(city), Product.description.contains(city)))
            )
            if not same_city and not in_catalog:
                return str(number), str(email), name, str(city)
    raise AssertionError("no order in the demo shop has a customer with a city of their own")


def file_holds(path: Path, *values: str) -> set[str]:
    """Which values (any case) the database file or its write-ahead log still holds: deleted
    rows included, as anyone with a copy of the file could read them."""
    data = b"".join(
        part.read_bytes().lower()
        for part in (path, path.with_name(path.name + "-wal"))
        if part.exists()
    )
    return {value for value in values if value.lower().encode() in data}


def events_of(stack: Stack, sender: str) -> int:
    engine = create_engine(tracker_url(stack), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            events = Table("events", MetaData(), autoload_with=connection)
            query = select(func.count()).where(events.c.sender_id == sender)
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


def housekeeping_lines(stack: Stack) -> list[str]:
    log = stack.config.log_dir / "web.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if "web.housekeeping:" in line]


def ran(lines: list[str]) -> list[str]:
    """The lines of completed runs: `housekeeping: N transcript events masked; ...`."""
    return [line for line in lines if RUN_LINE.search(line)]


def test_the_web_server_masks_and_ages_transcripts_on_its_own_schedule(live: Stack) -> None:
    """No cron job: the web server runs masking and retention itself, one log line a run."""
    deadline = time.monotonic() + SCHEDULE_WAIT_S
    while len(runs := ran(housekeeping_lines(live))) < 2 and time.monotonic() < deadline:
        time.sleep(1)
    lines = housekeeping_lines(live)
    assert len(runs) >= 2, lines
    assert not any("failed" in line or "@" in line for line in lines), lines  # counts only


def test_erasure_after_masking_leaves_no_trace_of_the_shopper(live: Stack) -> None:
    number, email, name, city = lone_shopper(live)
    shop_file = Path(live.config.extra_env["SHOPDESK_DB_PATH"]).resolve()
    tracker_file = Path(live.config.tracker_db).resolve()
    sender = new_sender()
    replies = texts(rest(live, sender, f"where is my order {number}"))
    replies += texts(rest(live, sender, email))
    assert any(number in reply for reply in replies), replies  # verified: the order shown
    rest(live, sender, "thanks, that's all")
    with session_scope(shop_db_url(live)) as session:  # the check tied the chat to her
        linked = session.scalars(
            select(ConversationSubject.email).where(ConversationSubject.conversation_id == sender)
        ).all()
        assert set(linked) == {email}

    masked = privacy(live, "mask", "--idle-minutes", "0")
    assert masked.returncode == 0, masked.stderr
    assert sender not in tracker_conversations(tracker_url(live), email)  # address masked away
    assert file_holds(shop_file, email, name, city) == {email, name, city}

    erased = privacy(live, "erase", "--email", email, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "erased" in erased.stdout and "conversations 1" in erased.stdout, erased.stdout
    assert events_of(live, sender) == 0
    assert file_holds(shop_file, email, name, city) == set()
    assert file_holds(tracker_file, email, name, city) == set()
    again = privacy(live, "erase", "--email", email, "--yes")
    assert "nothing to erase" in again.stdout
