"""Health states of streams and devices, as values the API and metrics show."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StreamState(StrEnum):
    """State of one camera stream.

    ``idle`` means nothing needs the stream, so it is not pulled (streams open
    on demand). ``unsupported_codec`` is a live stream the browser relay cannot
    pass through (behaviour S3).
    """

    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    OFFLINE = "offline"
    UNSUPPORTED_CODEC = "unsupported_codec"


class FailureReason(StrEnum):
    """Why a stream is not live (behaviour S1: each maps to its own state text)."""

    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    REFUSED = "refused"
    DNS = "dns"
    TIMEOUT = "timeout"
    STALLED = "stalled"
    ENDED = "ended"
    NO_VIDEO = "no_video"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """A snapshot of one stream's health.

    Attributes:
        state: the current state.
        reason: why it is not live (None while live or idle).
        detail: a human-readable, credential-free explanation.
        last_packet_age_s: seconds since the last packet, None if never.
        fps: measured packets per second over the last few seconds.
        bitrate_bps: measured bits per second over the last few seconds.
        reconnects: reconnections since the service started.
        viewers: current users of the stream (viewers, snapshot, detector).
        codec: codec name once known.
        resolution_wh: picture size once known.
        clock_skew_s: camera clock minus server clock, when the camera tells
            (RTCP sender reports); live view ignores it and uses receive time.
        clock_skewed: the skew exceeds the configured limit (behaviour S7).
    """

    state: StreamState
    reason: FailureReason | None
    detail: str | None
    last_packet_age_s: float | None
    fps: float
    bitrate_bps: float
    reconnects: int
    viewers: int
    codec: str | None
    resolution_wh: tuple[int, int] | None
    clock_skew_s: float | None = None
    clock_skewed: bool = False
