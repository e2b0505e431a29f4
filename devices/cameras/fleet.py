"""The camera fleet: every configured camera, owned by one async component."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from devices.cameras.camera import Camera, CameraStream, StreamKey
from devices.cameras.config import CameraConfig, StreamPolicy, StreamRole
from devices.cameras.health import StreamHealth

log = logging.getLogger(__name__)

TICK_S = 0.5


class CameraFleet:
    """Owns the cameras' streams, their upkeep task and their threads.

    Use as ``async with CameraFleet(...) as fleet:``; leaving the block stops
    every reader and joins its thread within ``shutdown_timeout_s``.

    Args:
        cameras: camera records from the config (disabled ones are skipped).
        policy: stream timeouts and backoff.
        on_health: called on the loop when any stream changes state.
        shutdown_timeout_s: bound on joining the reader threads.
        wall_clock: the server's epoch clock (tests shift it to fake skew).
    """

    def __init__(
        self,
        cameras: Iterable[CameraConfig],
        policy: StreamPolicy,
        on_health: Callable[[CameraStream, StreamHealth], None] | None = None,
        shutdown_timeout_s: float = 4.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._configs = [c for c in cameras if c.enabled]
        self.policy = policy
        self._on_health = on_health
        self.shutdown_timeout_s = shutdown_timeout_s
        self.wall_clock = wall_clock
        self.cameras: dict[str, Camera] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CameraFleet:
        loop = asyncio.get_running_loop()
        for config in self._configs:
            streams = {
                StreamRole.MAIN: CameraStream(
                    StreamKey(config.id, StreamRole.MAIN),
                    config.streams.main,
                    self.policy,
                    config.buffer_s,
                    loop,
                    self._on_health,
                    always_on=config.always_on,
                    wall_clock=self.wall_clock,
                )
            }
            if config.streams.sub is not None:
                streams[StreamRole.SUB] = CameraStream(
                    StreamKey(config.id, StreamRole.SUB),
                    config.streams.sub,
                    self.policy,
                    min(config.buffer_s, 10.0),
                    loop,
                    self._on_health,
                    wall_clock=self.wall_clock,
                )
            self.cameras[config.id] = Camera(config, streams)
        self._task = asyncio.create_task(self._upkeep(), name="camera fleet upkeep")
        return self

    async def _upkeep(self) -> None:
        while True:
            now = time.monotonic()
            for camera in self.cameras.values():
                for stream in camera.streams.values():
                    stream.tick(now)
            await asyncio.sleep(TICK_S)

    def streams(self) -> list[CameraStream]:
        """Every stream of every camera."""
        return [s for c in self.cameras.values() for s in c.streams.values()]

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the upkeep task and every reader; idempotent and bounded."""
        if self._task is not None:
            self._task.cancel()
            # wait() absorbs the upkeep task's cancellation but not our caller's
            await asyncio.wait([self._task])
            self._task = None
        streams = self.streams()
        for stream in streams:
            stream.begin_close()
        deadline = time.monotonic() + self.shutdown_timeout_s

        def join_all() -> list[str]:
            return [
                str(stream.key)
                for stream in streams
                if not stream.join(max(0.0, deadline - time.monotonic()))
            ]

        stuck = await asyncio.to_thread(join_all)
        if stuck:
            log.warning(
                "reader threads still running after shutdown: %s", ", ".join(stuck)
            )
