"""Who may open one more live session: global, per-token and per-address limits.

Every live session (a WebRTC peer or an MPEG-TS client) is held by an
:class:`Holder`. Viewers share ``max_sessions - reserved_for_displays``
sessions, each token and each client address at most its own cap, so one
token or one machine cannot starve the others. Wall displays (wall-bound
tokens, and the service's own callers) draw on the whole capacity, the
reserve included, and are capped only by the global limit: a wall is never
refused for a viewer's sake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Pool(StrEnum):
    """Which share of the capacity a session draws on."""

    VIEWER = "viewer"
    DISPLAY = "display"


class SessionKind(StrEnum):
    """How a live session is carried."""

    WEBRTC = "webrtc"
    MPEGTS = "mpegts"


class Limit(StrEnum):
    """The limit a refusal names (also the label of the refusal counter)."""

    TOKEN = "token"  # noqa: S105 - a limit's name, not a secret
    ADDRESS = "address"
    VIEWERS = "viewers"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a session.

    Attributes:
        key: the owner's identity (``token:12``, or ``name:…`` for a token
            without an id); the per-token limit counts by it.
        address: the client's IP address; the per-address limit counts by it.
        pool: the share of the capacity the session draws on.
    """

    key: str
    address: str
    pool: Pool


@dataclass(frozen=True, slots=True)
class Limits:
    """The session limits (see ``WebRtcSettings`` for the defaults).

    Attributes:
        max_sessions: every live session, displays included.
        per_token: viewer sessions of one token.
        per_address: viewer sessions of one client address.
        reserved_for_displays: sessions viewers can never take.
    """

    max_sessions: int
    per_token: int
    per_address: int
    reserved_for_displays: int

    @property
    def viewer_share(self) -> int:
        """Sessions open to viewers."""
        return max(0, self.max_sessions - self.reserved_for_displays)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a session is refused: a stable code, the limit and a message."""

    code: str
    limit: Limit
    message: str


def admit(limits: Limits, open_: Iterable[Holder], new: Holder) -> Refusal | None:
    """None if ``new`` may open a session beside ``open_``, else the refusal.

    The most specific limit is named first: a token at its cap is told so
    even when the viewers' share is full too.

    Examples:
        >>> limits = Limits(4, per_token=1, per_address=3, reserved_for_displays=1)
        >>> a = Holder("token:1", "10.0.0.1", Pool.VIEWER)
        >>> admit(limits, [], a) is None
        True
        >>> admit(limits, [a], a).limit
        <Limit.TOKEN: 'token'>
        >>> admit(limits, [a], Holder("token:2", "10.0.0.1", Pool.VIEWER)) is None
        True
    """
    held = list(open_)
    if len(held) >= limits.max_sessions:
        return Refusal(
            "live_capacity_full",
            Limit.GLOBAL,
            f"all {limits.max_sessions} live sessions of the service are in use",
        )
    if new.pool is Pool.DISPLAY:
        return None
    viewers = [h for h in held if h.pool is Pool.VIEWER]
    if sum(h.key == new.key for h in viewers) >= limits.per_token:
        return Refusal(
            "too_many_sessions_for_token",
            Limit.TOKEN,
            f"this token already holds {limits.per_token} live sessions, its limit",
        )
    if sum(h.address == new.address for h in viewers) >= limits.per_address:
        return Refusal(
            "too_many_sessions_for_address",
            Limit.ADDRESS,
            f"this client address already holds {limits.per_address} live"
            " sessions, its limit",
        )
    if len(viewers) >= limits.viewer_share:
        return Refusal(
            "too_many_viewers",
            Limit.VIEWERS,
            f"all {limits.viewer_share} live sessions open to viewers are in use"
            f" ({limits.reserved_for_displays} more are reserved for wall displays)",
        )
    return None
