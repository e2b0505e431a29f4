"""Latest-frame snapshots, decoded on demand and cached briefly."""

from __future__ import annotations

import asyncio
import time

from devices.cameras.camera import Camera
from devices.cameras.config import StreamRole
from devices.cameras.snapshot import gop_to_jpeg
from devices.errors import SnapshotUnavailable
from wall.platform.errors import Unavailable

CACHE_S = 1.0


class SnapshotService:
    """Decodes a stream's newest GOP into a JPEG, at most once per second."""

    def __init__(self, first_keyframe_timeout_s: float = 6.0) -> None:
        self.first_keyframe_timeout_s = first_keyframe_timeout_s
        self._cache: dict[tuple[str, StreamRole], tuple[float, bytes]] = {}
        self._locks: dict[tuple[str, StreamRole], asyncio.Lock] = {}

    async def jpeg(self, camera: Camera, role: StreamRole) -> bytes:
        """JPEG bytes of the newest picture.

        Raises:
            Unavailable: the camera delivers no picture.
        """
        stream = camera.stream(role)
        key = (camera.id, stream.key.role)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
            stream.acquire()
            try:
                if not await stream.wait_keyframe(self.first_keyframe_timeout_s):
                    h = stream.health()
                    why = h.reason.value if h.reason else h.state.value
                    raise Unavailable(
                        "no_picture", f"camera {camera.id} has no picture ({why})"
                    )
                info = stream.info
                gop = stream.cached_gop()
            finally:
                stream.release()
            if info is None:
                raise Unavailable("no_picture", f"camera {camera.id} has no picture")
            try:
                data = await asyncio.to_thread(gop_to_jpeg, info, gop)
            except SnapshotUnavailable as err:
                raise Unavailable("no_picture", err.reason) from err
            self._cache[key] = (time.monotonic(), data)
            return data
