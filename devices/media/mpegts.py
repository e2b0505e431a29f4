"""MPEG-TS packaging of H.264 access units through PyAV, without re-encoding."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

import av

from devices.cameras.packets import EncodedPacket


class MpegTsMuxer:
    """Packs H.264 access units into MPEG-TS (codec copy).

    The output stream's codec parameters come from the first keyframe (probed
    with FFmpeg's raw H.264 demuxer), so no encoder is opened. Timestamps are
    server receive times on the 90 kHz clock, at least 1 ms apart, so a
    cached GOP sent in a burst plays at once instead of stalling the player.

    Not thread-safe: a muxer is used by one thread.
    """

    CLOCK_HZ = 90_000

    def __init__(self) -> None:
        self._sink = io.BytesIO()
        self._container: Any = None
        self._stream: Any = None
        self._anchor_s = 0.0
        self._last_ts = -self.CLOCK_HZ // 1000

    def mux(self, packet: EncodedPacket) -> bytes:
        """Mux one access unit; returns the TS bytes ready so far (maybe none).

        Packets before the first keyframe are dropped (nothing can decode them).
        """
        if self._container is None:
            if not packet.is_keyframe:
                return b""
            with av.open(io.BytesIO(packet.data), "r", format="h264") as probe:
                self._container = av.open(self._sink, "w", format="mpegts")
                template = probe.streams.video[0]
                self._stream = self._container.add_stream_from_template(template)
            self._stream.time_base = Fraction(1, self.CLOCK_HZ)
            self._anchor_s = packet.received_monotonic_s
        live_ts = round((packet.received_monotonic_s - self._anchor_s) * self.CLOCK_HZ)
        self._last_ts = max(self._last_ts + self.CLOCK_HZ // 1000, live_ts)
        out = av.Packet(packet.data)
        out.stream, out.time_base = self._stream, self._stream.time_base
        out.pts = out.dts = self._last_ts
        out.is_keyframe = packet.is_keyframe
        self._container.mux(out)
        return self._take()

    def close(self) -> bytes:
        """Finish the stream; returns the last bytes. Idempotent."""
        if self._container is not None:
            self._container.close()
            self._container = None
        return self._take()

    def _take(self) -> bytes:
        data = self._sink.getvalue()
        self._sink.seek(0)
        self._sink.truncate()
        return data
