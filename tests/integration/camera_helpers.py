"""Small helpers shared by the camera integration tests."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devices.cameras.camera import CameraStream
from devices.cameras.config import CameraConfig, StreamPolicy
from devices.cameras.health import StreamState
from devices.cameras.packets import EncodedPacket
from wall.config.settings import Settings, StorageSettings
from wall.walls.settings import WallSettings

FAST_POLICY = StreamPolicy(
    open_timeout_s=2.0,
    stall_after_s=1.5,
    backoff_initial_s=0.2,
    backoff_max_s=2.0,
    idle_linger_s=0.5,
)
CLIP_FPS = 25
"""The frame rate ``scripts/make_media.py`` gives every test clip."""


def camera(
    cid: str, main: str, sub: str | None = None, **extra: object
) -> CameraConfig:
    streams: dict[str, object] = {"main": {"url": main}}
    if sub is not None:
        streams["sub"] = {"url": sub}
    return CameraConfig.model_validate(
        {"id": cid, "name": cid, "streams": streams, **extra}
    )


def four_cameras(
    main: str | None = None, sub: str | None = None
) -> tuple[CameraConfig, ...]:
    """``demo-1`` … ``demo-4`` on ``main``/``sub``, or on a port nothing answers."""
    return tuple(
        camera(f"demo-{i}", main or f"rtsp://127.0.0.1:9/none{i}", sub)
        for i in range(1, 5)
    )


def wall_site(
    tmp_path: Path,
    cameras: tuple[CameraConfig, ...],
    *walls: WallSettings,
    **extra: object,
) -> Settings:
    """Settings with a data folder in ``tmp_path``, these cameras and walls."""
    return Settings.model_validate(
        {
            "storage": StorageSettings(data_dir=tmp_path / "data"),
            "cameras": cameras,
            "walls": walls,
            **extra,
        }
    )


async def wait_state(
    stream: CameraStream, *states: StreamState, timeout_s: float = 10.0
) -> float:
    """Wait until the stream is in one of ``states``; returns seconds waited."""
    t0 = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while stream.state not in states:
            await asyncio.sleep(0.02)
    return time.monotonic() - t0


@dataclass(frozen=True)
class Pace:
    """How a run of consecutive packets was paced, by its own clock and on arrival.

    Rates measured here carry no fixed tolerance: each end of a run may be off
    by the longest gap between two arrivals seen in that same run. A busy
    machine that delays some packets widens that gap, and so the margin; a
    wrong rate shifts every interval and still fails.

    Attributes:
        packets: How many packets the run holds.
        presented_s: Span of their presentation times (the source's clock).
        received_s: Span of their receive times (ours).
        longest_gap_s: The longest interval between two arrivals in the run.
    """

    packets: int
    presented_s: float
    received_s: float
    longest_gap_s: float

    @classmethod
    def of(cls, run: Sequence[EncodedPacket]) -> Pace:
        """The pace of the packets of ``run`` that carry a PTS (two at least).

        FFmpeg gives the first packet of an RTSP session no PTS.
        """
        timed = [(p.pts_s, p.received_monotonic_s) for p in run if p.pts_s is not None]
        assert len(timed) >= 2, run
        received = [r for _, r in timed]
        gaps = [b - a for a, b in itertools.pairwise(received)]
        presented_s = timed[-1][0] - timed[0][0]
        return cls(len(timed), presented_s, received[-1] - received[0], max(gaps))

    @property
    def source_fps(self) -> float:
        """Packets per second by the source's own timestamps."""
        return (self.packets - 1) / self.presented_s

    @property
    def slack(self) -> float:
        """Relative margin of a rate over this run: two longest gaps of its span."""
        return 2 * self.longest_gap_s / self.received_s

    def matches(self, fps: float, expected_fps: float) -> bool:
        """Whether ``fps`` is ``expected_fps`` within this run's slack."""
        return abs(fps - expected_fps) <= self.slack * expected_fps

    def in_real_time(self) -> bool:
        """Whether presentation time advanced as fast as our clock did."""
        return abs(self.presented_s - self.received_s) <= 2 * self.longest_gap_s
