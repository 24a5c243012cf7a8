"""Issue 21's "Done when", live: a shop with its own Merchant feed in EUR, its own taxonomy and
no Luma data, set up as docs/your-shop.md says (`python -m launcher init`, then the launcher's
prepare and start), answers from its own catalog: search, a category question, the greeting
with its name, prices in euros and links to its own pages.

The stack trains into folders of its own (the classifier's model root, the Rasa model folder),
so the demo's models stay as they are; the intent adapter is copied from models/nlu when it is
there, so only the category adapter (the shop's four categories) is trained.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.db import session_scope
from catalog.models import Order, Product
from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.init import SETTINGS_FILE_NAME, read_settings_file
from launcher.stack import ROOT, Stack
from tests.e2e.live import live_stack

pytestmark = [pytest.mark.e2e, pytest.mark.live, pytest.mark.slow]

FEED = Path(__file__).parent / "fixtures" / "own_shop_feed.tsv"
SHOP_NAME = "Kitchen Corner"
SHOP_URL = "https://kitchen-corner.example"
DEMO_INTENT_ADAPTER = ROOT / "models" / "nlu" / "intent"
# "1. Cast Iron Teapot — €48.00 — https://kitchen-corner.example/products/cast-iron-teapot"
PRODUCT_LINE = re.compile(r"^\d+\. (?P<name>.+?) — (?P<price>\S+?)(?: \(was \S+\))?(?: — .+)?$")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("own_shop")
    settings_dir = work / "settings"
    subprocess.run(
        [sys.executable, "-m", "launcher", "init", "--name", SHOP_NAME, "--currency", "EUR",
         "--feed", str(FEED), "--shop-url", SHOP_URL, "--dir", str(settings_dir)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    model_root = work / "nlu"
    if (DEMO_INTENT_ADAPTER / "adapter_model.safetensors").is_file():
        shutil.copytree(DEMO_INTENT_ADAPTER, model_root / "intent")
    config = fresh_config(work, work / "logs")
    config = replace(
        config,
        rasa_model_dir=work / "rasa",
        extra_env={
            **config.extra_env,
            **read_settings_file(settings_dir / SETTINGS_FILE_NAME),
            "SHOPDESK_NLU_MODEL_ROOT": str(model_root),
        },
    )
    with live_stack(config) as running:
        yield running


def chat(stack: Stack, *texts: str) -> list[str]:
    sender = f"own-{uuid.uuid4().hex[:8]}"
    replies: list[str] = []
    for text in texts:
        replies = [r["text"] for r in send(stack.config.chat_url, sender, text) if "text" in r]
    return replies


def listed(replies: list[str]) -> dict[str, str]:
    """The products a text reply lists: name -> price as shown."""
    lines = [line for reply in replies for line in reply.splitlines()]
    return {m["name"]: m["price"] for m in map(PRODUCT_LINE.match, lines) if m}


def test_the_catalog_is_the_shop_s_own_and_nothing_of_the_demo(stack: Stack) -> None:
    url = f"sqlite:///{stack.config.env()['SHOPDESK_DB_PATH']}"
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        currencies = set(session.scalars(select(Product.currency).distinct()))
        sources = set(session.scalars(select(Product.source).distinct()))
    assert (currencies, sources) == ({"EUR"}, {"merchant"})


def test_the_greeting_says_the_shop_s_name(stack: Stack) -> None:
    greeting = " ".join(chat(stack, "hi"))
    assert SHOP_NAME in greeting
    assert "Luma" not in greeting


def feed_prices() -> dict[str, str]:
    """Each product of the sample feed with its price as a euro shop shows it."""
    rows = [line.split("\t") for line in FEED.read_text(encoding="utf-8").splitlines()]
    header = rows[0]
    title, price = header.index("title"), header.index("price")
    return {row[title]: "€" + row[price].removesuffix(" EUR") for row in rows[1:]}


def test_search_finds_the_shop_s_products_in_euros_with_its_links(stack: Stack) -> None:
    replies = chat(stack, "I'm looking for a teapot")
    products = listed(replies)
    assert products, replies
    prices = feed_prices()
    assert all(price == prices[name] for name, price in products.items()), products
    assert all("Tea" in name for name in products), products
    text = "\n".join(replies)
    assert f"{SHOP_URL}/products/" in text
    assert "$" not in text and ".html" not in text


def test_a_category_question_uses_the_shop_s_taxonomy(stack: Stack) -> None:
    replies = chat(stack, "what mugs do you have?")
    products = listed(replies)
    assert products, replies
    assert all("Mug" in name or "Cup" in name for name in products), products
    prices = feed_prices()
    assert all(price == prices[name] for name, price in products.items()), products
