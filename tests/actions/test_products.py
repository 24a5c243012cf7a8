import re

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.products import ActionSearchProducts
from catalog.db import session_scope
from catalog.models import Product

LINE = re.compile(r"^(\d)\. (.+) — \$(\d+\.\d\d) — (https://shop\.test/[a-z0-9-]+\.html)$")


def test_lists_up_to_five_black_hoodies_with_price_and_link(catalog_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionSearchProducts().run(dispatcher, tracker_from("search_black_hoodie"), {})
    assert events == []
    [message] = dispatcher.messages
    lines = message["text"].splitlines()
    assert lines[0] == "Here is what I found for “black hoodie”:"
    rows = [LINE.match(line) for line in lines[1:]]
    assert len(rows) == 5 and all(rows)
    with session_scope(catalog_env) as session:
        prices = dict(session.execute(select(Product.name, Product.price_cents)).tuples().all())
    for row in rows:
        assert row is not None
        assert "Hoodie" in row[2]
        assert prices[row[2]] == round(float(row[3]) * 100)


def test_says_so_when_nothing_matches(catalog_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_from("search_black_hoodie", text="do you have a zzqx flibber?")
    ActionSearchProducts().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith(
        "Sorry, I couldn't find anything matching “zzqx flibber”"
    )


def test_a_broken_database_gets_a_polite_answer(tmp_path, monkeypatch, tracker_from) -> None:
    from actions import catalog_access

    monkeypatch.setenv("SHOPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    catalog_access.settings.cache_clear()
    dispatcher = CollectingDispatcher()
    ActionSearchProducts().run(dispatcher, tracker_from("search_black_hoodie"), {})
    catalog_access.settings.cache_clear()
    assert dispatcher.messages[0]["text"] == catalog_access.UNAVAILABLE_TEXT
