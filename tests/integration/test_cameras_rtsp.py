"""Camera ingestion against the real GStreamer RTSP server (S1, S2, S7, S8)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time

import pytest

from devices.cameras.config import StreamRole
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import FailureReason, StreamState
from devices.cameras.packets import h264_has_parameter_sets
from tests.integration.camera_helpers import (
    CLIP_FPS,
    FAST_POLICY,
    Pace,
    camera,
    wait_state,
)
from tests.support.fixtures import SECURE_PASSWORD, SECURE_USER, RtspServerFactory
from tests.support.rtsp_server import RtspServer
from tests.support.service import free_port

pytestmark = pytest.mark.rtsp


async def test_connects_goes_live_and_measures_the_stream(
    rtsp_server: RtspServer,
) -> None:
    cam = camera("c1", rtsp_server.url("/main"), rtsp_server.url("/sub"))
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        main = fleet.cameras["c1"].stream(StreamRole.MAIN)
        assert main.state is StreamState.IDLE  # opened only on demand
        sub = main.subscribe("test")
        # the time to this first packet (a wait for a keyframe of the 2 s GOP)
        # is a performance figure: bench/first_frame.py's same-run reference
        # measures exactly that (a cold open up to the first keyframe)
        first = await asyncio.wait_for(sub.get(), 10)
        assert first.is_keyframe and h264_has_parameter_sets(first.data)
        # health reports the rate the camera delivers, the rate its own
        # timestamps say; until the health window holds only packets read
        # here (5 s at worst), the packets before the keyframe count there too
        run = [first]
        async with asyncio.timeout(15):
            while True:
                run.append(await sub.get())
                if len(run) < CLIP_FPS:  # a rate needs a few intervals
                    continue
                pace, h = Pace.of(run), main.health()
                if pace.presented_s >= 2.0 and pace.matches(h.fps, pace.source_fps):
                    break
        assert round(pace.source_fps) == CLIP_FPS and pace.in_real_time(), pace
        assert sub.gop_skips == 0
        assert h.state is StreamState.LIVE
        assert h.bitrate_bps > 100_000
        assert h.resolution_wh == (1920, 1080) and h.codec == "h264"
        assert main.info is not None and main.info.profile_level_id is not None
        assert main.info.profile_level_id.startswith("64")  # High, as cameras send
        main.unsubscribe(sub)
        await wait_state(main, StreamState.IDLE, timeout_s=5)  # closed after the linger


async def test_s8_many_viewers_share_one_upstream_session(
    rtsp_server: RtspServer,
) -> None:
    cam = camera("c1", rtsp_server.url("/sub"))
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        subs = [stream.subscribe(f"v{i}") for i in range(5)]
        for s in subs:
            await asyncio.wait_for(s.get(), 10)
        readers = [
            t for t in threading.enumerate() if t.name == "reader camera[c1]/main"
        ]
        assert len(readers) == 1
        assert stream.health().viewers == 5
        # a late viewer starts from the cached GOP: a keyframe is queued the
        # moment it subscribes (no wait at all, so no timing to flake), and
        # it was received before the subscription, so it came from the cache
        subscribed_at = time.monotonic()
        late = stream.subscribe("late")
        first = late.get_nowait()
        assert first is not None and first.is_keyframe
        assert first.received_monotonic_s <= subscribed_at
        for s in [*subs, late]:
            stream.unsubscribe(s)


async def test_s2_server_killed_goes_offline_and_recovers_without_restart(
    private_rtsp_server: RtspServerFactory,
) -> None:
    server = private_rtsp_server()
    cam = camera("c1", server.url("/sub"))
    events: list[StreamState] = []
    async with CameraFleet(
        [cam], FAST_POLICY, on_health=lambda s, h: events.append(h.state)
    ) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        sub = stream.subscribe("viewer")
        await wait_state(stream, StreamState.LIVE)
        server.stop()
        waited = await wait_state(
            stream, StreamState.STALLED, StreamState.OFFLINE, timeout_s=6
        )
        assert (
            waited < 3.0 + FAST_POLICY.stall_after_s
        )  # S2: lost is reported within 3 s
        await wait_state(stream, StreamState.OFFLINE, timeout_s=8)
        async with asyncio.timeout(8):  # "ended" first, then the refused reconnects
            while stream.health().reason not in (
                FailureReason.REFUSED,
                FailureReason.TIMEOUT,
            ):
                await asyncio.sleep(0.05)
        server.restart()
        await wait_state(stream, StreamState.LIVE, timeout_s=10)
        assert stream.health().reconnects >= 1
        # the viewer's subscription survived and receives packets again
        pkt = await asyncio.wait_for(sub.get(), 5)
        assert pkt.generation >= 2
        stream.unsubscribe(sub)
    assert StreamState.OFFLINE in events and events.count(StreamState.LIVE) >= 2


@pytest.mark.parametrize(
    ("mount", "user", "password", "reason"),
    [
        ("/secure", SECURE_USER, "wrong-password", FailureReason.UNAUTHORIZED),
        ("/secure", None, None, FailureReason.UNAUTHORIZED),
        ("/no-such-path", None, None, FailureReason.NOT_FOUND),
    ],
)
async def test_s1_camera_errors_are_distinct_states_and_back_off(
    rtsp_server: RtspServer,
    mount: str,
    user: str | None,
    password: str | None,
    reason: FailureReason,
) -> None:
    if mount in rtsp_server.mounts:
        url = rtsp_server.url(mount, user, password)
    else:
        url = rtsp_server.url("/main").replace("/main", mount)
    cam = camera("c1", url)
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stream.acquire()
        await wait_state(stream, StreamState.OFFLINE)
        h = stream.health()
        assert h.reason is reason
        assert h.detail is not None and "wrong-password" not in h.detail
        await asyncio.sleep(4.0)
        # backoff 0.2 s doubling to a 2 s cap (jittered) allows at most ~6 tries in 4 s
        assert stream.health().reconnects <= 7
        stream.release()


async def test_s1_refused_and_dns_failures(rtsp_server: RtspServer) -> None:
    cams = [
        camera("refused", f"rtsp://127.0.0.1:{free_port()}/x"),
        camera("dns", "rtsp://no-such-camera.invalid/x"),
    ]
    async with CameraFleet(cams, FAST_POLICY) as fleet:
        for cam in cams:
            fleet.cameras[cam.id].stream(StreamRole.MAIN).acquire()
        refused = fleet.cameras["refused"].stream(StreamRole.MAIN)
        dns = fleet.cameras["dns"].stream(StreamRole.MAIN)
        await wait_state(refused, StreamState.OFFLINE)
        await wait_state(dns, StreamState.OFFLINE)
        assert refused.health().reason is FailureReason.REFUSED
        assert dns.health().reason is FailureReason.DNS
        # a faulty camera never takes down the rest: a good one still goes live
        for cam in cams:
            fleet.cameras[cam.id].stream(StreamRole.MAIN).release()


async def test_right_password_goes_live(rtsp_server: RtspServer) -> None:
    cam = camera("c1", rtsp_server.url("/secure", SECURE_USER, SECURE_PASSWORD))
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stream.acquire()
        await wait_state(stream, StreamState.LIVE)
        stream.release()


async def test_s3_hevc_is_recognised_as_unsupported_for_the_relay(
    rtsp_server: RtspServer,
) -> None:
    # the clip is a prerequisite: ensure_media() raises without it, and
    # tests/test_rtsp_server_support.py proves the mount serves H.265
    cam = camera("c1", rtsp_server.url("/hevc"))
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stream.acquire()
        await wait_state(stream, StreamState.UNSUPPORTED_CODEC)
        assert stream.info is not None and stream.info.codec_name == "hevc"
        stream.release()


async def test_always_on_camera_fills_its_buffer_without_viewers(
    rtsp_server: RtspServer,
) -> None:
    cam = camera("c1", rtsp_server.url("/sub"), always_on=True, buffer_s=4)
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        await wait_state(stream, StreamState.LIVE)
        asked_s = 3.0
        # the ring fills without a viewer until a clip of the last 3 s can
        # start at (or before) its start, from a keyframe
        async with asyncio.timeout(15):
            while True:
                now = time.monotonic()
                clip = stream.packets_between(now - asked_s, now)
                if clip and clip[0].received_monotonic_s <= now - asked_s:
                    break
                await asyncio.sleep(0.1)
        assert stream.health().viewers == 0
        assert clip[0].is_keyframe
        assert [p.seq for p in clip] == list(
            range(clip[0].seq, clip[0].seq + len(clip))
        )
        # ... and reaches its end: nothing received by then is missing
        later = stream.packets_between(now - asked_s, time.monotonic())
        assert [p for p in later if p.received_monotonic_s <= now] == clip
        # the video in it covers that time too, by the camera's own clock
        assert Pace.of(clip).in_real_time(), Pace.of(clip)


async def test_a_slow_viewer_drops_for_itself_only(rtsp_server: RtspServer) -> None:
    cam = camera("c1", rtsp_server.url("/sub"))
    async with CameraFleet([cam], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stalled = stream.subscribe("stalled viewer")  # never reads
        healthy = stream.subscribe("healthy viewer")
        seqs: list[int] = []
        bound = FAST_POLICY.subscriber_queue_packets
        # read until the stalled viewer overflowed and the healthy one has read
        # past the same bound (about 5 s of packets at 25 fps)
        async with asyncio.timeout(30):
            while stalled.gop_skips < 1 or len(seqs) <= bound:
                seqs.append((await healthy.get()).seq)
        # the healthy viewer saw every packet in order, without gaps
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert healthy.dropped_packets == 0
        # the stalled one is bounded and skipped whole GOPs instead
        assert stalled.qsize() <= FAST_POLICY.subscriber_queue_packets
        assert stalled.gop_skips >= 1
        stream.unsubscribe(stalled)
        stream.unsubscribe(healthy)


@pytest.mark.parametrize(("offset_s", "flagged"), [(0.0, False), (2 * 3600.0, True)])
async def test_s7_camera_clock_skew_is_measured_and_flagged(
    rtsp_server: RtspServer, offset_s: float, flagged: bool
) -> None:
    # the server's clock is shifted (the only thing mocked); the camera's
    # clock comes from the real RTCP sender reports of the RTSP server
    cam = camera("c1", rtsp_server.url("/sub"))
    async with CameraFleet(
        [cam], FAST_POLICY, wall_clock=lambda: time.time() - offset_s
    ) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        sub = stream.subscribe("v")
        async with asyncio.timeout(12):
            while stream.health().clock_skew_s is None:
                await asyncio.sleep(0.1)
        h = stream.health()
        assert h.clock_skew_s is not None
        assert abs(h.clock_skew_s - offset_s) < 2.0
        assert h.clock_skewed is flagged
        # live view is timed by receive time all the same: packets keep flowing
        assert (await asyncio.wait_for(sub.get(), 2)).received_monotonic_s > 0
        stream.unsubscribe(sub)


async def test_a_viewer_arriving_while_the_idle_stream_stops_keeps_it_open(
    rtsp_server: RtspServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="devices.cameras.camera")
    async with CameraFleet(
        [camera("c1", rtsp_server.url("/sub"))], FAST_POLICY
    ) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stream.acquire()
        await wait_state(stream, StreamState.LIVE)
        stream.release()
        async with asyncio.timeout(10):  # until the linger asked the reader to stop
            while not any("idle, closing" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.02)
        sub = stream.subscribe("late viewer")
        subscribed_at = time.monotonic()
        # a cached keyframe may come first: two keyframes received after the
        # viewer arrived prove a whole GOP (2 s) flowed after the stop request
        async with asyncio.timeout(15):
            fresh = 0
            while fresh < 2:
                packet = await sub.get()
                fresh += (
                    packet.is_keyframe and packet.received_monotonic_s > subscribed_at
                )
        assert stream.state is StreamState.LIVE
        stream.unsubscribe(sub)


async def test_s2_a_silent_camera_is_detected_as_stalled_and_recovers(
    private_rtsp_server: RtspServerFactory,
) -> None:
    # a frozen server keeps the TCP connection open but sends nothing: only
    # the read timeout can notice (the injected fault is SIGSTOP / SIGCONT)
    server = private_rtsp_server()
    assert server.pid is not None
    async with CameraFleet([camera("c1", server.url("/sub"))], FAST_POLICY) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        stream.acquire()
        await wait_state(stream, StreamState.LIVE)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            waited = await wait_state(stream, StreamState.STALLED, timeout_s=8)
            assert waited <= FAST_POLICY.stall_after_s + 1.5
            assert stream.health().reason is FailureReason.STALLED
        finally:
            os.kill(server.pid, signal.SIGCONT)
        await wait_state(stream, StreamState.LIVE, timeout_s=15)
        stream.release()
