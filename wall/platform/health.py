"""Service health: one entry per component, and an overall verdict (O5).

``degraded`` (some cameras offline, a link down) is not ``down`` (the store
is gone): a wall keeps running with dead tiles, not without its database.
Camera stream health is also an event on the bus (:data:`CAMERA_HEALTH`),
published on every state change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from devices.cameras.camera import CameraStream
from devices.cameras.health import FailureReason, StreamHealth, StreamState
from wall.platform.event_bus import topic
from wall.platform.wire import WireModel


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


class StreamHealthOut(WireModel):
    """The public form of a stream's health (no URLs, no secrets)."""

    state: StreamState
    reason: FailureReason | None = Field(
        description="Why it is not live; null while live."
    )
    detail: str | None = Field(description="Credential-free explanation.")
    last_packet_age_s: float | None = Field(
        description="Seconds since the last packet; null if none yet."
    )
    fps: float = Field(description="Packets per second, last few seconds.")
    bitrate_bps: int = Field(description="Bits per second, last few seconds.")
    reconnects: int
    users: int = Field(description="Viewers, snapshots and the detector using it.")
    codec: str | None
    resolution_wh: tuple[int, int] | None = Field(description="[width, height], px.")
    clock_skew_s: float | None = Field(
        description="Camera clock minus server clock, when the camera tells."
    )
    clock_skewed: bool = Field(description="The skew exceeds the limit (S7).")


def stream_health(stream: CameraStream) -> StreamHealthOut:
    """The public form of ``stream``'s current health."""
    h = stream.health()
    return StreamHealthOut(
        state=h.state,
        reason=h.reason,
        detail=h.detail,
        last_packet_age_s=None
        if h.last_packet_age_s is None
        else round(h.last_packet_age_s, 3),
        fps=round(h.fps, 2),
        bitrate_bps=round(h.bitrate_bps),
        reconnects=h.reconnects,
        users=h.viewers,
        codec=h.codec,
        resolution_wh=h.resolution_wh,
        clock_skew_s=None if h.clock_skew_s is None else round(h.clock_skew_s, 3),
        clock_skewed=h.clock_skewed,
    )


class CameraHealthChanged(WireModel):
    """Payload of ``camera.health``: a stream changed state."""

    camera_id: str
    stream: str = Field(description="Stream role: main or sub.")
    state: StreamState
    reason: FailureReason | None = Field(
        description="Why it is not live; null while live."
    )
    detail: str | None = Field(description="Credential-free explanation.")


CAMERA_HEALTH = topic(
    "camera.health", CameraHealthChanged, "a camera stream changed state"
)


def camera_health_changed(
    stream: CameraStream, health: StreamHealth
) -> CameraHealthChanged:
    """The ``camera.health`` payload for a stream's new health."""
    return CameraHealthChanged(
        camera_id=stream.key.camera_id,
        stream=stream.key.role.value,
        state=health.state,
        reason=health.reason,
        detail=health.detail,
    )


class ComponentOut(WireModel):
    """One component on the wire: its status beside the facts it reports.

    The other keys depend on the component: ``camera:<id>`` has one
    :class:`StreamHealthOut` per stream role, ``detector`` its figures, and
    so on; each capability documents its own.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    status: Status


class HealthOut(WireModel):
    """The service's health (``/healthz``)."""

    status: Status = Field(description="down if a critical part is down, else worst.")
    uptime_s: float = Field(description="Seconds since the service started.")
    components: dict[str, ComponentOut]


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """Health of one component.

    Attributes:
        name: e.g. ``store``, ``camera:gate``.
        status: its verdict.
        detail: JSON-ready facts shown beside the status (a capability with a
            model of them passes ``model.model_dump(mode="json")``).
    """

    name: str
    status: Status
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_wire(self) -> ComponentOut:
        """The component as it goes out on ``/healthz``."""
        return ComponentOut(**self.detail, status=self.status)


def camera_component(
    camera_id: str, streams: Mapping[str, CameraStream]
) -> ComponentHealth:
    """Health of a camera from its streams' states."""
    detail = {
        role: stream_health(s).model_dump(mode="json") for role, s in streams.items()
    }
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
