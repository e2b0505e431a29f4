"""Peers and sites for the live-session tests: real aiortc viewers and crafted offers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.integration.camera_helpers import FAST_POLICY, camera
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService
from wall.config.settings import Settings, StorageSettings
from wall.live.settings import WebRtcSettings
from wall.platform.store.sqlite import SqliteStore
from wall.walls.settings import WallSettings

FAKE_FINGERPRINT = "a=fingerprint:sha-256 " + ":".join(["AB"] * 32)


def site(
    tmp_path: Path, rtsp: RtspServer, composite_fps: float = 5, **webrtc: Any
) -> Settings:
    """One camera (``gate``) and a 2x2 wall ``main`` showing four more.

    Its panel 2 shows two cameras; panel 0 a map.
    """
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        streams=FAST_POLICY,
        webrtc=WebRtcSettings.model_validate(webrtc),
        cameras=(
            camera("gate", rtsp.url("/main"), rtsp.url("/sub")),
            *(
                camera(f"demo-{i}", rtsp.url("/main"), rtsp.url("/sub"))
                for i in range(1, 5)
            ),
        ),
        walls=(
            WallSettings(
                id="main",
                name="main",
                rows=2,
                cols=2,
                default_layout="mixed_2x2",
                composite_fps=composite_fps,
            ),
        ),
    )


async def mint(
    settings: Settings, name: str, wall_id: str | None = None
) -> tuple[int, str]:
    """A viewer token (bound to ``wall_id`` if given): its id and secret."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    async with SqliteStore(settings.storage.sqlite_path) as store:
        issued = await store.create_token(name, "viewer", wall_id)
    return issued.record.id, issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def client(svc: RunningService, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client of the service whose requests come from ``address``."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=svc.base_url, transport=transport, timeout=20)


async def real_offer() -> tuple[RTCPeerConnection, str]:
    """A receive-only aiortc peer and its offer (with host candidates)."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def crafted_offer(local_candidate: bool = False) -> str:
    """The attack: ICE credentials and a fake fingerprint, no usable candidate.

    With ``local_candidate`` the only candidate is an unresolvable mDNS name.
    """
    pc, sdp = await real_offer()
    await pc.close()
    lines: list[str] = []
    for line in sdp.splitlines():
        if line.startswith(("a=candidate", "a=end-of-candidates", "a=fingerprint")):
            continue
        lines.append(line)
        if line.startswith("a=mid:"):
            lines.append(FAKE_FINGERPRINT)
            if local_candidate:
                host = f"{uuid.uuid4()}.local"
                lines.append(f"a=candidate:1 1 udp 2122260223 {host} 50000 typ host")
    return "\r\n".join(lines) + "\r\n"


def with_fake_fingerprint(sdp: str) -> str:
    """The offer of a real peer whose DTLS certificate will not match."""
    lines = [line for line in sdp.splitlines() if not line.startswith("a=fingerprint")]
    at = next(i for i, line in enumerate(lines) if line.startswith("a=mid:"))
    lines.insert(at + 1, FAKE_FINGERPRINT)
    return "\r\n".join(lines) + "\r\n"


class Viewer:
    """A real aiortc viewer that counts the frames it decodes."""

    def __init__(self) -> None:
        self.frames = 0
        self.pc: RTCPeerConnection | None = None
        self.session_id = ""
        self._reader: asyncio.Task[None] | None = None

    async def open(self, http: httpx.AsyncClient, path: str, secret: str) -> None:
        """Offer, apply the answer and wait for the first frame."""
        self.pc, sdp = await real_offer()

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            async def read() -> None:
                with contextlib.suppress(MediaStreamError):
                    while True:
                        await track.recv()
                        self.frames += 1

            self._reader = asyncio.ensure_future(read())

        r = await http.post(path, json={"sdp": sdp}, headers=bearer(secret))
        assert r.status_code == 200, r.text
        body = r.json()
        self.session_id = body["session_id"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], "answer"))
        await until(lambda: self.frames > 0, 15)

    def go_silent(self) -> None:
        """Injected fault: every datagram this peer sends is lost on the way."""
        assert self.pc is not None

        async def lost(data: bytes) -> None:
            return None

        for transceiver in self.pc.getTransceivers():
            transceiver.receiver.transport.transport._send = lost

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.pc is not None:
            await self.pc.close()


async def until(condition: Callable[[], bool], timeout_s: float) -> float:
    """Wait for ``condition``; returns the seconds it took."""
    t0 = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)
    return time.monotonic() - t0


def metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0
