"""Settings of the live-view relay (the ``webrtc`` section of the config file)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from wall.platform.wire import WireModel


class IceServer(WireModel):
    """A STUN or TURN server handed to aiortc (none by default: no internet)."""

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None


class WebRtcSettings(WireModel):
    """Live-view relay: WebRTC peers and MPEG-TS clients, their limits and bounds.

    Every live session counts: a WebRTC viewer of a camera or of a composed
    panel, and an MPEG-TS client of a panel.
    """

    ice_servers: tuple[IceServer, ...] = Field(
        (), description="STUN/TURN servers; empty means host candidates only."
    )
    max_viewers: int = Field(
        64,
        ge=1,
        le=4096,
        description="Concurrent live sessions of the service (WebRTC and MPEG-TS),"
        " wall displays included.",
    )
    max_per_token: int = Field(
        8,
        ge=1,
        le=4096,
        description="Concurrent live sessions of one viewer token (a browser"
        " showing a few cameras; wall-bound display tokens are not capped).",
    )
    max_per_address: int = Field(
        16,
        ge=1,
        le=4096,
        description="Concurrent live sessions of viewers at one client address"
        " (a few operators behind one address; displays are not capped).",
    )
    reserved_for_displays: int = Field(
        16,
        ge=0,
        le=4095,
        description="Sessions viewers can never take: kept for wall-bound display"
        " tokens (their camera tiles and composed panels). Must be below"
        " max_viewers.",
    )
    connect_timeout_s: float = Field(
        15.0,
        gt=0,
        le=300,
        description="A session not connected this long after its answer is closed"
        " (an offer without a usable candidate never connects).",
    )
    silent_after_s: float = Field(
        15.0,
        gt=0,
        le=300,
        description="A connected WebRTC peer from which nothing (RTCP reports,"
        " DTLS) arrived this long is closed; peers report every 1-5 s.",
    )
    write_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="An MPEG-TS client that accepts no bytes this long is dropped.",
    )

    @model_validator(mode="after")
    def _reserve_below_total(self) -> Self:
        if self.reserved_for_displays >= self.max_viewers:
            raise ValueError(
                f"reserved_for_displays ({self.reserved_for_displays}) must be below"
                f" max_viewers ({self.max_viewers})"
            )
        return self
