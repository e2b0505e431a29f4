"""The wall and console pages in headless Chromium (real service, real cameras)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, WebSocket

from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.browser import chromium
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService, running_service
from wall.alarms.core import Originator, Severity
from wall.config.settings import Settings, StorageSettings
from wall.detection.analysis import CameraAnalysis
from wall.detection.topics import DETECTION_ANALYSIS
from wall.platform.auth import Role
from wall.platform.wire import parse_wire_time
from wall.walls.settings import WallSettings

pytestmark = [pytest.mark.rtsp, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEPARTMENTS = [
    "grid",
    "flood_drought",
    "emergency",
    "civil_air_defence",
    "urban_mgmt",
    "mixed",
]


def site(tmp_path: Path, rtsp: RtspServer) -> Settings:
    cams = tuple(
        camera(f"demo-{i}", rtsp.url("/main"), rtsp.url("/sub")) for i in range(1, 5)
    )
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        streams=FAST_POLICY,
        cameras=cams,
        walls=(
            WallSettings(
                id="main", name="主屏", rows=2, cols=2, default_layout="mixed_2x2"
            ),
        ),
    )


async def revision_on(page: Page) -> int:
    value = await page.evaluate("() => window.citywallWall.revision")
    return int(value) if value is not None else -1


async def test_panels_follow_switches_and_play_video(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with (
        running_service(site(tmp_path, rtsp_server)) as svc,
        chromium() as browser,
    ):
        # a display token of this wall: only such tokens' acks count (issue 10)
        token = (
            await svc.runtime.store.create_token("main-display", "viewer", "main")
        ).secret
        pages = []
        for row in range(2):
            for col in range(2):
                page = await browser.new_page(viewport={"width": 640, "height": 360})
                await page.goto(
                    f"{svc.base_url}/wall/main?panel={row},{col}#token={token}"
                )
                pages.append(page)
        for page in pages:
            await page.wait_for_function(
                "() => window.citywallWall.revision >= 1", timeout=10_000
            )
        # camera tiles play real video (W: video uses the WebRTC relay)
        playing_js = """() => [...document.querySelectorAll('.tile[data-kind="camera"] video')]
                                .some(v => v.currentTime > 0.5)"""
        cameras_on = [
            p for p in pages if await p.locator('.tile[data-kind="camera"]').count()
        ]
        assert cameras_on, "the layout shows no camera tile"
        for page in cameras_on:
            await page.wait_for_function(playing_js, timeout=20_000)
        async with httpx.AsyncClient(base_url=svc.base_url) as c:
            for domain in ("flood_drought", "emergency"):
                r = await c.post(
                    "/api/v1/walls/main/layout",
                    json={"layout_id": f"{domain}_2x2"},
                    headers=svc.auth(Role.DUTY_OFFICER),
                )
                revision = r.json()["revision"]
                done, wall = await _drawn_by_every_panel(c, svc, revision)
                # W12's timing (every panel within 1 s; p95 <= 200 ms) is measured by
                # bench/switch_latency against its limits; here: every panel drew it,
                # and says when in the wire's time format, after the switch
                assert wall["revision"] == revision
                activated_at = parse_wire_time(wall["activated_at"])
                for o in done:
                    assert o["applied_at"].endswith("Z"), o
                    assert parse_wire_time(o["applied_at"]) >= activated_at, o
                for page in pages:
                    assert await revision_on(page) >= revision
                    layouts = await page.evaluate(
                        "() => [...document.querySelectorAll('.panel')].map(p => p.dataset.layout)"
                    )
                    assert layouts == [f"{domain}_2x2"]


async def _drawn_by_every_panel(
    c: httpx.AsyncClient, svc: RunningService, revision: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The 4 displays' acks of ``revision`` on wall ``main``, and the wall then."""
    async with asyncio.timeout(5):
        while True:
            wall = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
            done = [
                o for o in wall["observed"] if (o["applied_revision"] or 0) >= revision
            ]
            if len(done) == 4:
                return done, wall
            await asyncio.sleep(0.05)


# No tile still negotiating: every camera plays or shows why not.
_SETTLED_JS = """() => [...document.querySelectorAll('.tile')]
    .every(t => t.dataset.state !== 'connecting')"""


async def test_every_department_layout_renders_and_is_screenshotted(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server)
    settings = settings.model_copy(
        update={"walls": (WallSettings(id="big", name="大屏", rows=3, cols=4),)}
    )
    ARTIFACTS.mkdir(exist_ok=True)
    async with (
        running_service(settings) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        page = await browser.new_page(viewport={"width": 1536, "height": 648})
        errors, polled = _watch(page)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        await page.goto(f"{svc.base_url}/wall/big#token={svc.tokens[Role.VIEWER]}")
        for domain in DEPARTMENTS:
            r = await c.post(
                "/api/v1/walls/big/layout",
                json={"layout_id": f"{domain}_4x3"},
                headers=svc.auth(),
            )
            revision = r.json()["revision"]
            await page.wait_for_function(
                f"() => window.citywallWall.revision >= {revision}", timeout=5000
            )
            tiles = await page.evaluate(
                "() => document.querySelectorAll('.tile').length"
            )
            assert tiles >= 6
            # honest placeholders for data that later capabilities bring, never fake numbers
            kinds = await page.evaluate(
                "() => [...document.querySelectorAll('.tile')].map(t => t.dataset.kind)"
            )
            if "sensor" in kinds or "alarm_list" in kinds:
                assert (
                    await page.locator(".placeholder", has_text="暂无数据").count() >= 1
                )
            await page.wait_for_function(_SETTLED_JS, timeout=20_000)
            await page.screenshot(path=str(ARTIFACTS / f"wall_{domain}_4x3.png"))
        assert errors == []
        # camera health, alarm lists and overlays share one event socket; the
        # display feed is the other one; overlays come over it, never polled
        paths = sorted(urlsplit(url).path for url in sockets)
        assert paths == ["/api/v1/walls/big/ws", "/api/v1/ws"]
        assert polled == []


async def test_console_switches_a_layout_by_clicking_and_pushes_a_camera(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with (
        running_service(site(tmp_path, rtsp_server)) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        await page.goto(f"{svc.base_url}/console#token={svc.tokens[Role.DUTY_OFFICER]}")
        await page.click('.layout-card[data-layout="urban_mgmt_2x2"] button.switch')
        async with asyncio.timeout(5):
            while (await c.get("/api/v1/walls/main", headers=svc.auth())).json()[
                "active_layout_id"
            ] != "urban_mgmt_2x2":
                await asyncio.sleep(0.05)
        await page.wait_for_selector(
            '.layout-card.active[data-layout="urban_mgmt_2x2"]'
        )
        # pick a tile, then a camera
        state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
        tile = next(
            t
            for p in state["panels"]
            for t in p["tiles"]
            if t["content"]["kind"] == "camera"
        )
        await page.click(f'#preview .t[data-tile="{tile["id"]}"]')
        await page.click('#cameras li[data-camera="demo-3"]')
        async with asyncio.timeout(5):
            while True:
                state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
                pushed = [
                    t
                    for p in state["panels"]
                    for t in p["tiles"]
                    if t["id"] == tile["id"]
                ]
                if pushed[0]["content"].get("camera_id") == "demo-3":
                    break
                await asyncio.sleep(0.05)
        await page.wait_for_function(
            "() => document.querySelectorAll('#audit li').length >= 2"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console.png"))


def _layout(
    layout_id: str, tiles: list[tuple[str, dict[str, Any], int, int]]
) -> dict[str, Any]:
    """A 2x2-wall layout of 16:9 tiles: (tile id, content, x, width)."""
    return {
        "version": 1,
        "id": layout_id,
        "name": layout_id,
        "domain": "mixed",
        "for_wall": {"rows": 2, "cols": 2, "panel_w_px": 1920, "panel_h_px": 1080},
        "tiles": [
            {
                "id": tile_id,
                "title": content.get("camera_id", tile_id),
                "rect": {"x": x, "y": 0, "w": w, "h": w * 9 // 16},
                "content": content,
            }
            for tile_id, content, x, w in tiles
        ],
    }


def _camera_layout(
    layout_id: str, tiles: list[tuple[str, str, int, int]]
) -> dict[str, Any]:
    """A 2x2-wall layout of camera tiles: (tile id, camera id, x, width)."""
    return _layout(
        layout_id,
        [
            (tile_id, {"kind": "camera", "camera_id": camera_id}, x, w)
            for tile_id, camera_id, x, w in tiles
        ],
    )


def _watch(page: Page) -> tuple[list[str], list[str]]:
    """The page's script errors and its polls of ``/analysis``, as they happen."""
    errors: list[str] = []
    polled: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: polled.append(r.url) if "/analysis" in r.url else None)
    return errors, polled


@dataclass
class _PanelPage:
    svc: RunningService
    page: Page
    errors: list[str]
    polled: list[str]


@asynccontextmanager
async def _panel_page(
    tmp_path: Path, rtsp: RtspServer, layout: dict[str, Any]
) -> AsyncIterator[_PanelPage]:
    """The service showing ``layout`` on wall ``main``, and panel 0,0's page."""
    async with (
        running_service(site(tmp_path, rtsp)) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        await _show(svc, c, layout)
        page = await browser.new_page(viewport={"width": 960, "height": 540})
        errors, polled = _watch(page)
        await page.goto(
            f"{svc.base_url}/wall/main?panel=0,0#token={svc.tokens[Role.VIEWER]}"
        )
        yield _PanelPage(svc, page, errors, polled)


async def _show(
    svc: RunningService, c: httpx.AsyncClient, layout: dict[str, Any]
) -> None:
    """Saves ``layout`` and puts it on wall ``main``."""
    r = await c.post("/api/v1/layouts", json=layout, headers=svc.auth())
    assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/walls/main/layout",
        json={"layout_id": layout["id"]},
        headers=svc.auth(),
    )
    assert r.status_code == 200, r.text


async def test_a_switch_keeps_the_session_of_a_camera_both_layouts_show(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    # Milestone-style seamless switching: a camera in the old and the new
    # layout keeps playing in its new tile (same session, no renegotiation);
    # only the cameras that change are hung up and called.
    async with (
        running_service(site(tmp_path, rtsp_server)) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        relay = svc.runtime.relay
        first = _camera_layout(
            "first", [("a", "demo-1", 0, 640), ("b", "demo-2", 640, 640)]
        )
        # y is 1280x720 in wall pixels: main on a full-size panel, but drawn at
        # half size on this page, so sub like a: the session carries over
        second = _camera_layout(
            "second", [("x", "demo-3", 0, 640), ("y", "demo-1", 640, 1280)]
        )
        for layout in (first, second):
            r = await c.post("/api/v1/layouts", json=layout, headers=svc.auth())
            assert r.status_code == 201, r.text
        r = await c.post(
            "/api/v1/walls/main/layout", json={"layout_id": "first"}, headers=svc.auth()
        )
        assert r.status_code == 200
        page = await browser.new_page(viewport={"width": 960, "height": 540})
        await page.goto(
            f"{svc.base_url}/wall/main?panel=0,0#token={svc.tokens[Role.VIEWER]}"
        )
        playing = """(ids) => ids.every(id => {
            const v = document.querySelector(`.tile[data-tile="${id}"] video`);
            return v && v.currentTime > 0.3; })"""
        await page.wait_for_function(playing, arg=["a", "b"], timeout=20_000)
        # the small tiles ask for the sub stream, chosen by the server
        state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
        roles = {
            t["id"]: t["content"]["stream_role"]
            for p in state["panels"]
            for t in p["tiles"]
        }
        assert roles == {"a": "sub", "b": "sub"}
        before = {
            (s["camera_id"], s["stream"]): s["session_id"] for s in relay.sessions()
        }
        assert set(before) == {("demo-1", "sub"), ("demo-2", "sub")}
        await page.evaluate(
            """() => { document.querySelector('.tile[data-tile="a"] video').dataset.mark = "kept"; }"""
        )
        r = await c.post(
            "/api/v1/walls/main/layout",
            json={"layout_id": "second"},
            headers=svc.auth(),
        )
        revision = r.json()["revision"]
        await page.wait_for_function(
            "(r) => window.citywallWall.revision >= r", arg=revision, timeout=5_000
        )
        # the very <video> of demo-1 moved to tile y and keeps playing
        assert (
            await page.evaluate(
                """() => document.querySelector('.tile[data-tile="y"] video')?.dataset.mark"""
            )
            == "kept"
        )
        t0 = await page.evaluate(
            """() => document.querySelector('.tile[data-tile="y"] video').currentTime"""
        )
        await page.wait_for_function(
            """(t0) => document.querySelector('.tile[data-tile="y"] video').currentTime > t0 + 0.5""",
            arg=t0,
            timeout=5_000,
        )
        await page.wait_for_function(playing, arg=["x"], timeout=20_000)
        async with asyncio.timeout(5):  # demo-2's hang-up reaches the server
            while True:
                after = {
                    (s["camera_id"], s["stream"]): s["session_id"]
                    for s in relay.sessions()
                }
                if set(after) == {("demo-1", "sub"), ("demo-3", "sub")}:
                    break
                await asyncio.sleep(0.05)
        assert after[("demo-1", "sub")] == before[("demo-1", "sub")]
        # the API renders for a full-size panel, where y needs the main stream
        state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
        roles = {
            t["id"]: t["content"]["stream_role"]
            for p in state["panels"]
            for t in p["tiles"]
        }
        assert roles == {"x": "sub", "y": "main"}


# The tour tile's own element: it names the camera it shows in data-camera.
_TOUR = '.tile[data-tile="t"] .content > [data-camera]'
_TOUR_PLAYS = """(sel) => { const el = document.querySelector(sel);
    const v = el && [...el.querySelectorAll('video')]
        .find(v => v.parentElement.style.visibility !== 'hidden');
    return !!(el && el.dataset.camera && v && v.currentTime > 0.3); }"""


def _tour_step(
    camera_id: str | None, next_camera_id: str | None = None, status: str = "playing"
) -> str:
    """The page script that plays one display-feed tour message (the contract)."""
    switch_at = (
        "new Date(Date.now() + 1000).toISOString()" if next_camera_id else "null"
    )
    msg = (
        f'{{type: "tour", tile_id: "t", status: "{status}", stream: "sub",'
        f" camera_id: {json.dumps(camera_id)}, next_camera_id: {json.dumps(next_camera_id)},"
        f" switch_at: {switch_at}}}"
    )
    return f"() => window.citywallWall.onFeedMessage({msg})"


async def test_a_tour_tile_shows_the_tour_state_the_service_sends(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    # The service computes every tour (T1-T6) and sends its state; the tile
    # shows camera_id, opens next_camera_id before switch_at (T3) and takes
    # that very session when the step arrives. Steps are played into the page
    # here so the test does not wait for a dwell.
    items = [{"camera_id": f"demo-{i}"} for i in (1, 2, 3)]
    tour = {"kind": "tour", "dwell_s": 3600, "items": items}
    layout = _layout("touring", [("t", tour, 0, 1920)])
    async with _panel_page(tmp_path, rtsp_server, layout) as shown:
        page = shown.page
        await page.wait_for_function(_TOUR_PLAYS, arg=_TOUR, timeout=20_000)
        first = await page.get_attribute(_TOUR, "data-camera")
        # the page shows the tour state the service reports
        async with httpx.AsyncClient(base_url=shown.svc.base_url) as c:
            wall = (await c.get("/api/v1/walls/main", headers=shown.svc.auth())).json()
        (served,) = [t for t in wall["tours"] if t["tile_id"] == "t"]
        held = await page.evaluate("() => window.citywallWall.tours.get('t') ?? null")
        assert held is not None and held["status"] == "playing", held
        assert held["camera_id"] == served["camera_id"] == first
        upcoming = next(i["camera_id"] for i in items if i["camera_id"] != first)
        await page.evaluate(_tour_step(first, upcoming))
        await page.wait_for_function(
            "(sel) => document.querySelector(sel).querySelectorAll('video').length === 2",
            arg=_TOUR,
            timeout=5_000,
        )
        await page.evaluate(
            f"""() => [...document.querySelectorAll('{_TOUR} video')]
                .find(v => v.parentElement.style.visibility === 'hidden').dataset.mark = 'next'"""
        )
        await page.evaluate(_tour_step(upcoming))
        assert await page.get_attribute(_TOUR, "data-camera") == upcoming
        marks = await page.evaluate(
            f"() => [...document.querySelectorAll('{_TOUR} video')].map(v => v.dataset.mark)"
        )
        assert marks == ["next"]  # the pre-opened session, the old one hung up
        await page.wait_for_function(_TOUR_PLAYS, arg=_TOUR, timeout=20_000)
        await page.evaluate(_tour_step(None, status="all_offline"))
        await page.locator(_TOUR, has_text="全部信号中断").wait_for(timeout=5_000)
        assert await page.locator(f"{_TOUR} video").count() == 0
        await page.evaluate(_tour_step(None, status="empty"))
        await page.locator(_TOUR, has_text="轮巡无可用摄像机").wait_for(timeout=5_000)
        assert shown.errors == []


def _analysis(camera_id: str, box: list[float]) -> CameraAnalysis:
    """A detection.analysis payload (GET /cameras/{id}/analysis plus camera_id)."""
    return CameraAnalysis.model_validate(
        {
            "camera_id": camera_id,
            "state": "ok",
            "reason": None,
            "lagging": False,
            "stream": "sub",
            "fps_analysed": 4.0,
            "frames_analysed": 1,
            "frames_skipped_stale": 0,
            "frames_skipped_unchanged": 0,
            "last_frame_age_s": 0.1,
            "frame_wh": [640, 360],
            "zones": [],
            "boxes": [{"track_id": 1, "label": "person", "score": 0.9, "xyxy": box}],
        }
    )


# Blue box pixels on the overlay, in its left and right halves.
_BLUE_HALVES_JS = """() => { const c = document.querySelector('canvas.overlay');
    if (!c || !c.width) return [0, 0];
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const n = [0, 0];
    for (let i = 0; i < d.length; i += 4) {
      if (d[i+3] > 0 && d[i+2] > 200 && d[i] < 100) n[(i / 4) % c.width < c.width / 2 ? 0 : 1]++;
    }
    return n; }"""


async def test_detection_overlay_draws_analysis_events_without_polling(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    camera = {"kind": "camera", "camera_id": "demo-1", "overlay_detections": True}
    layout = _layout("overlay", [("cam", camera, 0, 1920)])
    async with _panel_page(tmp_path, rtsp_server, layout) as shown:
        page, bus = shown.page, shown.svc.runtime.bus
        await page.wait_for_selector("canvas.overlay", timeout=10_000)

        async def publish() -> None:  # the detector's rate, until the page draws
            while True:
                bus.emit(DETECTION_ANALYSIS, _analysis("demo-1", [20, 20, 300, 340]))
                # another camera's analysis: never drawn on this tile
                bus.emit(DETECTION_ANALYSIS, _analysis("demo-2", [340, 20, 620, 340]))
                await asyncio.sleep(0.25)

        async with asyncio.TaskGroup() as tg:
            publisher = tg.create_task(publish())
            await page.wait_for_function(
                f"() => ({_BLUE_HALVES_JS})()[0] > 0", timeout=10_000
            )
            publisher.cancel()
        left, right = await page.evaluate(_BLUE_HALVES_JS)
        assert left > 0 and right == 0
        # no analysis for a while: the boxes are out of date and go
        await page.wait_for_function(
            f"() => ({_BLUE_HALVES_JS})()[0] === 0", timeout=10_000
        )
        assert shown.polled == []


def _alarm_wall(tmp_path: Path) -> Settings:
    """A site without cameras: wall ``main`` shows a layout with an alarm list."""
    wall = WallSettings(
        id="main", name="主屏", rows=2, cols=2, default_layout="emergency_2x2"
    )
    return Settings(storage=StorageSettings(data_dir=tmp_path / "data"), walls=(wall,))


async def test_the_event_socket_reconnects_and_resyncs_the_alarm_list_once(
    tmp_path: Path,
) -> None:
    # The server drops the page's event socket (as when it restarts a worker);
    # an alarm raised meanwhile reaches the page by the resync after it
    # resubscribes, later ones by events again.
    async with running_service(_alarm_wall(tmp_path)) as svc, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors, _ = _watch(page)
        sockets: list[str] = []
        snapshots: list[str] = []
        page.on("websocket", lambda ws: sockets.append(urlsplit(ws.url).path))
        page.on(
            "request",
            lambda r: (
                snapshots.append(r.url)
                if urlsplit(r.url).path == "/api/v1/alarms"
                else None
            ),
        )
        await page.goto(f"{svc.base_url}/wall/main#token={svc.tokens[Role.VIEWER]}")
        await page.wait_for_function("() => window.citywallAlarms?.loaded === true")
        loaded = len(snapshots)
        bus, alarms = svc.runtime.bus, svc.runtime.alarms
        (socket,) = [s for s in list(bus._subs) if s.wants("alarm.raised")]
        bus.unsubscribe(socket)  # its sender ends: the server closes the socket
        await alarms.raise_(
            "water_level", Originator("station", "a"), Severity.CRITICAL
        )
        await page.wait_for_selector('.alarm-list[data-count="1"]', timeout=10_000)
        assert sockets.count("/api/v1/ws") == 2
        await alarms.raise_(
            "water_level", Originator("station", "b"), Severity.CRITICAL
        )
        await page.wait_for_selector('.alarm-list[data-count="2"]', timeout=5_000)
        assert len(snapshots) == loaded + 1  # one resync, the second alarm by its event
        assert errors == []


async def test_a_display_refused_for_good_says_why_and_stays_closed(
    tmp_path: Path,
) -> None:
    # 4403: a display token bound to another wall; 4404: no such wall. A retry
    # cannot help either, so the page says why instead of "reconnecting".
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        walls=(WallSettings(id="main", name="主屏", rows=1, cols=1),),
    )
    async with running_service(settings) as svc, chromium() as browser:
        bound = await svc.runtime.store.create_token("side-display", "viewer", "side")
        cases = {  # wall, token -> what the status line says
            ("main", bound.secret): "此令牌无权",
            ("nope", svc.tokens[Role.VIEWER]): "大屏不存在",
        }
        opened: list[str] = []  # every page's sockets (the feed's path names its wall)
        for (wall_id, token), text in cases.items():
            page = await browser.new_page()
            page.on("websocket", lambda ws: opened.append(urlsplit(ws.url).path))
            await page.goto(f"{svc.base_url}/wall/{wall_id}#token={token}")
            await page.locator("#status.bad", has_text=text).wait_for(timeout=5_000)
        # longer than the first retry's delay (at most 1.25 s): none came
        await asyncio.sleep(2)
        for wall_id, _ in cases:
            assert opened.count(f"/api/v1/walls/{wall_id}/ws") == 1, opened


async def test_a_second_login_leaves_one_of_everything(tmp_path: Path) -> None:
    # The login form builds the page again: the first login's sockets, alarm
    # feed and tiles are closed, not left running beside the new ones.
    async with (
        running_service(_alarm_wall(tmp_path)) as svc,
        chromium() as browser,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors, _ = _watch(page)
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws: sockets.append(ws))
        token = svc.tokens[Role.VIEWER]
        await page.goto(f"{svc.base_url}/wall/main#token={token}")
        await page.wait_for_function("() => window.citywallAlarms?.loaded === true")
        await page.evaluate(
            """(token) => { document.getElementById('token').value = token;
                            document.getElementById('login').requestSubmit(); }""",
            token,
        )
        await page.wait_for_function(
            "() => window.citywallAlarms?.loaded === true && window.citywallWall.revision >= 1"
        )
        async with asyncio.timeout(5):  # the first login's sockets close
            while sum(not ws.is_closed() for ws in sockets) != 2:
                await asyncio.sleep(0.05)
        assert len(sockets) == 4
        wall = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
        assert len(wall["observed"]) == 1  # one display attached
        bus = svc.runtime.bus
        assert sum(s.wants("alarm.raised") for s in list(bus._subs)) == 1
        pieces = sum(
            len(p["tiles"]) for p in wall["panels"]
        )  # a tile per panel it spans
        assert await page.locator(".tile").count() == pieces
        assert errors == []
