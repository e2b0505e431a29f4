"""The live page in headless Chromium: log in, negotiate WebRTC, play video."""

from __future__ import annotations

import ast
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page

from devices.cameras.health import FailureReason, StreamState
from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.browser import chromium
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService, running_service
from wall.api.handlers import _HTTP_CODES
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings

pytestmark = [pytest.mark.rtsp, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Mean luma of the displayed picture, read back through a canvas.
_MEAN_LUMA_JS = """(id) => {
  const v = document.querySelector(`section[data-camera="${id}"] video`);
  const c = document.createElement('canvas');
  c.width = 160; c.height = 90;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, 160, 90);
  const d = g.getImageData(0, 0, 160, 90).data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i+1] + 0.114 * d[i+2];
  return sum / (d.length / 4);
}"""


async def test_browser_plays_relayed_h264_with_the_camera_profile(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        streams=FAST_POLICY,
        cameras=(camera("gate", rtsp_server.url("/main"), rtsp_server.url("/sub")),),
    )
    async with running_service(settings) as svc, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        token = svc.tokens[Role.VIEWER]
        await page.goto(f"{svc.base_url}/live?camera=gate&stream=main#token={token}")
        # video plays: currentTime advances and frames are decoded
        await page.wait_for_function(
            """() => { const v = document.querySelector('video');
                       return v && v.currentTime > 1.0 && v.getVideoPlaybackQuality().totalVideoFrames > 20 }""",
            timeout=20_000,
        )
        quality = await page.evaluate(
            """() => { const v = document.querySelector('video'); const q = v.getVideoPlaybackQuality();
                       return {w: v.videoWidth, h: v.videoHeight, frames: q.totalVideoFrames,
                               codec: window.citywall.tiles.get('gate').codec,
                               state: window.citywall.tiles.get('gate').state} }"""
        )
        assert (quality["w"], quality["h"]) == (1920, 1080)
        # H.264 negotiated (never VP8) with the camera's High profile, or Main
        # where the browser offers no High (Debian's Chromium)
        offered = await page.evaluate(
            """async () => { const pc = new RTCPeerConnection(); pc.addTransceiver('video');
                             const o = await pc.createOffer(); pc.close(); return o.sdp }"""
        )
        expected = "H264/64001f" if "profile-level-id=64" in offered else "H264/4d001f"
        assert quality["codec"] == expected, quality
        assert await page.evaluate(_MEAN_LUMA_JS, "gate") > 10.0  # not a black tile
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "live_gate.png"))
        assert errors == []


@asynccontextmanager
async def _live_page(tmp_path: Path) -> AsyncIterator[tuple[RunningService, Page]]:
    """A service without cameras and its live page, not logged in."""
    settings = Settings(storage=StorageSettings(data_dir=tmp_path / "data"))
    async with running_service(settings) as svc, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{svc.base_url}/live")
        yield svc, page


async def test_login_form_rejects_a_bad_token_and_switches_language(
    tmp_path: Path,
) -> None:
    async with _live_page(tmp_path) as (svc, page):
        assert await page.locator("h1").inner_text() == "实时视频"
        await page.fill("#token", "not-a-token")
        await page.click("form#login button[type=submit]")
        await page.wait_for_function(
            "() => document.getElementById('login-error').textContent.length > 0"
        )
        assert await page.locator("#login-error").inner_text() == "令牌无效"
        await page.click("#lang")
        assert await page.locator("h1").inner_text() == "Live video"
        await page.fill("#token", svc.tokens[Role.OPERATOR])
        await page.click("form#login button[type=submit]")
        await page.wait_for_function(
            "() => document.getElementById('who').textContent.includes('operator')"
        )


async def test_logout_on_the_live_page_stays_logged_out(tmp_path: Path) -> None:
    # Found (issue 10): the #token= fragment logged straight back in on reload.
    settings = Settings(storage=StorageSettings(data_dir=tmp_path / "data"))
    async with running_service(settings) as svc, chromium() as browser:
        page = await browser.new_page()
        token = svc.tokens[Role.VIEWER]
        await page.goto(f"{svc.base_url}/live#token={token}")
        await page.wait_for_function(
            "() => document.getElementById('who').textContent.includes('viewer')"
        )
        # the token left the address (and the history entry) once it was read
        assert await page.evaluate("() => location.hash") == ""
        assert token not in page.url
        async with page.expect_navigation():
            await page.click("#logout")
        await page.locator("#login").wait_for(state="visible")
        await page.reload()
        await page.locator("#login").wait_for(state="visible")
        assert await page.evaluate("() => window.citywall.token") is None
        assert await page.locator("#logout").is_hidden()
        assert token not in page.url


@pytest.mark.parametrize("path", ["/live", "/wall/duty", "/console"])
async def test_every_page_takes_the_token_out_of_the_url(
    tmp_path: Path, path: str
) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        walls=(WallSettings(id="duty", name="值班席", rows=2, cols=2),),
    )
    async with running_service(settings) as svc, chromium() as browser:
        page = await browser.new_page()
        token = svc.tokens[Role.DUTY_OFFICER]
        # logged in: the page opens the event socket with the token
        async with page.expect_websocket(
            lambda ws: ws.url.endswith("/api/v1/ws?access_token=" + token)
        ):
            await page.goto(f"{svc.base_url}{path}#lang=en&token={token}")
        assert await page.evaluate("() => location.hash") == "#lang=en"
        assert token not in page.url
        await page.reload()  # the tab remembers the login, not the address
        assert await page.evaluate("() => sessionStorage.length") == 1
        assert token not in page.url


# The error classes whose first argument is an API error code.
_ERROR_BASES = {"ServiceError", "NotFound", "Malformed", "Invalid", "Forbidden"}
_ERROR_BASES |= {"Conflict", "Unsupported", "Busy", "Unavailable", "AlarmStateError"}


def _raised_codes() -> set[str]:
    """Every literal code the service raises: ``SomeError("code", …)`` in wall/."""
    trees = [ast.parse(p.read_text("utf-8")) for p in (ROOT / "wall").rglob("*.py")]
    errors = set(_ERROR_BASES)
    for tree in trees:  # subclasses (one level of indirection is all the code has)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in _ERROR_BASES for b in node.bases
            ):
                errors.add(node.name)
    return {
        node.args[0].value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in errors
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        # a code is snake_case; errors that take a message first (StoreError) are not
        and re.fullmatch(r"[a-z][a-z0-9_]*", node.args[0].value)
    }


_CATALOGUE_KEYS_JS = """async () => Promise.all(['en', 'zh-CN'].map(async (lang) =>
    Object.keys((await import(`/static/i18n/${lang}.js`)).default)))"""


async def test_both_catalogues_name_every_code_the_service_sends(
    tmp_path: Path,
) -> None:
    async with _live_page(tmp_path) as (_, page):
        en, zh = await page.evaluate(_CATALOGUE_KEYS_JS)
    assert sorted(en) == sorted(zh)
    codes = _raised_codes() | set(_HTTP_CODES.values())
    codes |= {"http_error", "invalid_request", "network", "unknown"}
    codes |= {f"camera_{s.value}" for s in StreamState}  # the relay's camera_{state}
    assert len(codes) > 30, codes  # the scan found the service's codes
    expected = {f"error.{c}" for c in codes} | {
        f"reason.{r.value}" for r in FailureReason
    }
    expected |= {f"role.{r.value}" for r in Role} | {
        f"stream.{s.value}" for s in StreamState
    }
    assert expected - set(en) == set()
