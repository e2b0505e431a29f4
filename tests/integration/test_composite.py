"""Composite panel output against the real RTSP server, decoders and libx264."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import (
    AbstractContextManager,
    AsyncExitStack,
    aclosing,
    asynccontextmanager,
)
from contextlib import ExitStack as DoesNotRaise
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from devices.cameras.camera import CameraStream
from devices.cameras.config import CameraConfig, StreamRole
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamState
from devices.cameras.packets import EncodedPacket, h264_has_parameter_sets
from devices.cameras.subscriber import PacketSubscriber
from layouts.rects import Rect
from tests.integration.camera_helpers import FAST_POLICY, Pace, camera, wait_state
from tests.support.fixtures import RtspServerFactory
from tests.support.rtsp_server import RtspServer
from wall.live.relay import LiveViewRelay
from wall.live.settings import WebRtcSettings
from wall.walls.panels.compositor import (
    ComposedTile,
    DecoderPool,
    PanelCompositor,
    PanelSpec,
    mpegts_chunks,
)
from wall.walls.panels.drawing import ascii_title

pytestmark = pytest.mark.rtsp

U8 = npt.NDArray[np.uint8]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SPEC = PanelSpec(fps=12.0, linger_s=0.5)
# four 900x500 tiles with 40 px gaps of background between them
T1, T2, T3, T4 = (
    Rect(40, 20, 900, 500),
    Rect(980, 20, 900, 500),
    Rect(40, 560, 900, 500),
    Rect(980, 560, 900, 500),
)


@pytest.mark.parametrize(
    ("title", "camera_id", "drawn"),
    [
        ("Gate A", "a", "Gate A"),
        ("东门 Gate 3", "c3", "Gate 3"),  # the ASCII part of a mixed title
        ("东门广场", "gate-3", "gate-3"),  # no ASCII word: the camera id
        ("东门广场", None, None),
        ("东门", "东", None),
        (None, "a", None),  # no title bar
        ("  tabs\tand\nbreaks  ", None, "tabs and breaks"),
    ],
)
def test_titles_are_drawn_ascii_safe(
    title: str | None, camera_id: str | None, drawn: str | None
) -> None:
    assert ascii_title(title, camera_id) == drawn


@pytest.mark.parametrize(
    ("size", "expectation"),
    [
        ((1920, 1080), DoesNotRaise()),
        ((1921, 1080), pytest.raises(ValueError, match="even")),
        ((0, 720), pytest.raises(ValueError, match="even")),
    ],
)
def test_panel_spec_needs_even_positive_sizes(
    size: tuple[int, int], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        PanelSpec(width=size[0], height=size[1])


@dataclass
class Panel:
    fleet: CameraFleet
    pool: DecoderPool
    compositor: PanelCompositor


def sub_of(fleet: CameraFleet) -> Callable[[str], CameraStream | None]:
    def lookup(camera_id: str) -> CameraStream | None:
        cam = fleet.cameras.get(camera_id)
        return None if cam is None else cam.stream(StreamRole.SUB)

    return lookup


def four_tiles() -> list[ComposedTile]:
    return [
        ComposedTile(T1, Rect(0, 0, 900, 500), "Gate A", "a"),
        # a Chinese title: drawn as the camera id
        ComposedTile(T2, Rect(0, 0, 900, 500), "东门", "b", alarm=True),
        ComposedTile(T3, Rect(0, 0, 900, 500), None, "a"),
        # the right half of a tile twice as wide (spanning two panels)
        ComposedTile(T4, Rect(900, 0, 900, 500), "Bridge", "b", tile_wh=(1800, 500)),
    ]


@asynccontextmanager
async def panel(
    cameras: list[CameraConfig],
    tiles: Callable[[], list[ComposedTile]],
    spec: PanelSpec = SPEC,
) -> AsyncIterator[Panel]:
    async with AsyncExitStack() as stack:
        fleet = await stack.enter_async_context(CameraFleet(cameras, FAST_POLICY))
        pool = await stack.enter_async_context(DecoderPool())
        compositor = await stack.enter_async_context(
            PanelCompositor(tiles, sub_of(fleet), spec, decoders=pool, label="p0")
        )
        yield Panel(fleet, pool, compositor)


class Decoder:
    """Decodes the composite's packets back with PyAV."""

    def __init__(self) -> None:
        self.codec = cast(Any, av.CodecContext.create("h264", "r"))
        self.frames = 0
        self.latest: Any = None

    def feed(self, packet: EncodedPacket) -> None:
        for frame in self.codec.decode(av.Packet(packet.data)):
            self.frames += 1
            self.latest = frame


def planes(frame: Any) -> tuple[U8, U8, U8]:
    i420: U8 = frame.to_ndarray()  # yuv420p -> (h * 3 / 2, w)
    h, w = frame.height, frame.width
    u = i420[h : h + h // 4].reshape(h // 2, w // 2)
    v = i420[h + h // 4 :].reshape(h // 2, w // 2)
    return i420[:h], u, v


def inner(r: Rect, margin: int = 60) -> tuple[slice, slice]:
    """Rows and columns of a tile's middle, clear of title, marker and border."""
    return slice(r.y + margin, r.y2 - margin), slice(r.x + margin, r.x2 - margin)


def tile_has_video(y: U8, r: Rect) -> bool:
    rows, cols = inner(r)
    area = y[rows, cols].astype(float)
    return bool(area.mean() > 40 and area.std() > 10)


def marker_colour(u: U8, v: U8, r: Rect) -> tuple[float, float]:
    """Mean (U, V) of the live marker (top right of a tile, 30 px units)."""
    x0, y0 = (r.x2 - 30) // 2, (r.y + 8) // 2
    return float(u[y0 : y0 + 8, x0 : x0 + 8].mean()), float(
        v[y0 : y0 + 8, x0 : x0 + 8].mean()
    )


async def until_picture(
    sub: PacketSubscriber,
    decoder: Decoder,
    ready: Callable[[Any], bool],
    timeout_s: float = 20.0,
) -> Any:
    """Feed packets until the newest decoded picture satisfies ``ready``."""
    async with asyncio.timeout(timeout_s):
        while True:
            decoder.feed(await sub.get())
            if decoder.latest is not None and ready(decoder.latest):
                return decoder.latest


def all_tiles_live(frame: Any) -> bool:
    y, u, v = planes(frame)
    if not all(tile_has_video(y, r) for r in (T1, T2, T3, T4)):
        return False
    # live markers turn green only once a camera delivers pictures
    return all(marker_colour(u, v, r)[1] < 90 for r in (T1, T2, T3, T4))


def decoder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("decoder ")]


async def test_panel_of_four_tiles_from_two_cameras(rtsp_server: RtspServer) -> None:
    cams = [camera("a", rtsp_server.url("/sub")), camera("b", rtsp_server.url("/main"))]
    async with panel(cams, four_tiles) as p:
        assert not p.compositor.running  # nothing composes without a viewer
        sub = p.compositor.subscribe("test")
        dec = Decoder()
        first = await asyncio.wait_for(sub.get(), 5)
        assert first.is_keyframe and h264_has_parameter_sets(first.data)
        dec.feed(first)
        frame = await until_picture(sub, dec, all_tiles_live)
        assert (frame.width, frame.height) == (1920, 1080)
        y, u, v = planes(frame)
        # tiles are pictures; the gaps between them are the black background
        for r in (T1, T2, T3, T4):
            rows, cols = inner(r)
            assert abs(float(y[rows, cols].mean()) - 16) > 25
        assert abs(float(y[530:550, 100:1800].mean()) - 16) < 4
        assert abs(float(y[100:1000, 945:975].mean()) - 16) < 4
        # the alarm tile (T2) has a red border all round; T1 has none
        ARTIFACTS.mkdir(exist_ok=True)
        cv2.imwrite(
            str(ARTIFACTS / "composite_panel.png"), frame.to_ndarray(format="bgr24")
        )
        for r, red in ((T2, True), (T1, False)):
            cx0, cy0, cx1, cy1 = r.x // 2, r.y // 2, r.x2 // 2, r.y2 // 2
            edges = [
                v[cy0 : cy0 + 3, cx0 + 20 : cx1 - 20],  # top (over the title bar)
                v[cy1 - 3 : cy1, cx0 + 20 : cx1 - 20],  # bottom
                v[cy0 + 20 : cy1 - 20, cx0 : cx0 + 3],  # left
                v[cy0 + 20 : cy1 - 20, cx1 - 3 : cx1],  # right
            ]
            if red:
                assert all(float(e.mean()) > 200 and e.min() > 150 for e in edges)
                assert float(u[cy1 - 3 : cy1, cx0 + 20 : cx1 - 20].mean()) < 110
            else:
                assert float(edges[0].mean()) < 180  # the dimmed title bar, no red
        # title bars are drawn: dark bar with bright text
        bar = y[T1.y + 4 : T1.y + 30, T1.x + 8 : T1.x + 200]
        assert bar.max() > 200 and np.median(bar) < 80
        # two cameras, four tiles: one shared decoder per camera
        assert len(p.pool) == 2 and len(decoder_threads()) == 2
        # encoded at the panel rate: each frame is stamped on the panel's own
        # clock of 1/fps ticks (a tick the encoder could not take in time is
        # dropped, not shifted), and those ticks keep up with real time
        n0 = dec.frames
        async with asyncio.timeout(10):
            run = [await sub.get() for _ in range(2 * int(SPEC.fps))]
        for packet in run:
            dec.feed(packet)
        assert dec.frames - n0 == len(run)  # every frame decodes
        ticks = [(p.pts_s or 0.0) * SPEC.fps for p in run]
        assert all(abs(t - round(t)) < 1e-6 for t in ticks), ticks
        assert all(b > a for a, b in itertools.pairwise(ticks)), ticks
        assert Pace.of(run).in_real_time(), Pace.of(run)
        # what composing costs is bench/composite_cost.py's figure, not a test's
        stats = p.compositor.stats()
        assert stats["errors"] == 0 and stats["frames"] >= len(run)

        # the last subscriber leaves: composition stops after the linger
        p.compositor.unsubscribe(sub)
        assert p.compositor.running
        async with asyncio.timeout(5):
            while p.compositor.running or len(p.pool):
                await asyncio.sleep(0.05)
        assert decoder_threads() == []
        for cid in ("a", "b"):
            stream = p.fleet.cameras[cid].stream(StreamRole.SUB)
            assert stream.health().viewers == 0
            await wait_state(stream, StreamState.IDLE, timeout_s=5)
        # a new subscriber starts a new composition
        sub2 = p.compositor.subscribe("again")
        again = await asyncio.wait_for(sub2.get(), 5)
        assert again.is_keyframe and p.compositor.sessions == 2
        p.compositor.unsubscribe(sub2)


async def test_mpegts_stream_demuxes_into_h264(rtsp_server: RtspServer) -> None:
    cams = [camera("a", rtsp_server.url("/sub"))]

    def tiles() -> list[ComposedTile]:
        return [ComposedTile(Rect(0, 0, 1280, 720), Rect(0, 0, 1280, 720), "A", "a")]

    spec = PanelSpec(width=1280, height=720, fps=10.0, gop_s=1.0, linger_s=0.3)
    async with panel(cams, tiles, spec) as p:
        data = bytearray()
        async with aclosing(mpegts_chunks(p.compositor)) as chunks:
            assert p.compositor.subscriber_count == 0  # subscribes when iterated
            async for chunk in chunks:
                assert p.compositor.subscriber_count == 1
                data += chunk
                if len(data) > 200_000 and p.compositor.stats().get("frames", 0) > 25:
                    break
        assert p.compositor.subscriber_count == 0
        assert len(data) % 188 == 0 and data[0] == 0x47  # TS sync bytes
        container = av.open(io.BytesIO(bytes(data)), "r", format="mpegts")
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        packets = [pk for pk in container.demux(video) if pk.size]
        assert len(packets) >= 20 and packets[0].is_keyframe
        assert sum(1 for pk in packets if pk.is_keyframe) >= 2  # 1 s GOP
        dts = [pk.dts for pk in packets if pk.dts is not None]
        assert len(dts) == len(packets) and dts == sorted(set(dts))
        frames = [f for pk in packets for f in video.codec_context.decode(pk)]
        assert len(frames) >= 15 and (frames[0].width, frames[0].height) == (1280, 720)
        container.close()
        async with asyncio.timeout(5):
            while p.compositor.running:
                await asyncio.sleep(0.05)


async def test_lost_camera_keeps_its_last_picture_dimmed_with_a_red_marker(
    private_rtsp_server: RtspServerFactory, rtsp_server: RtspServer
) -> None:
    server = private_rtsp_server()
    cams = [camera("a", rtsp_server.url("/sub")), camera("x", server.url("/sub"))]
    left, right = Rect(0, 0, 960, 540), Rect(960, 0, 960, 540)

    def tiles() -> list[ComposedTile]:
        return [
            ComposedTile(left, Rect(0, 0, 960, 540), "A", "a"),
            ComposedTile(right, Rect(0, 0, 960, 540), "X", "x"),
            ComposedTile(Rect(0, 540, 960, 540), Rect(0, 0, 960, 540), "?", "nope"),
        ]

    async with panel(cams, tiles) as p:
        sub = p.compositor.subscribe("test")
        dec = Decoder()

        def both_live(frame: Any) -> bool:
            y, u, v = planes(frame)
            return all(
                tile_has_video(y, r) and marker_colour(u, v, r)[1] < 90
                for r in (left, right)
            )

        frame = await until_picture(sub, dec, both_live)
        y_live = planes(frame)[0]
        _, u, v = planes(frame)
        # an unknown camera: grey placeholder with a red marker
        assert marker_colour(u, v, Rect(0, 540, 960, 540))[1] > 200
        server.stop()  # camera x is lost

        def x_lost(frame: Any) -> bool:
            return marker_colour(*planes(frame)[1:], right)[1] > 200

        frame = await until_picture(sub, dec, x_lost)
        ARTIFACTS.mkdir(exist_ok=True)
        cv2.imwrite(
            str(ARTIFACTS / "composite_lost.png"), frame.to_ndarray(format="bgr24")
        )
        y, u, v = planes(frame)
        rows, cols = inner(right)
        dimmed, before = float(y[rows, cols].mean()), float(y_live[rows, cols].mean())
        assert 16 < dimmed < 0.6 * before  # the last picture, dimmed
        assert float(y[rows, cols].std()) > 3  # still a picture, not a fill
        assert marker_colour(u, v, left)[1] < 90  # the other camera stays live
        p.compositor.unsubscribe(sub)


async def test_webrtc_relay_serves_the_composed_panel(
    rtsp_server: RtspServer,
) -> None:
    cams = [camera("a", rtsp_server.url("/sub"))]

    def tiles() -> list[ComposedTile]:
        return [ComposedTile(Rect(0, 0, 1280, 720), Rect(0, 0, 1280, 720), "A", "a")]

    spec = PanelSpec(width=1280, height=720, linger_s=0.3)
    async with (
        panel(cams, tiles, spec) as p,
        LiveViewRelay(WebRtcSettings()) as relay,
    ):
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        @pc.on("track")
        def on_track(track: Any) -> None:
            async def first_frame() -> None:
                frame = await track.recv()
                if not got.done():
                    got.set_result(frame)

            asyncio.ensure_future(first_frame())  # noqa: RUF006 - ends with the track

        try:
            await pc.setLocalDescription(await pc.createOffer())
            answer = await relay.offer_source(
                p.compositor,
                pc.localDescription.sdp,
                p.compositor.profile_level_id,
                "wall1/panel0",
            )
            assert answer.codec.startswith("H264/42e0")  # constrained baseline
            assert relay.sessions()[0]["source"] == "wall1/panel0"
            assert p.compositor.subscriber_count == 1
            await pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
            frame = await asyncio.wait_for(got, 15)
            assert (frame.width, frame.height) == (1280, 720)
            assert await relay.close_session(answer.session_id)
            assert p.compositor.subscriber_count == 0
        finally:
            await pc.close()


async def test_closing_while_composing_is_bounded_and_releases_everything(
    rtsp_server: RtspServer,
) -> None:
    cams = [camera("a", rtsp_server.url("/sub"))]

    def tiles() -> list[ComposedTile]:
        return [ComposedTile(Rect(0, 0, 640, 360), Rect(0, 0, 640, 360), "A", "a")]

    spec = PanelSpec(width=640, height=360, linger_s=30.0)
    async with CameraFleet(cams, FAST_POLICY) as fleet:
        compositor = PanelCompositor(tiles, sub_of(fleet), spec, label="p1")
        with pytest.raises(RuntimeError, match="not running"):
            compositor.subscribe("too early")
        async with compositor:
            sub = compositor.subscribe("test")
            await asyncio.wait_for(sub.get(), 5)
            async with asyncio.timeout(10):  # until the camera is decoded
                while not decoder_threads():
                    await asyncio.sleep(0.05)
            t0 = time.monotonic()
            await compositor.aclose()
            # the 30 s linger does not apply: closing is bounded by the
            # compositor's own shutdown timeout (normally it takes far less)
            assert time.monotonic() - t0 < compositor.shutdown_timeout_s
            assert sub.closed and not compositor.running
            assert decoder_threads() == []
            await compositor.aclose()  # idempotent
        stream = fleet.cameras["a"].stream(StreamRole.SUB)
        assert stream.health().viewers == 0
