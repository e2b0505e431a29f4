"""Service health: one entry per component, and an overall verdict (O5).

``degraded`` (some cameras offline, a link down) is not ``down`` (the store
is gone): a wall keeps running with dead tiles, not without its database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devices.cameras.camera import CameraStream
from devices.cameras.health import StreamState


class Status(StrEnum):
    """A component's or the service's status."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    NOT_CONFIGURED = "not_configured"


_STREAM_STATUS = {
    StreamState.IDLE: Status.OK,
    StreamState.CONNECTING: Status.OK,
    StreamState.LIVE: Status.OK,
    StreamState.STALLED: Status.DEGRADED,
    StreamState.OFFLINE: Status.DEGRADED,
    StreamState.UNSUPPORTED_CODEC: Status.DEGRADED,
}


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """Health of one component."""

    name: str
    status: Status
    detail: dict[str, Any]


def stream_health_json(stream: CameraStream) -> dict[str, Any]:
    """The public form of a stream's health (no URLs, no secrets)."""
    h = stream.health()
    return {
        "state": h.state.value,
        "reason": h.reason.value if h.reason else None,
        "detail": h.detail,
        "last_packet_age_s": None
        if h.last_packet_age_s is None
        else round(h.last_packet_age_s, 3),
        "fps": round(h.fps, 2),
        "bitrate_bps": round(h.bitrate_bps),
        "reconnects": h.reconnects,
        "users": h.viewers,
        "codec": h.codec,
        "resolution_wh": list(h.resolution_wh) if h.resolution_wh else None,
        "clock_skew_s": None if h.clock_skew_s is None else round(h.clock_skew_s, 3),
        "clock_skewed": h.clock_skewed,
    }


def camera_component(
    camera_id: str, streams: dict[str, CameraStream]
) -> ComponentHealth:
    """Health of a camera from its streams' states."""
    detail = {role: stream_health_json(s) for role, s in streams.items()}
    statuses = [_STREAM_STATUS[s.state] for s in streams.values()]
    status = Status.DEGRADED if Status.DEGRADED in statuses else Status.OK
    return ComponentHealth(f"camera:{camera_id}", status, detail)


def overall(components: list[ComponentHealth]) -> Status:
    """The service's status: down if a critical part is down, else worst of the rest."""
    if any(c.status is Status.DOWN for c in components):
        return Status.DOWN
    if any(c.status is Status.DEGRADED for c in components):
        return Status.DEGRADED
    return Status.OK
