"""Sliding-window rate measurement for a stream (pure; time is an argument)."""

from __future__ import annotations

from collections import deque


class RateWindow:
    """Packets per second and bits per second over the last ``window_s``.

    Examples:
        >>> w = RateWindow(window_s=2.0)
        >>> for i in range(51):
        ...     w.add(i / 25, 1000)
        >>> round(w.fps(2.0)), round(w.bitrate_bps(2.0))
        (25, 200000)
    """

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._bytes = 0

    def add(self, now_s: float, size_bytes: int) -> None:
        """Record one packet of ``size_bytes`` received at ``now_s``."""
        self._samples.append((now_s, size_bytes))
        self._bytes += size_bytes
        self._expire(now_s)

    def _expire(self, now_s: float) -> None:
        while self._samples and now_s - self._samples[0][0] > self.window_s:
            _, size = self._samples.popleft()
            self._bytes -= size

    def reset(self) -> None:
        """Forget all samples."""
        self._samples.clear()
        self._bytes = 0

    def _span_s(self, now_s: float) -> float:
        self._expire(now_s)
        if len(self._samples) < 2:
            return 0.0
        return self._samples[-1][0] - self._samples[0][0]

    def fps(self, now_s: float) -> float:
        """Packets per second (0 with fewer than two samples)."""
        span = self._span_s(now_s)
        return (len(self._samples) - 1) / span if span > 0 else 0.0

    def bitrate_bps(self, now_s: float) -> float:
        """Bits per second (0 with fewer than two samples)."""
        span = self._span_s(now_s)
        if span <= 0:
            return 0.0
        return (self._bytes - self._samples[-1][1]) * 8 / span
