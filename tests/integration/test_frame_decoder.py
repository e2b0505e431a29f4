"""Decoding a live RTSP stream for analysis (the detector's input)."""

from __future__ import annotations

import asyncio

import pytest

from devices.cameras.config import StreamRole
from devices.cameras.decoder import FrameDecoder
from devices.cameras.fleet import CameraFleet
from tests.integration.camera_helpers import CLIP_FPS, FAST_POLICY, camera
from tests.support.rtsp_server import RtspServer

pytestmark = pytest.mark.rtsp

BACKLOG = 50  # packets queued for the decoder thread (2 s at 25 fps)


async def test_decoder_keeps_up_with_a_live_stream(rtsp_server: RtspServer) -> None:
    async with CameraFleet(
        [camera("c1", rtsp_server.url("/sub"))], FAST_POLICY
    ) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        async with FrameDecoder(stream, max_backlog=BACKLOG) as decoder:
            async with asyncio.timeout(15):  # a keyframe (2 s GOP), then 1 s of frames
                while decoder.frames_decoded < CLIP_FPS:
                    await asyncio.sleep(0.05)
            latest = decoder.latest()
            newest = stream.cached_gop()[-1]
            assert latest is not None
            assert (latest.frame.width, latest.frame.height) == (640, 360)
            assert decoder.decode_errors == 0
            # it keeps up: it never fell a whole backlog behind (it would have
            # skipped to a keyframe), and its newest picture is no further
            # behind the newest packet than the two queues between them hold.
            # What decoding costs is measured by the benchmarks
            # (bench/composite_cost.py, its decode-only step), not here.
            assert decoder.skipped_packets == 0
            queued = BACKLOG + FAST_POLICY.subscriber_queue_packets
            assert 0 <= newest.seq - latest.seq <= queued
            assert latest.decoded_monotonic_s >= latest.received_monotonic_s
        assert stream.health().viewers == 0
