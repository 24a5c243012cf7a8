"""Page fixtures for tests/web, on the shared `browser` (tests/conftest.py, tests/browser.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser import screenshot as save_screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """screenshot(page, "label") saves <test name>-<label>.png; errors are ignored."""

    def take(page: Page, label: str) -> None:
        save_screenshot(page, f"{request.node.name}-{label}")

    return take


@pytest.fixture
def browser_page(browser: Browser, screenshot: Callable[[Page, str], None]) -> Iterator[Page]:
    """A page in a fresh browser context (its own storage), 1280x800; screenshot at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        yield page
    finally:
        screenshot(page, "end")
        context.close()


@pytest.fixture
def page_errors(browser_page: Page) -> list[str]:
    """browser_page's uncaught exceptions, console errors (a CSP violation is one) and failed
    requests (but the favicon's)."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # a failed request is also logged as "Failed to load resource", without its URL
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    def response(answer: Response) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {answer.status}: {answer.url}")

    browser_page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    browser_page.on("console", console)
    browser_page.on("response", response)
    browser_page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    return errors
