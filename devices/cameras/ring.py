"""A GOP-aligned ring buffer of encoded packets (pure, not thread-safe).

It keeps at least ``capacity_s`` seconds of packets and always starts at a
keyframe, so that a new viewer can start from the cached GOP and a clip can
be remuxed from it without re-encoding. Packets are held as a deque of GOPs,
so appending and trimming cost O(1) per packet (this runs for every packet
of every pulled stream).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from devices.cameras.packets import EncodedPacket


class PacketRing:
    """Packets of one stream, trimmed by whole GOPs.

    Args:
        capacity_s: how much time to keep, by receive time; the buffer holds
            between ``capacity_s`` and ``capacity_s`` + one GOP.
        max_bytes: a hard memory bound; whole GOPs are dropped beyond it.

    Examples:
        >>> ring = PacketRing(capacity_s=2.0)
        >>> for i in range(100):
        ...     ring.append(EncodedPacket(b"x", i % 25 == 0, i / 25, None, i, 0))
        >>> ring.latest_gop()[0].seq
        75
    """

    def __init__(self, capacity_s: float, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.capacity_s = capacity_s
        self.max_bytes = max_bytes
        self._gops: deque[list[EncodedPacket]] = deque()
        self._gop_bytes: deque[int] = deque()
        self._bytes = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[EncodedPacket]:
        for gop in self._gops:
            yield from gop

    @property
    def size_bytes(self) -> int:
        """Bytes of packet data held."""
        return self._bytes

    def clear(self) -> None:
        """Forget everything (a new connection starts a new timeline)."""
        self._gops.clear()
        self._gop_bytes.clear()
        self._bytes = 0
        self._count = 0

    def append(self, packet: EncodedPacket) -> None:
        """Add a packet; packets before the first keyframe are not kept."""
        size = len(packet.data)
        if packet.is_keyframe:
            self._gops.append([packet])
            self._gop_bytes.append(size)
        elif self._gops:
            self._gops[-1].append(packet)
            self._gop_bytes[-1] += size
        else:
            return
        self._bytes += size
        self._count += 1
        self._trim(packet.received_monotonic_s)

    def _trim(self, now_s: float) -> None:
        # Drop the oldest GOP while the *next* GOP alone still covers the
        # window, or while over the memory bound (never the last GOP).
        while len(self._gops) > 1:
            over_time = now_s - self._gops[1][0].received_monotonic_s >= self.capacity_s
            if not (over_time or self._bytes > self.max_bytes):
                break
            dropped = self._gops.popleft()
            self._bytes -= self._gop_bytes.popleft()
            self._count -= len(dropped)

    def latest_gop(self) -> list[EncodedPacket]:
        """Packets from the newest keyframe to the newest packet (empty if none)."""
        return list(self._gops[-1]) if self._gops else []

    def window(
        self, start_monotonic_s: float, end_monotonic_s: float
    ) -> list[EncodedPacket]:
        """Packets covering [start, end], from the keyframe at or before start."""
        first = 0
        for i, gop in enumerate(self._gops):
            if gop[0].received_monotonic_s > start_monotonic_s:
                break
            first = i
        return [
            p
            for gop in list(self._gops)[first:]
            for p in gop
            if p.received_monotonic_s <= end_monotonic_s
        ]

    def duration_s(self) -> float:
        """Receive-time span held, seconds."""
        if self._count < 2:
            return 0.0
        first = self._gops[0][0].received_monotonic_s
        return self._gops[-1][-1].received_monotonic_s - first
