"""Settings of the live-view relay (the ``webrtc`` section of the config file)."""

from __future__ import annotations

from pydantic import Field

from wall.platform.wire import WireModel


class IceServer(WireModel):
    """A STUN or TURN server handed to aiortc (none by default: no internet)."""

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None


class WebRtcSettings(WireModel):
    """Live-view relay."""

    ice_servers: tuple[IceServer, ...] = Field(
        (), description="STUN/TURN servers; empty means host candidates only."
    )
    max_viewers: int = Field(
        64, ge=1, le=4096, description="Concurrent WebRTC viewers."
    )
