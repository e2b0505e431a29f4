"""The relayed video track: a packet source's H.264 handed to aiortc unchanged.

aiortc sends pre-encoded packets when a track's ``recv()`` returns an
``av.Packet``. A new viewer starts from the cached GOP, sent with compressed
timestamps so the browser decodes the backlog at once instead of waiting for
the camera's next keyframe.
"""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction
from typing import Any, Protocol

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from devices.cameras.packets import EncodedPacket
from devices.cameras.subscriber import PacketSubscriber, StreamClosed
from wall.live.codecs import VIDEO_CLOCK_HZ

BACKLOG_STEP_TICKS = 90  # 1 ms between cached frames: decoded at once


class PacketSource(Protocol):
    """Anything that fans out H.264 access units (Annex-B) to subscribers.

    :class:`~devices.cameras.camera.CameraStream` is one; so is a composed panel.
    """

    def subscribe(self, name: str = "", from_cache: bool = True) -> PacketSubscriber:
        """A new subscriber, preloaded with the cached GOP if ``from_cache``."""
        ...

    def unsubscribe(self, sub: PacketSubscriber) -> None:
        """Remove a subscriber (idempotent)."""
        ...

    def cached_gop(self) -> list[EncodedPacket]:
        """The newest GOP (empty if none yet)."""
        ...


class RelayTrack(MediaStreamTrack):
    """A video track that yields a source's packets unchanged."""

    kind = "video"

    def __init__(self, source: PacketSource, subscriber: PacketSubscriber) -> None:
        super().__init__()
        self.source = source
        self.subscriber = subscriber
        self.packets_sent = 0
        self.bytes_sent = 0
        self._anchor_s: float | None = None
        self._last_ts = -BACKLOG_STEP_TICKS

    def _timestamp(self, packet: EncodedPacket, now_s: float) -> int:
        if self._anchor_s is None:
            self._anchor_s = now_s
        live_ts = int((packet.received_monotonic_s - self._anchor_s) * VIDEO_CLOCK_HZ)
        # Live packets are timed by server receive time (S7); the backlog
        # (received before the first recv) is squeezed 1 ms apart.
        ts = max(self._last_ts + BACKLOG_STEP_TICKS, live_ts)
        self._last_ts = ts
        return ts

    async def recv(self) -> av.Packet[Any]:
        """The next packet, timed for RTP."""
        # A new viewer's cached GOP is already queued, so get() returns at
        # once and aiortc packetises and encrypts the whole backlog in one
        # turn of the loop (tens of ms at 1080p). Yielding per packet lets
        # health checks and other viewers run in between.
        await asyncio.sleep(0)
        try:
            packet = await self.subscriber.get()
        except StreamClosed:
            self.stop()
            raise MediaStreamError from None
        out = av.Packet(packet.data)
        out.pts = self._timestamp(packet, time.monotonic())
        out.time_base = Fraction(1, VIDEO_CLOCK_HZ)
        self.packets_sent += 1
        self.bytes_sent += len(packet.data)
        return out

    def stop(self) -> None:
        """End the track and release the source."""
        super().stop()
        self.source.unsubscribe(self.subscriber)
