"""Decoding a live RTSP stream for analysis (the detector's input)."""

from __future__ import annotations

import asyncio

import pytest

from devices.cameras.config import StreamRole
from devices.cameras.decoder import FrameDecoder
from devices.cameras.fleet import CameraFleet
from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.rtsp_server import RtspServer

pytestmark = pytest.mark.rtsp


async def test_decoder_keeps_up_with_a_live_stream(rtsp_server: RtspServer) -> None:
    async with CameraFleet(
        [camera("c1", rtsp_server.url("/sub"))], FAST_POLICY
    ) as fleet:
        stream = fleet.cameras["c1"].stream(StreamRole.MAIN)
        async with FrameDecoder(stream) as decoder:
            await asyncio.sleep(3.0)
            latest = decoder.latest()
            assert latest is not None
            assert (latest.frame.width, latest.frame.height) == (640, 360)
            # ~25 fps for ~3 s minus the wait for the first keyframe
            assert decoder.frames_decoded >= 25
            assert decoder.decode_errors == 0
            lag = latest.decoded_monotonic_s - latest.received_monotonic_s
            assert lag < 0.5
        assert stream.health().viewers == 0
