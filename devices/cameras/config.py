"""Camera configuration models: the validated boundary for camera records.

Every camera carries what later capabilities need (location, heading,
field of view, range, grid cell) so that case linking can select the cameras
that see a spot without a schema change.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from devices.addresses import checked_port

_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_SOURCE_SCHEMES = ("rtsp", "rtsps", "file", "http", "https")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Transport(StrEnum):
    """RTSP lower transport."""

    TCP = "tcp"
    UDP = "udp"


class StreamRole(StrEnum):
    """Which of a camera's encodings: the full-resolution main or the small sub."""

    MAIN = "main"
    SUB = "sub"


class StreamConfig(_Strict):
    """One encoded stream of a camera."""

    url: str = Field(
        description=(
            "Source URL: rtsp:// or rtsps:// for cameras; file:// or http(s):// for "
            "demo and test sources. May contain ${ENV} references (resolved at load)."
        )
    )
    transport: Transport = Field(Transport.TCP, description="RTSP transport.")
    loop: bool = Field(
        False, description="Loop a file source forever, paced in real time (demo)."
    )

    @field_validator("url")
    @classmethod
    def _url_is_a_source(cls, value: str) -> str:
        # Messages never repeat the URL: it may hold a password.
        try:
            parts = urlsplit(value)
        except ValueError as err:
            raise ValueError("is not a valid URL") from err
        if parts.scheme not in _SOURCE_SCHEMES:
            raise ValueError(
                f"scheme {parts.scheme or '(none)'!r} is not one of "
                + ", ".join(_SOURCE_SCHEMES)
            )
        if parts.scheme == "file":
            if not parts.path:
                raise ValueError("file URL has no path")
        elif not parts.hostname:
            raise ValueError("URL has no host")
        checked_port(parts, "URL")
        if re.search(r"\s", value):
            raise ValueError("URL contains white space")
        return value


class GeoLocation(_Strict):
    """A WGS-84 position (longitude first, as in GeoJSON)."""

    lon: float = Field(ge=-180, le=180, description="Longitude, degrees east (WGS-84).")
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees north (WGS-84).")


class CameraStreams(_Strict):
    """The main stream and the optional sub stream of a camera."""

    main: StreamConfig
    sub: StreamConfig | None = None


class CameraConfig(_Strict):
    """A camera record: identity, placement, field of view and its streams."""

    id: Annotated[str, Field(pattern=_ID_RE, description="Stable camera id.")]
    name: str = Field(min_length=1, max_length=200, description="Display name.")
    location: GeoLocation | None = None
    heading_deg: float | None = Field(
        None, ge=0, lt=360, description="Optical axis bearing, degrees from north."
    )
    hfov_deg: float | None = Field(
        None, gt=0, le=360, description="Horizontal field of view, degrees."
    )
    range_m: float | None = Field(
        None, gt=0, description="Useful viewing range, metres."
    )
    tags: tuple[str, ...] = ()
    grid_cell: str | None = Field(None, description="Grid cell code (网格编码).")
    streams: CameraStreams
    always_on: bool = Field(
        False,
        description="Pull the main stream even with no viewer (fills the clip buffer).",
    )
    buffer_s: float = Field(
        60.0,
        ge=2,
        le=600,
        description="Length of the encoded-packet ring buffer, seconds.",
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _streams_differ(self) -> CameraConfig:
        if (
            self.streams.sub is not None
            and self.streams.sub.url == self.streams.main.url
        ):
            raise ValueError("streams.sub must differ from streams.main")
        return self


class StreamPolicy(_Strict):
    """Tuning shared by every camera stream (timeouts and backoff)."""

    open_timeout_s: float = Field(3.0, gt=0, le=30, description="Connect/open timeout.")
    stall_after_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="No packet for this long means the stream stalled.",
    )
    backoff_initial_s: float = Field(0.5, gt=0, le=10)
    backoff_max_s: float = Field(
        30.0, gt=0, le=600, description="Reconnect backoff cap."
    )
    idle_linger_s: float = Field(
        10.0,
        ge=0,
        le=600,
        description="Keep a stream open this long after its last user.",
    )
    clock_skew_warn_s: float = Field(
        60.0, gt=0, description="Flag a camera clock further off than this (S7)."
    )
    subscriber_queue_packets: int = Field(
        120,
        ge=8,
        le=5000,
        description="Per-viewer packet queue bound (about 5 s at 25 fps).",
    )
