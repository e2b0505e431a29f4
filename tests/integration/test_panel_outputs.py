"""Composed panel outputs through the service API (MPEG-TS and WebRTC)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from pathlib import Path

import av
import httpx
import pytest
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription

from tests.integration.camera_helpers import (
    FAST_POLICY,
    four_cameras,
    wall_site,
)
from tests.support.rtsp_server import RtspServer
from tests.support.service import running_service
from wall.config.settings import Settings
from wall.platform.auth import Role
from wall.platform.wire import parse_wire_time
from wall.walls.settings import WallSettings

pytestmark = pytest.mark.rtsp


def site(tmp_path: Path, rtsp: RtspServer) -> Settings:
    cameras = four_cameras(rtsp.url("/main"), rtsp.url("/sub"))
    main = WallSettings(
        id="main",
        name="主屏",
        rows=2,
        cols=2,
        default_layout="mixed_2x2",
        composite_fps=10,
    )
    return wall_site(tmp_path, cameras, main, streams=FAST_POLICY)


async def test_a_panel_is_served_as_mpegts_a_decoder_can_play(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with running_service(site(tmp_path, rtsp_server)) as svc:
        async with httpx.AsyncClient(base_url=svc.base_url, timeout=20) as c:
            state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
            index = next(
                p["index"]
                for p in state["panels"]
                if any(t["content"]["kind"] in ("camera", "tour") for t in p["tiles"])
            )
            data = bytearray()
            token = svc.tokens[Role.VIEWER]
            async with c.stream(
                "GET",
                f"/api/v1/walls/main/panels/{index}/stream.ts?access_token={token}",
            ) as r:
                assert r.status_code == 200
                assert r.headers["content-type"] == "video/mp2t"
                async for chunk in r.aiter_bytes():
                    data += chunk
                    if len(data) > 400_000:
                        break
            assert (
                await c.get("/api/v1/walls/main/panels/9/stream.ts", headers=svc.auth())
            ).status_code == 404
            assert (
                await c.get(f"/api/v1/walls/main/panels/{index}/stream.ts")
            ).status_code == 401
        container = av.open(io.BytesIO(bytes(data)), mode="r", format="mpegts")
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) >= 5:
                break
        assert frames and (frames[0].width, frames[0].height) == (1920, 1080)


async def test_a_panel_is_served_over_webrtc(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with running_service(site(tmp_path, rtsp_server)) as svc:
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        got: asyncio.Future[tuple[int, int]] = (
            asyncio.get_running_loop().create_future()
        )

        @pc.on("track")
        def on_track(track: object) -> None:
            async def first() -> None:
                frame = await track.recv()  # type: ignore[attr-defined]
                if not got.done():
                    got.set_result((frame.width, frame.height))

            asyncio.ensure_future(first())  # noqa: RUF006 - ends with the track

        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(base_url=svc.base_url, timeout=20) as c:
            r = await c.post(
                "/api/v1/walls/main/panels/0/webrtc",
                json={"sdp": pc.localDescription.sdp},
                headers=svc.auth(Role.VIEWER),
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["source"] == "main/panel0" and body["codec"].startswith("H264/")
            await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], "answer"))
            assert await asyncio.wait_for(got, 15) == (1920, 1080)
            sessions = (await c.get("/api/v1/webrtc", headers=svc.auth())).json()[
                "sessions"
            ]
            assert any(s.get("source") == "main/panel0" for s in sessions)
        await pc.close()


TOURING = {
    "version": 1, "id": "touring", "name": "touring", "domain": "mixed",
    "for_wall": {"rows": 2, "cols": 2, "panel_w_px": 1920, "panel_h_px": 1080},
    "tiles": [{"id": "t", "rect": {"x": 0, "y": 0, "w": 960, "h": 540},
               "content": {"kind": "tour", "dwell_s": 3,
                           "items": [{"camera_id": "demo-1"},
                                     {"camera_id": "demo-2"}]}}],
}  # fmt: skip


async def test_t6_the_feed_and_the_panels_show_the_server_tour_switching_at_the_dwell(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    async with running_service(site(tmp_path, rtsp_server)) as svc:
        async with httpx.AsyncClient(base_url=svc.base_url, timeout=20) as c:
            r = await c.post("/api/v1/layouts", json=TOURING, headers=svc.auth())
            assert r.status_code == 201, r.text
            r = await c.post(
                "/api/v1/walls/main/layout",
                json={"layout_id": "touring"},
                headers=svc.auth(),
            )
            assert r.status_code == 200, r.text
            state = (await c.get("/api/v1/walls/main", headers=svc.auth())).json()
        (listed,) = state["tours"]  # the render carries the tour state too
        assert listed["tile_id"] == "t" and listed["status"] == "playing"
        token = svc.tokens[Role.VIEWER]
        url = svc.base_url.replace("http", "ws") + (
            f"/api/v1/walls/main/ws?panel=0&access_token={token}"
        )
        tours: list[dict[str, object]] = []
        async with websockets.connect(url) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["type"] == "wall_state"
            assert [t["tile_id"] for t in first["tours"]] == ["t"]
            while len({t["camera_id"] for t in tours}) < 2 or len(tours) < 3:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert msg["type"] == "tour", msg
                tours.append(msg)
                # composed panels show the camera the feed names (one state)
                composed = svc.runtime.panels.tiles("main", 0)
                assert composed[0].camera_id == msg["camera_id"]
    assert all(
        t["tile_id"] == "t" and t["status"] == "playing" and t["stream"] == "main"
        for t in tours  # 960x540 on a full-size panel: the sub stream is smaller
    )
    for before, after in itertools.pairwise(tours):
        if before["camera_id"] != after["camera_id"]:
            # the switch brings the camera announced, one dwell after the last
            assert after["camera_id"] == before["next_camera_id"]
            assert isinstance(before["switch_at"], str)
            assert isinstance(after["switch_at"], str)
            gap = parse_wire_time(after["switch_at"]) - parse_wire_time(
                before["switch_at"]
            )
            assert gap.total_seconds() == pytest.approx(3.0, abs=0.002)
