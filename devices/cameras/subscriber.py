"""A viewer's bounded packet queue with the encoded-video drop policy.

Encoded video cannot drop single frames (every P-frame depends on the ones
before it), so a subscriber that falls behind drops its whole backlog and
waits for the next keyframe: the slow viewer skips a GOP, nobody else
notices. Drops are counted.
"""

from __future__ import annotations

import asyncio
from collections import deque

from devices.cameras.packets import EncodedPacket


class StreamClosed(Exception):
    """The stream this subscriber listened to has been closed."""


class PacketSubscriber:
    """One consumer of a stream's packets (used on the event loop only).

    Args:
        max_packets: queue bound; beyond it the backlog is dropped.
        name: for diagnostics.
    """

    def __init__(self, max_packets: int, name: str = "") -> None:
        self.max_packets = max_packets
        self.name = name
        self.dropped_packets = 0
        self.gop_skips = 0
        self._queue: deque[EncodedPacket] = deque()
        self._ready = asyncio.Event()
        self._awaiting_keyframe = True
        self._closed = False
        self._last: tuple[int, int] = (-1, -1)  # (generation, seq) last queued

    @property
    def closed(self) -> bool:
        """True once the stream ended for this subscriber."""
        return self._closed

    def qsize(self) -> int:
        """Packets waiting."""
        return len(self._queue)

    def preload(self, packets: list[EncodedPacket]) -> None:
        """Queue cached packets (a GOP) before live ones arrive."""
        for packet in packets:
            self.offer(packet)

    def offer(self, packet: EncodedPacket) -> None:
        """Queue a packet, applying the drop policy; never blocks."""
        if self._closed:
            return
        # A packet can reach a new subscriber twice: in the cached GOP it was
        # preloaded with, and again from the dispatch already on its way.
        if (packet.generation, packet.seq) <= self._last:
            return
        if self._awaiting_keyframe:
            if not packet.is_keyframe:
                self.dropped_packets += 1
                return
            self._awaiting_keyframe = False
        if len(self._queue) >= self.max_packets:
            self.dropped_packets += len(self._queue) + 1
            self.gop_skips += 1
            self._queue.clear()
            self._awaiting_keyframe = not packet.is_keyframe
            if self._awaiting_keyframe:
                return
        self._queue.append(packet)
        self._last = (packet.generation, packet.seq)
        self._ready.set()

    def restart(self) -> None:
        """The source reconnected: drop the backlog and wait for a keyframe."""
        self.dropped_packets += len(self._queue)
        self._queue.clear()
        self._awaiting_keyframe = True

    def close(self) -> None:
        """Wake the consumer with :class:`StreamClosed`."""
        self._closed = True
        self._ready.set()

    def get_nowait(self) -> EncodedPacket | None:
        """The next packet if one is queued."""
        return self._queue.popleft() if self._queue else None

    async def get(self) -> EncodedPacket:
        """Wait for the next packet.

        Raises:
            StreamClosed: when the stream was closed and the queue is empty.
        """
        while not self._queue:
            if self._closed:
                raise StreamClosed(self.name)
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()
