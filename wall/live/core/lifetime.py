"""When a live session is reaped: never connected, failed, or gone silent.

A peer that offers ICE credentials but no usable candidate stays
``connecting`` for ever, holding a camera reader or a panel compositor; a
peer that vanished without a goodbye looks ``connected`` until aiortc's ICE
consent gives up, half a minute later. The relay asks :func:`verdict` on
every sweep, with ``now`` from its clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReapReason(StrEnum):
    """Why the relay closed a session itself (the label of the reaped counter)."""

    NOT_CONNECTED = "not_connected"
    FAILED = "failed"
    SILENT = "silent"
    CLOSED = "closed"  # the peer hung up: a normal end, not counted as reaped


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a session may be in each unhealthy condition.

    Attributes:
        connect_s: from the answer to ``connected``.
        silent_s: a connected peer with no packet heard from it.
    """

    connect_s: float
    silent_s: float


@dataclass(frozen=True, slots=True)
class Observed:
    """A session as last seen (monotonic seconds).

    Attributes:
        state: the connection state (aiortc's names; MPEG-TS clients are
            ``connecting`` until their response starts, then ``connected``).
        opened_s: when the session was admitted.
        heard_s: the last packet from the peer; None when not watched
            (MPEG-TS: the write timeout watches those).
    """

    state: str
    opened_s: float
    heard_s: float | None


def verdict(bounds: Bounds, seen: Observed, now_s: float) -> ReapReason | None:
    """The reason to close the session now, or None to keep it.

    Examples:
        >>> b = Bounds(connect_s=15.0, silent_s=10.0)
        >>> verdict(b, Observed("connecting", 0.0, None), 14.9) is None
        True
        >>> verdict(b, Observed("connecting", 0.0, None), 15.0)
        <ReapReason.NOT_CONNECTED: 'not_connected'>
        >>> verdict(b, Observed("connected", 0.0, 90.0), 100.0)
        <ReapReason.SILENT: 'silent'>
    """
    if seen.state == "closed":
        return ReapReason.CLOSED
    if seen.state == "failed":
        return ReapReason.FAILED
    if seen.state != "connected":
        if now_s - seen.opened_s >= bounds.connect_s:
            return ReapReason.NOT_CONNECTED
        return None
    if seen.heard_s is not None and now_s - seen.heard_s >= bounds.silent_s:
        return ReapReason.SILENT
    return None
