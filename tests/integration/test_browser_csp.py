"""Every page works under the service's Content Security Policy (issue 10).

Headless Chromium opens the live, wall and console pages (with real cameras,
so WebRTC video and WebSockets run) and the API docs, and records each CSP
violation the browser reports: there must be none, and each page must still
do its job.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.integration.camera_helpers import (
    FAST_POLICY,
    four_cameras,
    wall_site,
)
from tests.support.browser import chromium
from tests.support.rtsp_server import RtspServer
from tests.support.service import running_service
from wall.config.settings import Settings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings

pytestmark = [pytest.mark.rtsp, pytest.mark.browser]

_RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
                    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""

_VIDEO_PLAYS = """() => [...document.querySelectorAll('video')]
    .some(v => v.currentTime > 0.3)"""

_PAGES = {
    "/live?camera=demo-1#token={token}": _VIDEO_PLAYS,
    "/wall/main#token={token}": _VIDEO_PLAYS,
    "/console#token={token}": "() => document.querySelectorAll('#layouts > *').length > 0",
    "/docs": "() => document.querySelectorAll('.opblock').length > 5",
    "/redoc": "() => document.querySelectorAll('[data-section-id]').length > 5",
}
"""Each page and what it shows when it works."""


def _site(tmp_path: Path, rtsp: RtspServer) -> Settings:
    cameras = four_cameras(rtsp.url("/main"), rtsp.url("/sub"))
    main = WallSettings(
        id="main", name="主屏", rows=2, cols=2, default_layout="mixed_2x2"
    )
    return wall_site(tmp_path, cameras, main, streams=FAST_POLICY)


async def _violations(page: Page, url: str, works_js: str) -> list[str]:
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )
    await page.add_init_script(_RECORD_VIOLATIONS)
    await page.goto(url)
    try:
        await page.wait_for_function(works_js, timeout=20_000)
        failed = []
    except PlaywrightTimeout:
        failed = [f"the page did not work: {works_js}"]
    seen: list[str] = await page.evaluate("() => window.__csp")
    return failed + seen + console


async def test_pages_work_without_a_single_csp_violation(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with (
        running_service(_site(tmp_path, rtsp_server)) as svc,
        chromium() as browser,
    ):
        token = svc.tokens[Role.ADMIN]
        found = {}
        for path, works_js in _PAGES.items():
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            try:
                url = svc.base_url + path.format(token=token)
                found[path] = await _violations(page, url, works_js)
            finally:
                await page.close()
        assert found == {path: [] for path in _PAGES}
