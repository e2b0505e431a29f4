"""HTTP and WebSocket bodies (pydantic, ``extra="forbid"``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from layouts.content import StreamPref as StreamPreference
from wall.platform.wire import WireModel

STORE_ID_MAX = 2**63 - 1
"""The largest row id the store holds (SQLite INTEGER); query bounds use it."""


class WebRtcOffer(WireModel):
    """A browser's SDP offer for a live view."""

    sdp: str = Field(min_length=10, max_length=65536, description="SDP offer text.")
    type: Literal["offer"] = "offer"
    stream: StreamPreference = Field(
        StreamPreference.AUTO, description="main, sub, or auto (by tile size)."
    )
    tile_width: int | None = Field(None, ge=1, le=16384, description="Tile width, px.")
    tile_height: int | None = Field(
        None, ge=1, le=16384, description="Tile height, px."
    )


class WebRtcAnswer(WireModel):
    """The service's SDP answer."""

    sdp: str
    type: Literal["answer"] = "answer"
    session_id: str
    camera_id: str
    stream: str
    codec: str


class ErrorBody(WireModel):
    """An error: a machine-readable code and a message for people."""

    error: str
    message: str
    details: list[dict[str, Any]] | None = None
    total: int | None = Field(
        None,
        description="Set when ``details`` is cut short: how many findings there"
        " were (``details`` lists the first 50).",
    )


class WsSubscribe(WireModel):
    """Client → server: choose topics (``camera.*`` style prefixes allowed)."""

    type: Literal["subscribe"]
    topics: list[str] = Field(min_length=1, max_length=64)


class WsPing(WireModel):
    """Client → server keep-alive."""

    type: Literal["ping"]
