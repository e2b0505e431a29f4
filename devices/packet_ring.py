"""A GOP-aligned ring buffer of encoded packets (pure, not thread-safe).

It keeps at least ``capacity_s`` seconds of packets and always starts at a
keyframe, so that a new viewer can start from the cached GOP and a clip can
be remuxed from it without re-encoding.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from devices.packets import EncodedPacket


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
        self._packets: deque[EncodedPacket] = deque()
        self._bytes = 0
        self._last_key_index: int | None = None
        self._keyframes = 0

    def __len__(self) -> int:
        return len(self._packets)

    def __iter__(self) -> Iterator[EncodedPacket]:
        return iter(self._packets)

    @property
    def size_bytes(self) -> int:
        """Bytes of packet data held."""
        return self._bytes

    def clear(self) -> None:
        """Forget everything (a new connection starts a new timeline)."""
        self._packets.clear()
        self._bytes = 0
        self._last_key_index = None
        self._keyframes = 0

    def append(self, packet: EncodedPacket) -> None:
        """Add a packet; packets before the first keyframe are not kept."""
        if not self._packets and not packet.is_keyframe:
            return
        self._packets.append(packet)
        self._bytes += len(packet.data)
        if packet.is_keyframe:
            self._last_key_index = len(self._packets) - 1
            self._keyframes += 1
        self._trim(packet.received_monotonic_s)

    def _trim(self, now_s: float) -> None:
        # Drop the oldest GOP while the *next* GOP alone still covers the window,
        # or while over the memory bound (never the last GOP).
        while self._keyframes > 1:
            second_key = self._second_key_index()
            second_start = self._packets[second_key].received_monotonic_s
            over_time = now_s - second_start >= self.capacity_s
            if not (over_time or self._bytes > self.max_bytes):
                break
            for _ in range(second_key):
                dropped = self._packets.popleft()
                self._bytes -= len(dropped.data)
            self._keyframes -= 1
            if self._last_key_index is not None:
                self._last_key_index -= second_key

    def _second_key_index(self) -> int:
        for i in range(1, len(self._packets)):
            if self._packets[i].is_keyframe:
                return i
        raise AssertionError("keyframe count out of step")  # pragma: no cover

    def latest_gop(self) -> list[EncodedPacket]:
        """Packets from the newest keyframe to the newest packet (empty if none)."""
        if self._last_key_index is None:
            return []
        return list(self._packets)[self._last_key_index :]

    def window(
        self, start_monotonic_s: float, end_monotonic_s: float
    ) -> list[EncodedPacket]:
        """Packets covering [start, end], from the keyframe at or before start."""
        packets = list(self._packets)
        first = 0
        for i, p in enumerate(packets):
            if p.received_monotonic_s > start_monotonic_s:
                break
            if p.is_keyframe:
                first = i
        return [p for p in packets[first:] if p.received_monotonic_s <= end_monotonic_s]

    def duration_s(self) -> float:
        """Receive-time span held, seconds."""
        if len(self._packets) < 2:
            return 0.0
        return (
            self._packets[-1].received_monotonic_s
            - self._packets[0].received_monotonic_s
        )
