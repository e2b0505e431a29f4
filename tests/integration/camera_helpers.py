"""Small helpers shared by the camera integration tests."""

from __future__ import annotations

import asyncio
import time

from devices.cameras.camera import CameraStream
from devices.cameras.config import CameraConfig, StreamPolicy
from devices.cameras.health import StreamState

FAST_POLICY = StreamPolicy(
    open_timeout_s=2.0,
    stall_after_s=1.5,
    backoff_initial_s=0.2,
    backoff_max_s=2.0,
    idle_linger_s=0.5,
)


def camera(
    cid: str, main: str, sub: str | None = None, **extra: object
) -> CameraConfig:
    streams: dict[str, object] = {"main": {"url": main}}
    if sub is not None:
        streams["sub"] = {"url": sub}
    return CameraConfig.model_validate(
        {"id": cid, "name": cid, "streams": streams, **extra}
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
