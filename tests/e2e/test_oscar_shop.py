"""The bot against a live Django Oscar shop (issue 20): the demo Oscar shop runs in its own
venv on a free port with the Luma products and the demo order book's orders, and the stack's
action server reads and changes orders only through the Oscar connector over HTTP
(SHOPDESK_ORDERS=oscar). The same conversation stories the built-in order book passes are
played against it, then what Oscar cannot do (returns) and what happens while it is down."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.settings import ConnectorSettings
from core.clock import utc_now
from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.oscar_shop import OscarShop, build_demo_catalog, missing_venv
from launcher.stack import Stack
from launcher.stories.parse import Story, parse_stories
from launcher.stories.play import RasaClient, play_story
from tests.actions.render import template
from tests.conftest import require
from tests.e2e.live import live_stack

pytestmark = [pytest.mark.e2e, pytest.mark.live]

STORIES = Path(__file__).resolve().parents[2] / "bot" / "tests"
# Stories of the built-in order book that hold for any connector with the same orders, and
# those that do not, with why: what Oscar's API has no notion of.
NOT_FOR_OSCAR = {
    "return an item by its number in the list": "Oscar has no returns: a person is offered",
    "return an item by its name, after asking about the refund policy": "the same",
    "a refund that is being processed": "Oscar keeps refunds as payment events, not read yet",
    "a refund that was paid": "the same",
    "an invoice, then the same order's status without proving it again": "Oscar has no invoices",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OscarShop]:
    problem = missing_venv()
    require(problem is None, f"the demo Oscar shop cannot run: {problem}")
    work = tmp_path_factory.mktemp("oscar")
    catalog_url = f"sqlite:///{work / 'catalog.sqlite3'}"
    build_demo_catalog(catalog_url, utc_now().date())
    with OscarShop(work / "shop", catalog_url) as running:
        yield running


@pytest.fixture(scope="module")
def stack(shop: OscarShop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("oscar-stack")
    config = fresh_config(work, work / "logs")
    config = replace(config, extra_env={**config.extra_env, **shop.settings()})
    with live_stack(config) as running:
        yield running


def chat(stack: Stack, sender: str, message: str) -> list[str]:
    return [r["text"] for r in send(stack.config.chat_url, sender, message) if "text" in r]


def stories(*files: str) -> list[Story]:
    found = []
    for name in files:
        path = STORIES / name
        found += parse_stories(path.read_text(encoding="utf-8"), str(path))
    return found


def oscar_order(shop: OscarShop, number: str) -> dict[str, object]:
    """The order as Oscar's own admin API has it (not through the connector)."""
    token = shop.token_file.read_text(encoding="utf-8").strip()
    request = urllib.request.Request(
        f"{shop.url}/admin/orders/?number={number}", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        found = json.loads(response.read())
    rows = found["results"] if isinstance(found, dict) else found
    [order] = [row for row in rows if row["number"] == number]
    return dict(order)


def test_the_settings_name_the_oscar_connector(shop: OscarShop) -> None:
    chosen = ConnectorSettings.from_env(shop.settings())
    assert chosen.orders == "oscar" and chosen.url() == shop.url and len(chosen.token()) >= 8


def test_the_built_in_order_books_stories_pass_against_oscar(stack: Stack, shop: OscarShop) -> None:
    client = RasaClient(stack.config.rasa_url, stack.config.rasa_token)
    played = [
        story
        for story in stories("test_orders.yml", "test_changes.yml", "test_returns.yml")
        if story.name not in NOT_FOR_OSCAR
    ]
    assert len(played) >= 15
    failed = [
        (result.story.name, result.failure.as_json())
        for result in map(lambda story: play_story(story, client), played)
        if result.failure is not None
    ]
    assert failed == [], "\n".join(f"{name}: {failure}" for name, failure in failed)
    # the changes were made in Oscar itself ("cancel an order that has not shipped")
    assert oscar_order(shop, "000000100")["status"] == "Cancelled"


def test_a_return_offers_a_person_with_the_order(stack: Stack) -> None:
    sender = f"oscar-return-{uuid.uuid4().hex[:8]}"
    chat(stack, sender, "I want to return something from order 000000102")
    replies = chat(stack, sender, "sophia.martinez@example.org")
    expected = template("utter_cannot_return_in_chat").format(order_number="000000102")
    assert expected in replies, replies
    assert template("utter_offer_human") in replies, replies


def test_oscar_down_gets_a_polite_answer_and_nothing_is_lost(stack: Stack, shop: OscarShop) -> None:
    sender = f"oscar-down-{uuid.uuid4().hex[:8]}"
    [ask_email] = chat(stack, sender, "where is my order 000000101?")
    assert "e-mail" in ask_email
    shop.stop()
    try:
        replies = chat(stack, sender, "james.nguyen@example.net")
        assert replies[0] == template("utter_order_system_unavailable"), replies
        assert "e-mail" in replies[-1] and "order number" not in replies[-1], replies
    finally:
        shop.start()
    replies = chat(stack, sender, "james.nguyen@example.net")
    assert any(r.startswith("Your order 000000101 has shipped") for r in replies), replies
