"""A display built on GStreamer (webrtcbin) plays the relay, as a browser does.

Hardware decoders and embedded display boxes often use GStreamer's WebRTC
stack, whose DTLS certificate is RSA; aiortc on its own offers ECDSA suites
only, so the handshake used to fail with "no shared cipher". The display
here is a real webrtcbin peer (Debian's GStreamer, run by Debian's python3)
that offers ``setup:actpass`` like any standard client and counts the frames
it receives.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.rtsp_server import (
    DEFAULT_SYSTEM_PYTHON,
    REPO_ROOT,
    SYSTEM_PYTHON_ENV,
    RtspServer,
)
from tests.support.service import running_service
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role

pytestmark = [pytest.mark.rtsp]

VIEWERS = REPO_ROOT / "tests" / "support" / "gst_webrtc_viewers.py"


async def _line(proc: asyncio.subprocess.Process) -> dict[str, object]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert line, "the GStreamer display ended"
    data: dict[str, object] = json.loads(line)
    return data


async def test_a_gstreamer_webrtcbin_display_receives_the_live_stream(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        streams=FAST_POLICY,
        cameras=(camera("gate", rtsp_server.url("/main")),),
    )
    python = os.environ.get(SYSTEM_PYTHON_ENV, DEFAULT_SYSTEM_PYTHON)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url, timeout=20) as c,
    ):
        proc = await asyncio.create_subprocess_exec(
            python, str(VIEWERS), "1",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None
        try:
            offer = await _line(proc)
            assert "a=setup:actpass" in str(offer["sdp"])  # a standard offer
            r = await c.post(
                "/api/v1/cameras/gate/webrtc",
                json={"sdp": offer["sdp"], "type": "offer", "stream": "main"},
                headers=svc.auth(Role.VIEWER),
            )
            assert r.status_code == 200, r.text
            proc.stdin.write(json.dumps({"sdp": r.json()["sdp"]}).encode() + b"\n")
            assert (await _line(proc)) == {"ready": True}
            frames = 0
            async with asyncio.timeout(15):
                while frames < 25:  # one second of video, reassembled
                    await asyncio.sleep(0.25)
                    proc.stdin.write(b'{"stats": true}\n')
                    counts = (await _line(proc))["frames"]
                    assert isinstance(counts, list)
                    frames = int(counts[0])
            (session,) = svc.runtime.relay.sessions()
            assert session["state"] == "connected" and session["stream"] == "main"
        finally:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
