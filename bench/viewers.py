"""Stand-in wall displays: N receive-only WebRTC peers in a child process.

The peers are GStreamer webrtcbin peers (``tests/support/gst_webrtc_viewers.py``,
run by Debian's python3: ICE, DTLS, SRTP and depayloading in C) that never
decode: a wall's decoding happens on its display machines, not on the server
under test. Python (aiortc) peers were used first; they fell behind on the
shared cores and took 0.1-0.25 cores more. The peers still run on the same two
cores, so the child can be started at a lower scheduling priority (``nice``):
on a real site the displays are other machines, and the server should not
lose CPU to them. Their CPU is reported either way.

Protocol (JSON lines): the child prints one ``{"sdp": offer}`` per peer and
reads one ``{"sdp": answer}`` back; then it prints ``{"ready": true}``. Each
``{"stats": true}`` line from the parent is answered with
``{"frames": [frames received per peer]}``. Closing stdin ends the child.

"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Self

from bench.harness import reap
from tests.support.rtsp_server import (
    DEFAULT_SYSTEM_PYTHON,
    REPO_ROOT,
    SYSTEM_PYTHON_ENV,
)


class ViewerProcess:
    """The child process holding N non-decoding webrtcbin viewers.

    Args:
        n: number of peers.
        nice: scheduling niceness added to the child (0 = same as the parent).
    """

    def __init__(self, n: int, nice: int = 0) -> None:
        self.n, self.nice = n, nice
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self.proc.pid if self.proc else None

    async def __aenter__(self) -> Self:
        nice = self.nice
        # Debian's python3: it has gi and GStreamer's WebRTC typelibs
        command = [
            os.environ.get(SYSTEM_PYTHON_ENV, DEFAULT_SYSTEM_PYTHON),
            str(REPO_ROOT / "tests" / "support" / "gst_webrtc_viewers.py"),
        ]
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

    async def __aexit__(self, *exc_info: object) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        await reap(self.proc, 10)
