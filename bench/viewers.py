"""Stand-in wall displays: N receive-only WebRTC peers in a child process.

The peers are real aiortc peers (ICE, DTLS, SRTP, RTP reassembly) that never
decode: a wall's decoding happens on its display machines, not on the server
under test. They still run on the same two cores, so the child can be started
at a lower scheduling priority (``nice``): on a real site the displays are
other machines, and the server should not lose CPU to them. Their CPU is
reported either way.

Protocol (JSON lines): the child prints one ``{"sdp": offer}`` per peer and
reads one ``{"sdp": answer}`` back; then it prints ``{"ready": true}``. Each
``{"stats": true}`` line from the parent is answered with
``{"frames": [frames received per peer]}``. Closing stdin ends the child.

Run by :class:`ViewerProcess`; ``python -m bench.viewers N`` is the child.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from types import TracebackType
from typing import Any, Literal, Self

from tests.support.rtsp_server import (
    DEFAULT_SYSTEM_PYTHON,
    REPO_ROOT,
    SYSTEM_PYTHON_ENV,
)


class ViewerProcess:
    """The child process holding N non-decoding aiortc viewers.

    Args:
        n: number of peers.
        nice: scheduling niceness added to the child (0 = same as the parent).
        engine: ``aiortc`` (Python peers, this module) or ``gstreamer``
            (webrtcbin peers under Debian's python3,
            ``tests/support/gst_webrtc_viewers.py``; every per-packet step in
            C, so the stand-ins take far less CPU).
    """

    def __init__(
        self, n: int, nice: int = 0, engine: Literal["aiortc", "gstreamer"] = "aiortc"
    ) -> None:
        self.n, self.nice, self.engine = n, nice, engine
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self.proc.pid if self.proc else None

    async def __aenter__(self) -> Self:
        nice = self.nice
        command = (
            # Debian's python3: it has gi and GStreamer's WebRTC typelibs
            [
                os.environ.get(SYSTEM_PYTHON_ENV, DEFAULT_SYSTEM_PYTHON),
                str(REPO_ROOT / "tests" / "support" / "gst_webrtc_viewers.py"),
            ]
            if self.engine == "gstreamer"
            else [sys.executable, "-m", "bench.viewers"]
        )
        self.proc = await asyncio.create_subprocess_exec(
            *command, str(self.n),
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )  # fmt: skip
        return self

    async def recv(self) -> dict[str, Any]:
        """The child's next JSON line."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError("viewer process ended")
        data: dict[str, Any] = json.loads(line)
        return data

    def send(self, data: dict[str, Any]) -> None:
        """One JSON line to the child."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(data).encode() + b"\n")

    async def frames(self) -> list[int]:
        """Frames each peer has received (reassembled, not decoded) so far."""
        self.send({"stats": True})
        counts: list[int] = (await self.recv())["frames"]
        return counts

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class _CountingDecoder:
    """Stands in for aiortc's H.264 decoder: counts frames, never decodes."""

    def __init__(self) -> None:
        self.frames = 0

    def decode(self, encoded_frame: object) -> list[object]:
        self.frames += 1
        return []


async def viewers_main(n: int) -> None:
    """Child: N receive-only peers; offers out on stdout, answers in on stdin."""
    import aiortc.rtcrtpreceiver
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from wall.webrtc_codecs import allow_loopback_candidates

    decoders: list[_CountingDecoder] = []

    def counting_decoder(codec: object) -> _CountingDecoder:
        decoders.append(_CountingDecoder())
        return decoders[-1]

    receiver: Any = aiortc.rtcrtpreceiver
    receiver.get_decoder = counting_decoder
    allow_loopback_candidates()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    peers = []
    for _ in range(n):
        pc = RTCPeerConnection()
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        print(json.dumps({"sdp": pc.localDescription.sdp}), flush=True)
        answer = json.loads(await reader.readline())
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        peers.append(pc)
    print(json.dumps({"ready": True}), flush=True)
    while line := await reader.readline():
        if json.loads(line).get("stats"):
            print(json.dumps({"frames": [d.frames for d in decoders]}), flush=True)
    for pc in peers:
        await pc.close()


if __name__ == "__main__":
    asyncio.run(viewers_main(int(sys.argv[1])))
