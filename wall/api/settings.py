"""Limits of the HTTP listener: body sizes, read timeouts, connections, headers.

A command centre is hit hardest when it matters most; these bounds keep one
misbehaving client (a slow sender, a huge body, a flood of connections) from
stalling everyone else. :mod:`wall.api.guard` and :mod:`wall.api.server`
enforce them.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from wall.platform.wire import WireModel

KIB = 1024
MIB = 1024 * KIB

_SOURCE = re.compile(r"^(?:'self'|'none'|(?:https?://)?[A-Za-z0-9.*-]+(?::\d{1,5})?)$")
"""A CSP source a site may name; nothing that could break the header open."""


class HttpSettings(WireModel):
    """HTTP limits and the headers every response carries."""

    max_body_bytes: int = Field(
        128 * KIB,
        ge=1 * KIB,
        le=64 * MIB,
        description="Largest request body on routes without their own cap (413).",
    )
    route_body_bytes: dict[str, int] = Field(
        default_factory=lambda: {"/api/v1/layouts": 1 * MIB},
        description="Bigger caps by path prefix (the longest prefix wins).",
    )
    body_timeout_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="A request body must arrive whole within this (408).",
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Request headers must arrive whole within this, or the"
        " connection is closed (a slowloris client).",
    )
    keep_alive_timeout_s: int = Field(
        5, ge=1, le=600, description="An idle keep-alive connection is closed."
    )
    max_connections: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Open connections and running requests (WebSockets included);"
        " past it new requests get 503.",
    )
    max_header_bytes: int = Field(
        16 * KIB,
        ge=1 * KIB,
        le=1 * MIB,
        description="Request line plus headers; larger is refused with 400.",
    )
    ws_max_message_bytes: int = Field(
        256 * KIB,
        ge=1 * KIB,
        le=16 * MIB,
        description="Largest WebSocket message a client may send (close 1009).",
    )
    frame_ancestors: tuple[str, ...] = Field(
        ("'none'",),
        min_length=1,
        description="CSP frame-ancestors sources: who may embed the pages"
        " ('none' also sends X-Frame-Options: DENY).",
    )

    @field_validator("frame_ancestors")
    @classmethod
    def _plain_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        for source in sources:
            if not _SOURCE.fullmatch(source):
                raise ValueError(
                    f"frame_ancestors: {source!r} is not a CSP source"
                    " ('self', 'none', or a scheme and host such as"
                    " https://portal.example)"
                )
        if "'none'" in sources and len(sources) > 1:
            raise ValueError("frame_ancestors: 'none' cannot be combined")
        return sources

    @field_validator("route_body_bytes")
    @classmethod
    def _bounded_caps(cls, caps: dict[str, int]) -> dict[str, int]:
        for prefix, size in caps.items():
            if not prefix.startswith("/"):
                raise ValueError(f"route_body_bytes: {prefix!r} must start with /")
            if not 1 * KIB <= size <= 64 * MIB:
                raise ValueError(
                    f"route_body_bytes[{prefix!r}]: {size} is outside 1 KiB-64 MiB"
                )
        return caps

    def body_cap(self, path: str) -> int:
        """The body cap for ``path``: the longest matching prefix, else the default.

        Examples:
            >>> HttpSettings().body_cap("/api/v1/layouts/validate")
            1048576
            >>> HttpSettings().body_cap("/api/v1/alarms/7/ack")
            131072
        """
        best = ""
        for prefix in self.route_body_bytes:
            if path.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.route_body_bytes[best] if best else self.max_body_bytes
