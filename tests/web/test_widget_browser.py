"""The shopper's chat widget (web/static/widget.js) in Debian's chromium.

The widget alone: the web server is replaced by `ShopDouble`, a scripted python-socketio server
speaking docs/web.md's shopper protocol (session_request/session_confirm, user_uttered,
bot_uttered, typing, history; user messages echoed with their seq and message_id as the real
server does), with canned answers: a text, quick replies, a product carousel, an agent's message
and an XSS attempt. It serves web/static and the socket.io client like the real server, and keeps
its conversations across a stop and start, so a dropped connection can be tested. It also
clears a chat, finds one idle, and refuses a request as too fast, as the real server does.

The last test loads the real server's pages (web/app.py, without Rasa): each carries the CSP,
and a page on another origin cannot frame the console.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route

from launcher.ports import free_port
from tests.conftest import require, require_module
from tests.web.test_shopper import Served
from web.app import (  # the real server's headers and static files: the widget lives with them
    JAVASCRIPT,
    PAGE_HEADERS,
    SHARED,
    SharedStatic,
)
from web.limits import ShopperChannelSettings
from web.shopper import TOO_FAST_TEXT

require_module("playwright", "playwright is missing: run scripts/bootstrap")
from playwright.sync_api import Page, expect  # noqa: E402 (after the check above)

WEB = Path(__file__).resolve().parents[2] / "web"
STATIC = WEB / "static"
SOCKET_IO_CLIENT = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
XSS = "<img src=x onerror=window.__xss=1>"
PRODUCT_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="140">'
    '<rect width="200" height="140" fill="#c9d6e3"/></svg>'
)
RECONNECT_MS = 20_000
DEAD_IMAGE = "media/catalog/product/m/h/mh02-black_main.jpg"  # not served: answers 404

MESSAGE = "[data-testid=shopdesk-message]"
USER = '[data-testid=shopdesk-message][data-sender="user"]'
BOT = '[data-testid=shopdesk-message][data-sender="bot"]'
AGENT = '[data-testid=shopdesk-message][data-sender="agent"]'

require(
    SOCKET_IO_CLIENT.exists(),
    f"{SOCKET_IO_CLIENT.relative_to(WEB.parent)} is missing: run scripts/bootstrap",
)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class ShopDouble:
    """A scripted stand-in for `python -m web serve`'s shopper side (docs/web.md)."""

    def __init__(self, reply_delay_s: float = 0.2) -> None:
        self.port = free_port()
        self.reply_delay_s = reply_delay_s
        self.conversations: dict[str, list[dict[str, Any]]] = {}
        self.received: list[dict[str, Any]] = []  # every user_uttered, as sent
        self.history_requests: list[dict[str, Any]] = []
        self.cleared: list[str] = []  # the conversations a clear_chat deleted
        self.refuse_session_requests = 0  # answer this many with rate_limited first
        self.idle: set[str] = set()  # conversations the next session_request finds idle
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ running

    def start(self) -> None:
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(lambda: self._server.started, 15, "the test server to start")

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(15)
        self._server = self._thread = None

    def messages_of(self, conversation: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.conversations.get(conversation, []))

    def received_texts(self) -> list[str]:
        with self._lock:
            return [str(data.get("message")) for data in self.received]

    # ------------------------------------------------------------ the app

    def _app(self) -> Any:
        sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False)
        self._register(sio)

        async def shop_page(request: Request) -> Response:
            return FileResponse(STATIC / "shop.html", headers=PAGE_HEADERS)

        async def widget(request: Request) -> Response:
            return FileResponse(STATIC / "widget.js", media_type=JAVASCRIPT, headers=SHARED)

        async def vendor(request: Request) -> Response:
            return FileResponse(SOCKET_IO_CLIENT, media_type=JAVASCRIPT, headers=SHARED)

        async def image(request: Request) -> Response:
            return Response(PRODUCT_SVG, media_type="image/svg+xml")

        app = Starlette(
            routes=[
                Route("/", shop_page),
                Route("/widget.js", widget),
                Route("/static/vendor/socket.io.min.js", vendor),
                Route("/img/{name}", image),
                Mount("/static", SharedStatic(directory=STATIC)),
            ]
        )
        return socketio.ASGIApp(sio, other_asgi_app=app)

    def _register(self, sio: socketio.AsyncServer) -> None:
        async def conversation_of(sid: str) -> str | None:
            session = await sio.get_session(sid)
            return session.get("conversation") if session else None

        def user_seq(conversation: str) -> int:
            return len(self.messages_of(conversation)) - 1

        async def push(conversation: str, message: dict[str, Any]) -> None:
            with self._lock:
                messages = self.conversations.setdefault(conversation, [])
                message = {**message, "seq": len(messages)}
                messages.append(message)
            await sio.emit("bot_uttered", message, room=conversation)

        async def join(sid: str, conversation: str, reason: str | None = None) -> None:
            with self._lock:
                self.conversations.setdefault(conversation, [])
            if previous := await conversation_of(sid):
                await sio.leave_room(sid, previous)
            await sio.save_session(sid, {"conversation": conversation})
            await sio.enter_room(sid, conversation)
            confirm: dict[str, Any] = {"session_id": conversation, "idle_s": 1800}
            if reason:
                confirm["reason"] = reason
            await sio.emit("session_confirm", confirm, to=sid)

        async def session_request(sid: str, data: Any = None) -> None:
            if self.refuse_session_requests > 0:
                self.refuse_session_requests -= 1
                refusal = {"event": "session_request", "retry_after": 1, "text": TOO_FAST_TEXT}
                await sio.emit("rate_limited", refusal, to=sid)
                return
            wanted = data.get("session_id") if isinstance(data, dict) else data
            known = isinstance(wanted, str) and SESSION_ID.match(wanted)
            if known and wanted in self.idle:
                await join(sid, uuid.uuid4().hex, "idle")
                return
            await join(sid, str(wanted) if known else uuid.uuid4().hex)

        async def clear_chat(sid: str, data: Any = None) -> None:
            conversation = await conversation_of(sid)
            if conversation is None:
                return
            with self._lock:
                self.conversations.pop(conversation, None)
            self.cleared.append(conversation)
            fresh = uuid.uuid4().hex
            await join(sid, fresh, "cleared")
            await sio.emit("chat_cleared", {"cleared": True, "session_id": fresh}, to=sid)

        async def history(sid: str, data: Any = None) -> None:
            conversation = await conversation_of(sid)
            if conversation is None:
                return
            self.history_requests.append(dict(data) if isinstance(data, dict) else {})
            after = data.get("after_seq", -1) if isinstance(data, dict) else -1
            messages = [m for m in self.messages_of(conversation) if m["seq"] > after]
            await sio.emit("history", {"messages": messages}, to=sid)

        async def user_uttered(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                return
            conversation = await conversation_of(sid) or str(data.get("session_id"))
            with self._lock:
                self.received.append(dict(data))
            text = str(data.get("message") or "")
            user: dict[str, Any] = {"sender": "user", "text": data.get("display_text") or text}
            if data.get("message_id"):
                user["message_id"] = data["message_id"]
            await push(conversation, user)  # echoed to the room, as web/hub.py's sync does
            if "flood" in text:  # a notice outside the record, repeating the last seq
                notice = {"sender": "bot", "text": "Please wait a moment.", "transient": True}
                await sio.emit("bot_uttered", {**notice, "seq": user_seq(conversation)}, to=sid)
                return
            await sio.emit("typing", {"on": True}, room=conversation)
            await asyncio.sleep(self.reply_delay_s)
            for reply in self.replies_to(text):
                await push(conversation, {"sender": "bot", **reply})
            await sio.emit("typing", {"on": False}, room=conversation)

        sio.on("session_request", session_request)
        sio.on("clear_chat", clear_chat)
        sio.on("history", history)
        sio.on("user_uttered", user_uttered)

    def replies_to(self, text: str) -> list[dict[str, Any]]:
        said = text.lower()
        if said == "/affirm":
            return [{"text": "Great, here we go."}]
        if "quick" in said:
            return [
                {
                    "text": "Shall I show you some hoodies?",
                    "quick_replies": [
                        {"content_type": "text", "title": "Yes, please", "payload": "/affirm"},
                        {"content_type": "text", "title": "No, thanks", "payload": "/deny"},
                    ],
                }
            ]
        if said.startswith("tell me more about the "):
            name = text[len("tell me more about the ") :]
            return [{"text": f"The {name} is soft and warm.\nMachine washable at 30 °C."}]
        if "placeholder" in said:
            return [{"text": "Close matches:"}, {"attachment": self.imperfect_carousel()}]
        if "hoodie" in said:
            return [{"text": "Here are some hoodies:"}, {"attachment": self.carousel()}]
        if "agent" in said:
            return [{"sender": "agent", "agent_name": "Anna", "text": "Hi, I'm Anna from Luma."}]
        if "xss" in said:
            return [
                {
                    "text": XSS,
                    "quick_replies": [{"content_type": "text", "title": XSS, "payload": "/deny"}],
                },
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "generic",
                            "elements": [{"title": XSS, "subtitle": XSS, "buttons": []}],
                        },
                    }
                },
            ]
        return [{"text": f"You said: {text}"}]

    def carousel(self) -> dict[str, Any]:
        def card(sku: str, name: str, price: str) -> dict[str, Any]:
            return {
                "title": name,
                "subtitle": f"{price} · ★ 4.3 (12)",
                "image_url": f"{self.url}/img/{sku}.svg",
                "sku": sku,
                "buttons": [
                    {"type": "web_url", "title": "View", "url": f"https://shop.test/{sku}.html"},
                    {
                        "type": "postback",
                        "title": "Tell me more",
                        "payload": f"tell me more about the {name}",
                    },
                ],
            }

        evil = {
            "title": "Sneaky <b>Hoodie</b>",
            "subtitle": "$1.00",
            "image_url": "javascript:window.__xss=2",
            "sku": "EVIL",
            "buttons": [
                {"type": "web_url", "title": "Evil link", "url": "javascript:window.__xss=3"},
                {"type": "web_url", "title": "Data link", "url": "data:text/html,<b>x</b>"},
            ],
        }
        elements = [
            card("MH01", "Mach Street Sweatshirt", "$62.00"),
            card("MH02", "Hollister Backyard Sweatshirt", "$52.00"),
            card("MH03", "Stark Fundamental Hoodie", "$42.00"),
            evil,
        ]
        return {"type": "template", "payload": {"template_type": "generic", "elements": elements}}

    def imperfect_carousel(self) -> dict[str, Any]:
        """Cards as the demo catalog sends them: photos that load, that fail, none at all,
        and close matches that say what they miss (web/messages.py card_element)."""
        elements = [
            {"title": "Mach Street Sweatshirt", "subtitle": "$62.00", "sku": "MH01",
             "image_url": f"{self.url}/img/MH01.svg"},
            {"title": "Chaz Kangeroo Hoodie", "subtitle": "$52.00", "sku": "MH02",
             "image_url": f"{self.url}/{DEAD_IMAGE}", "exact": False,
             "misses": ["$52.00, over your $50.00", "no XS in stock"]},
            {"title": "teton pullover", "subtitle": "$70.00", "sku": "MH03", "exact": False},
            {"title": "™ ★", "subtitle": "$9.00", "sku": "GIFT"},
        ]  # fmt: skip
        return {"type": "template", "payload": {"template_type": "generic", "elements": elements}}


@pytest.fixture
def shop() -> Iterator[ShopDouble]:
    double = ShopDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("shopdesk-launcher").click()
    expect(page.get_by_test_id("shopdesk-panel")).to_be_visible()


def say(page: Page, text: str) -> None:
    page.get_by_test_id("shopdesk-input").fill(text)
    page.get_by_test_id("shopdesk-input").press("Enter")


def session_id(page: Page) -> str:
    value = page.evaluate("window.ShopDeskWidget.sessionId()")
    assert isinstance(value, str) and SESSION_ID.match(value), value
    return value


def bubbles(page: Page, selector: str = MESSAGE) -> list[str]:
    return page.locator(f"{selector} .shopdesk-bubble").all_inner_texts()


# ---------------------------------------------------------------------------------------- tests


def test_the_launcher_opens_the_panel_and_a_message_is_answered_once(
    shop: ShopDouble, browser_page: Page, page_errors: list[str], screenshot: Any
) -> None:
    page = browser_page
    shop.reply_delay_s = 1.0  # long enough to see the typing indicator
    page.goto(shop.url)
    launcher = page.get_by_test_id("shopdesk-launcher")
    panel = page.get_by_test_id("shopdesk-panel")
    expect(page.get_by_role("heading", name="Luma demo shop")).to_be_visible()
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    launcher.click()
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("shopdesk-input")).to_be_focused()

    say(page, "hello there")
    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(USER)).to_contain_text("hello there")
    expect(page.get_by_test_id("shopdesk-input")).to_have_value("")
    expect(page.get_by_test_id("shopdesk-typing")).to_be_visible()
    screenshot(page, "typing")
    expect(page.locator(BOT)).to_contain_text("You said: hello there")
    expect(page.get_by_test_id("shopdesk-typing")).to_be_hidden()
    page.wait_for_timeout(300)  # the echo of the user's message has come and was not shown
    assert bubbles(page) == ["hello there", "You said: hello there"]

    (sent,) = shop.received
    assert sent["message"] == "hello there"
    assert sent["session_id"] == session_id(page)
    assert UUID.match(sent["message_id"]), sent
    assert "display_text" not in sent
    assert shop.history_requests == [{"session_id": sent["session_id"], "after_seq": -1}]
    assert page.get_by_test_id("shopdesk-status").is_hidden()
    assert page.evaluate("typeof window.io") == "undefined"  # the shop's globals are left alone
    assert page_errors == []
    screenshot(page, "answered")


def test_send_button_sends_and_empty_input_sends_nothing(shop: ShopDouble, browser_page: Page):
    page = browser_page
    open_chat(page, shop.url)
    page.get_by_test_id("shopdesk-send").click()
    page.get_by_test_id("shopdesk-input").fill("   ")
    page.get_by_test_id("shopdesk-send").click()
    page.get_by_test_id("shopdesk-input").fill("two\nlines")
    page.get_by_test_id("shopdesk-send").click()
    expect(page.locator(BOT)).to_have_count(1)
    assert shop.received_texts() == ["two\nlines"]
    assert bubbles(page, USER) == ["two\nlines"]


def test_quick_replies_send_their_payload_and_show_the_title(
    shop: ShopDouble, browser_page: Page, screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "quick question")
    replies = page.get_by_test_id("shopdesk-quick-reply")
    expect(replies).to_have_count(2)
    expect(replies.first).to_have_text("Yes, please")
    screenshot(page, "offered")

    replies.first.click()
    expect(page.locator(BOT).last).to_contain_text("Great, here we go.")
    assert shop.received[-1]["message"] == "/affirm"
    assert shop.received[-1]["display_text"] == "Yes, please"
    assert bubbles(page, USER) == ["quick question", "Yes, please"]
    for i in range(2):
        expect(replies.nth(i)).to_be_disabled()
    expect(replies.first).to_have_attribute("aria-pressed", "true")
    screenshot(page, "answered")


def test_a_typed_answer_disables_earlier_quick_replies(shop: ShopDouble, browser_page: Page):
    page = browser_page
    open_chat(page, shop.url)
    say(page, "quick question")
    expect(page.get_by_test_id("shopdesk-quick-reply")).to_have_count(2)
    say(page, "something else")
    expect(page.get_by_test_id("shopdesk-quick-reply").first).to_be_disabled()


def test_a_carousel_shows_product_cards(
    shop: ShopDouble, browser_page: Page, page_errors: list[str], screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "show me hoodies")
    cards = page.get_by_test_id("shopdesk-card")
    expect(cards).to_have_count(4)
    first = cards.first
    expect(first.locator(".shopdesk-card-title")).to_have_text("Mach Street Sweatshirt")
    expect(first.locator(".shopdesk-card-subtitle")).to_have_text("$62.00 · ★ 4.3 (12)")
    image = first.get_by_role("img", name="Mach Street Sweatshirt")
    expect(image).to_have_attribute("src", f"{shop.url}/img/MH01.svg")
    wait_for(lambda: image.evaluate("i => i.complete && i.naturalWidth > 0"), 5, "the image")
    link = first.get_by_role("link", name=re.compile("^View"))
    expect(link).to_have_attribute("href", "https://shop.test/MH01.html")
    expect(link).to_have_attribute("target", "_blank")
    assert "noopener" in (link.get_attribute("rel") or "").split()
    expect(first).to_have_attribute("data-sku", "MH01")

    # a row that scrolls sideways, not a column
    carousel = page.locator(".shopdesk-carousel")
    assert carousel.evaluate("c => c.scrollWidth > c.clientWidth")
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and boxes[1]["x"] > boxes[0]["x"]
    assert abs(boxes[1]["y"] - boxes[0]["y"]) < 1
    screenshot(page, "cards")

    # only http(s): the javascript: image and links and the data: link are left out
    evil = cards.nth(3)
    expect(evil.locator(".shopdesk-card-title")).to_have_text("Sneaky <b>Hoodie</b>")
    expect(evil.locator("img")).to_have_count(0)
    expect(evil.locator("a")).to_have_count(0)
    assert (
        page.locator("a[href^='javascript'], a[href^='data'], img[src^='javascript']").count() == 0
    )

    # a postback button says its payload and shows its title; the answer keeps its line break
    cards.nth(1).get_by_role("button", name="Tell me more").click()
    answer = page.locator(f"{BOT} .shopdesk-bubble").last
    expect(answer).to_have_text(
        "The Hollister Backyard Sweatshirt is soft and warm.\nMachine washable at 30 °C."
    )
    assert answer.evaluate("b => getComputedStyle(b).whiteSpace") == "pre-wrap"
    assert answer.evaluate("b => b.getClientRects()[0].height") > 30  # two lines
    assert shop.received[-1]["message"] == "tell me more about the Hollister Backyard Sweatshirt"
    assert bubbles(page, USER)[-1] == "Tell me more"
    assert page.evaluate("window.__xss") is None
    assert page_errors == []


def test_a_card_without_a_loadable_photo_shows_a_placeholder_and_a_close_match_its_misses(
    shop: ShopDouble, browser_page: Page, page_errors: list[str], screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "show me placeholders")
    cards = page.get_by_test_id("shopdesk-card")
    expect(cards).to_have_count(4)
    loaded, dead, none, no_letters = (cards.nth(i) for i in range(4))

    # the photo that loads covers the placeholder; the dead one is gone, not a broken icon
    wait_for(lambda: loaded.evaluate(MEDIA_STATE)["photo"] == "loaded", 5, "the photo")
    wait_for(lambda: dead.locator("img").count() == 0, 5, "the dead photo to be removed")
    expect(dead.get_by_test_id("shopdesk-card-placeholder")).to_have_text("CK")
    expect(none.get_by_test_id("shopdesk-card-placeholder")).to_have_text("TP")
    expect(no_letters.locator("[data-testid=shopdesk-card-placeholder] svg")).to_have_count(1)
    for card in (dead, none, no_letters):
        state = card.evaluate(MEDIA_STATE)
        assert state["photo"] == "none", state
        assert state["placeholder"]["width"] >= 150 and state["placeholder"]["height"] >= 100
        assert state["placeholder"]["background"] not in ("rgba(0, 0, 0, 0)", "transparent")
        assert state["placeholder"]["color"] != state["placeholder"]["background"]
        assert state["placeholder"]["hidden_from_readers"]  # the title says what it is

    # a close match is marked, with what it misses; an exact one is not
    expect(loaded.get_by_test_id("shopdesk-card-note")).to_have_count(0)
    note = dead.get_by_test_id("shopdesk-card-note")
    expect(note.locator(".shopdesk-card-miss")).to_have_text(
        ["$52.00, over your $50.00", "no XS in stock"]
    )
    expect(note).to_contain_text("Close match")
    expect(none.get_by_test_id("shopdesk-card-note")).to_have_text("Close match")
    screenshot(page, "placeholders")
    assert [e for e in page_errors if DEAD_IMAGE not in e and "404" not in e] == []


# What a card's picture box shows: its photo ("loaded", "loading" or "none") and the
# placeholder's box and colours.
MEDIA_STATE = """card => {
  const img = card.querySelector("img");
  const box = card.querySelector("[data-testid=shopdesk-card-placeholder]");
  const style = getComputedStyle(box);
  const rect = box.getBoundingClientRect();
  return {
    photo: !img ? "none" : img.complete && img.naturalWidth > 0 &&
      getComputedStyle(img).opacity === "1" ? "loaded" : "loading",
    placeholder: {width: rect.width, height: rect.height, background: style.backgroundColor,
                  color: style.color,
                  hidden_from_readers: box.getAttribute("aria-hidden") === "true"},
  };
}"""


def test_an_agent_message_shows_the_agent_name(shop: ShopDouble, browser_page: Page):
    page = browser_page
    open_chat(page, shop.url)
    say(page, "I want a human agent")
    message = page.locator(AGENT)
    expect(message).to_have_count(1)
    expect(message.locator(".shopdesk-agent-name")).to_have_text("Anna")
    expect(message.locator(".shopdesk-bubble")).to_have_text("Hi, I'm Anna from Luma.")
    name_box = message.locator(".shopdesk-agent-name").bounding_box()
    bubble_box = message.locator(".shopdesk-bubble").bounding_box()
    assert name_box and bubble_box and name_box["y"] < bubble_box["y"]


def test_a_transient_notice_is_shown_though_its_seq_was_seen(shop: ShopDouble, browser_page: Page):
    page = browser_page
    open_chat(page, shop.url)
    say(page, "flood")
    expect(page.locator(f"{BOT} .shopdesk-bubble")).to_have_text("Please wait a moment.")
    expect(page.get_by_test_id("shopdesk-typing")).to_be_hidden()
    say(page, "hello")
    expect(page.locator(BOT).last).to_contain_text("You said: hello")
    assert bubbles(page) == ["flood", "Please wait a moment.", "hello", "You said: hello"]


def test_text_from_the_server_is_never_html(
    shop: ShopDouble, browser_page: Page, screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, f"xss {XSS}")
    expect(page.locator(BOT)).to_have_count(2)
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert bubbles(page) == [f"xss {XSS}", XSS]
    expect(page.get_by_test_id("shopdesk-quick-reply")).to_have_text(XSS)
    expect(page.get_by_test_id("shopdesk-card").locator(".shopdesk-card-title")).to_have_text(XSS)
    expect(page.get_by_test_id("shopdesk-card").locator(".shopdesk-card-subtitle")).to_have_text(
        XSS
    )
    assert page.locator("#shopdesk-root img").count() == 0
    assert page.locator("#shopdesk-root b").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    screenshot(page, "literal")


def test_a_reload_keeps_the_session_and_restores_the_history(
    shop: ShopDouble, browser_page: Page, screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "quick question")
    page.get_by_test_id("shopdesk-quick-reply").first.click()
    expect(page.locator(BOT)).to_have_count(2)
    before = session_id(page)
    shown = bubbles(page)
    assert shown == [
        "quick question",
        "Shall I show you some hoodies?",
        "Yes, please",
        "Great, here we go.",
    ]

    page.reload()
    expect(page.get_by_test_id("shopdesk-panel")).to_be_visible()  # it stays open
    expect(page.locator(MESSAGE)).to_have_count(4)
    assert session_id(page) == before
    assert bubbles(page) == shown
    assert shop.history_requests[-1] == {"session_id": before, "after_seq": -1}
    # the answered quick replies stay answered
    expect(page.get_by_test_id("shopdesk-quick-reply").first).to_be_disabled()
    screenshot(page, "restored")

    say(page, "and now?")
    expect(page.locator(BOT).last).to_contain_text("You said: and now?")
    page.wait_for_timeout(300)
    assert bubbles(page)[4:] == ["and now?", "You said: and now?"]
    assert [m["seq"] for m in shop.messages_of(before)] == list(range(6))

    # a closed panel stays closed over a reload, and the history is there when it opens
    page.get_by_test_id("shopdesk-launcher").click()
    page.reload()
    expect(page.get_by_test_id("shopdesk-panel")).to_be_hidden()
    page.evaluate("window.ShopDeskWidget.open()")
    expect(page.locator(MESSAGE)).to_have_count(6)


def test_a_message_typed_while_disconnected_is_sent_after_the_reconnect(
    shop: ShopDouble, browser_page: Page, screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "hello")
    expect(page.locator(BOT)).to_have_count(1)
    conversation = session_id(page)
    status = page.get_by_test_id("shopdesk-status")
    expect(status).to_be_hidden()

    shop.stop()
    expect(status).to_be_visible(timeout=RECONNECT_MS)
    expect(status).to_contain_text("Reconnecting")
    say(page, "are you still there?")
    expect(page.locator(USER).last).to_contain_text("are you still there?")
    expect(page.locator(USER).last).to_contain_text("Not sent yet")
    expect(status).to_contain_text("will be sent")
    screenshot(page, "disconnected")
    assert shop.received_texts() == ["hello"]

    shop.start()
    expect(status).to_be_hidden(timeout=RECONNECT_MS)
    expect(page.locator(BOT).last).to_have_text(
        re.compile("You said: are you still there"), timeout=RECONNECT_MS
    )
    page.wait_for_timeout(300)
    assert shop.received_texts() == ["hello", "are you still there?"]
    assert shop.history_requests[-1] == {"session_id": conversation, "after_seq": 1}
    assert session_id(page) == conversation
    assert bubbles(page) == [
        "hello",
        "You said: hello",
        "are you still there?",
        "You said: are you still there?",
    ]
    expect(page.locator(USER).last).not_to_contain_text("Not sent yet")
    screenshot(page, "reconnected")


def test_history_missed_while_disconnected_is_shown_after_the_reconnect(
    shop: ShopDouble, browser_page: Page
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "hello")
    expect(page.locator(BOT)).to_have_count(1)
    conversation = session_id(page)
    shop.stop()
    expect(page.get_by_test_id("shopdesk-status")).to_be_visible(timeout=RECONNECT_MS)
    # an agent answered while the shopper's connection was down
    shop.conversations[conversation].append(
        {"seq": 2, "sender": "agent", "agent_name": "Anna", "text": "Still need help?"}
    )
    shop.start()
    expect(page.locator(AGENT)).to_have_count(1, timeout=RECONNECT_MS)
    assert bubbles(page) == ["hello", "You said: hello", "Still need help?"]


def test_keyboard_and_screen_reader(shop: ShopDouble, browser_page: Page) -> None:
    page = browser_page
    page.goto(shop.url)
    launcher = page.get_by_test_id("shopdesk-launcher")
    panel = page.get_by_test_id("shopdesk-panel")

    # roles, names and labels
    assert launcher.evaluate("b => b.tagName") == "BUTTON"
    expect(launcher).to_have_attribute("aria-controls", "shopdesk-panel")
    expect(page.get_by_role("button", name="Luma assistant")).to_have_count(1)
    expect(panel).to_have_attribute("role", "dialog")
    expect(panel).to_have_attribute("aria-label", "Luma assistant")
    log = page.locator("[role=log]")
    expect(log).to_have_attribute("aria-live", "polite")

    # Tab reaches the launcher, with a visible focus ring; Enter opens the panel
    page.keyboard.press("Tab")
    expect(launcher).to_be_focused()
    assert launcher.evaluate("b => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(page.get_by_role("dialog", name="Luma assistant")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()

    # the answer's buttons are reachable with Tab and show their focus
    page.keyboard.type("quick one")
    page.keyboard.press("Enter")
    reply = page.get_by_test_id("shopdesk-quick-reply").first
    expect(reply).to_be_visible()
    reply.focus()
    page.keyboard.press("Tab")
    second = page.get_by_test_id("shopdesk-quick-reply").nth(1)
    expect(second).to_be_focused()
    assert second.evaluate("b => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator(BOT).last).to_contain_text("You said: /deny")

    # Escape closes and gives the focus back to the launcher
    page.get_by_label("Your message").focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()

    # the header's close button does the same
    launcher.click()
    page.get_by_role("button", name="Close chat").click()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


def test_a_phone_screen_gets_the_whole_viewport(
    shop: ShopDouble, browser_page: Page, screenshot: Any
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(shop.url)
    screenshot(page, "closed")
    open_chat(page, shop.url)
    say(page, "show me hoodies")
    expect(page.get_by_test_id("shopdesk-card")).to_have_count(4)
    box = page.get_by_test_id("shopdesk-panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    for hook in ("shopdesk-input", "shopdesk-send"):
        part = page.get_by_test_id(hook).bounding_box()
        assert part and part["x"] >= 0 and part["x"] + part["width"] <= 390, hook
        assert part["y"] + part["height"] <= 844, hook
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
    screenshot(page, "open")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shopdesk-launcher")).to_be_focused()


# The embed tag of docs/web.md, and the classic tag shops used before the widget was modules.
EMBED_TAGS = {
    "module": "<script type='module' src='{url}/widget.js' data-title='Ask Luma' data-open='true'>",
    "classic": "<script src='{url}/widget.js' data-title='Ask Luma' data-open='true' defer>",
}


@pytest.fixture
def other_origin_shop(
    shop: ShopDouble, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A shop on another origin that embeds the widget with an absolute src (param: the tag)."""
    tag = EMBED_TAGS[getattr(request, "param", "module")].format(url=shop.url)
    (tmp_path / "index.html").write_text(
        "<!doctype html><html lang='en'><head><title>Other shop</title></head><body>"
        f"<h1>Another shop</h1>{tag}</script></body></html>"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("other_origin_shop", sorted(EMBED_TAGS), indirect=True)
def test_another_origin_embeds_the_widget_with_one_tag(
    shop: ShopDouble, other_origin_shop: str, browser_page: Page, page_errors: list[str]
) -> None:
    page = browser_page
    page.goto(other_origin_shop)
    panel = page.get_by_test_id("shopdesk-panel")
    expect(panel).to_be_visible()  # data-open
    expect(panel).to_have_attribute("aria-label", "Ask Luma")
    # its CSS came from the widget's origin
    assert (
        page.get_by_test_id("shopdesk-launcher").evaluate(
            "b => getComputedStyle(b.parentElement).position"
        )
        == "fixed"
    )
    say(page, "hi from afar")
    expect(page.locator(BOT)).to_contain_text("You said: hi from afar")
    assert page.evaluate("typeof window.io") == "undefined"
    assert page_errors == []


def test_clear_this_chat_asks_first_then_starts_a_new_conversation(
    shop: ShopDouble, browser_page: Page, page_errors: list[str], screenshot: Any
) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "hello")
    expect(page.locator(BOT)).to_have_count(1)
    before = session_id(page)
    clear = page.get_by_role("button", name="Clear chat")
    dialog = page.get_by_test_id("shopdesk-clear-dialog")

    # asked first; "Keep it" (the focused answer) leaves everything as it was
    clear.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("cannot be brought back")
    expect(page.get_by_test_id("shopdesk-clear-cancel")).to_be_focused()
    screenshot(page, "asked")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(clear).to_be_focused()
    clear.click()
    page.keyboard.press("Escape")  # the question goes, the panel stays
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("shopdesk-panel")).to_be_visible()
    assert shop.cleared == [] and bubbles(page) == ["hello", "You said: hello"]

    clear.click()
    page.get_by_test_id("shopdesk-clear-confirm").click()
    expect(page.get_by_test_id("shopdesk-notice")).to_contain_text("This chat was cleared")
    expect(page.locator(MESSAGE)).to_have_count(0)
    assert shop.cleared == [before]
    after = session_id(page)
    assert after != before
    expect(page.get_by_test_id("shopdesk-input")).to_be_focused()
    screenshot(page, "cleared")

    say(page, "a new question")
    expect(page.locator(BOT)).to_contain_text("You said: a new question")
    assert [m["text"] for m in shop.messages_of(after)] == [
        "a new question",
        "You said: a new question",
    ]
    page.reload()  # the new conversation is the one the browser keeps
    page.evaluate("window.ShopDeskWidget.open()")
    expect(page.locator(MESSAGE)).to_have_count(2)
    assert session_id(page) == after
    assert page_errors == []


def test_a_refused_request_is_explained_and_asked_again(
    shop: ShopDouble, browser_page: Page
) -> None:
    page = browser_page
    shop.refuse_session_requests = 1
    open_chat(page, shop.url)
    status = page.get_by_test_id("shopdesk-status")
    expect(status).to_have_text(TOO_FAST_TEXT)
    expect(status).to_be_hidden(timeout=10_000)  # asked again after retry_after
    say(page, "hello")
    expect(page.locator(BOT)).to_contain_text("You said: hello")


def test_an_idle_chat_is_not_shown_to_the_next_person(shop: ShopDouble, browser_page: Page) -> None:
    page = browser_page
    open_chat(page, shop.url)
    say(page, "my order is 000000101")
    expect(page.locator(BOT)).to_have_count(1)
    before = session_id(page)
    shop.idle.add(before)  # the server finds it idle at the next session request
    page.reload()
    expect(page.get_by_test_id("shopdesk-notice")).to_contain_text("ended after a while")
    expect(page.locator(MESSAGE)).to_have_count(0)
    assert session_id(page) != before


@pytest.fixture
def real_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The real web app (web/app.py), without Rasa: its pages and headers."""
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    with Served(tmp_path, ShopperChannelSettings()) as running:
        yield running


def test_every_page_of_the_real_server_refuses_to_be_framed(
    real_server: Served, browser_page: Page
) -> None:
    page = browser_page
    paths = ["/", "/agent/", *(f"/static/{p.name}" for p in sorted(STATIC.glob("*.html")))]
    for path in paths:
        answer = page.goto(real_server.url + path)
        assert answer is not None and answer.status == 200, path
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path

    page.goto("about:blank")  # an attacker's page framing the console
    framing = ("/agent/", "/static/console.html")
    frames = "".join(f'<iframe src="{real_server.url}{path}"></iframe>' for path in framing)
    page.set_content(frames)
    page.wait_for_load_state("load")
    assert [frame.url for frame in page.frames[1:]] == ["chrome-error://chromewebdata/"] * 2
