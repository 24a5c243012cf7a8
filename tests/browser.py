"""Debian's chromium driven by Playwright, for the widget's and the console's browser tests.

Playwright never downloads a browser here: it starts /usr/bin/chromium (scripts/bootstrap
installs it), with the flags this closed network needs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("SHOPDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get("SHOPDESK_ARTIFACTS")
    or Path(__file__).resolve().parents[1] / "var" / "artifacts" / "browser"
)


def screenshot(page: Any, name: str) -> Path | None:
    """Save a screenshot as a test artifact; a failure to save never fails a test."""
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=False)
    except Exception:
        return None
    return path
