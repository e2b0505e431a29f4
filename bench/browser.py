"""Headless Chromium driven by Playwright, with the benchmark probes.

The probes (``bench/probes.js``) are injected before the live page's own
script; they only observe (timings of the offer, first displayed frame,
WebRTC statistics, barcodes of displayed frames) and can hang a tile's
session up on the server, which the live page itself does not do on close.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.cpu import descendants, parent_of
from bench.harness import CHROMIUM
from tests.support.browser import CHROMIUM_ARGS

PROBES_JS = Path(__file__).with_name("probes.js")
"""Timing and barcode probes injected into the live page."""


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[tuple[Browser, int]]:
    """Headless Debian Chromium; yields it with the Playwright driver's pid.

    The browser's processes are the driver's descendants, which lets
    :func:`browser_pids` account for their CPU.
    """
    me = os.getpid()
    before = set(descendants(me))
    async with async_playwright() as pw:
        new = [p for p in descendants(me) if p not in before and parent_of(p) == me]
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser, (new[0] if new else 0)
        finally:
            await browser.close()


def browser_pids(driver_pid: int) -> list[int]:
    """The live Chromium processes started through a Playwright driver."""
    return descendants(driver_pid) if driver_pid else []


async def open_live_page(
    browser: Browser, url: str, width: int = 960, height: int = 540
) -> Page:
    """A new page with the probes installed, navigated to ``url``."""
    page = await browser.new_page(viewport={"width": width, "height": height})
    await page.add_init_script(path=str(PROBES_JS))
    await page.goto(url)
    return page


async def tile_stats(page: Page) -> dict[str, dict[str, Any]]:
    """WebRTC receive statistics of every tile of a live page."""
    stats: dict[str, dict[str, Any]] = await page.evaluate(
        "() => window.__bench.tileStats()"
    )
    return stats


async def hang_up(page: Page, token: str) -> None:
    """End every tile's session on the server, then close the page."""
    await page.evaluate("t => window.__bench.hangUp(t)", token)
    await page.close()
