"""The relay's live sessions: who holds each, what it shows, how it does; answers.

A session is a WebRTC peer or an MPEG-TS client; both hold a subscriber of
a packet source (a camera stream's reader, a panel's compositor) until the
relay closes them. Sessions belong to their creator: only the creator or an
admin sees and hangs one up (:func:`may_manage`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from aiortc import RTCPeerConnection, RTCRtpTransceiver

from devices.cameras.subscriber import PacketSubscriber
from wall.live.core.admission import Holder, Pool, SessionKind
from wall.live.core.lifetime import Observed
from wall.live.track import PacketSource, RelayTrack
from wall.platform.auth import Principal, Role

SERVICE = Holder("service", "-", Pool.DISPLAY)
"""The holder of sessions the service opens itself (benches, tests): no caps."""


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for a live session.

    Attributes:
        principal: the authenticated caller.
        address: the client's IP address (``request.client.host``).
    """

    principal: Principal
    address: str

    @property
    def holder(self) -> Holder:
        """The caller as the admission policy counts it.

        A wall-bound token is a display: its camera tiles and its wall's
        composed panels draw on the reserve. Anyone else is a viewer, also
        on a panel URL, or viewers could fill the reserve through panels.
        """
        pool = Pool.VIEWER if self.principal.wall_id is None else Pool.DISPLAY
        return Holder(owner_key(self.principal), self.address, pool)


def owner_key(principal: Principal) -> str:
    """The key sessions are owned by: the token id, or the name without one.

    Examples:
        >>> owner_key(Principal(12, "kiosk", Role.VIEWER))
        'token:12'
        >>> owner_key(Principal(None, "bootstrap-admin", Role.ADMIN))
        'name:bootstrap-admin'
    """
    if principal.token_id is not None:
        return f"token:{principal.token_id}"
    return f"name:{principal.name}"


def is_admin(principal: Principal) -> bool:
    """An admin token not bound to a wall (a bound one is a display, view-only)."""
    return principal.role is Role.ADMIN and principal.wall_id is None


def may_manage(principal: Principal, holder: Holder) -> bool:
    """Whether ``principal`` may see and hang up a session held by ``holder``."""
    return is_admin(principal) or holder.key == owner_key(principal)


def watch_peer(transceiver: RTCRtpTransceiver, heard: Callable[[], None]) -> None:
    """Call ``heard`` for every datagram the peer sends (DTLS, SRTP, SRTCP).

    A viewer sends RTCP receiver reports every few seconds while it is
    there; aiortc's ICE consent notices a vanished peer only after about
    30 s. ``RTCIceTransport._recv`` is an attribute aiortc reads on every
    receive, so wrapping it per peer watches exactly this peer.
    """
    ice = transceiver.sender.transport.transport
    receive = cast(Callable[[], Awaitable[bytes]], ice._recv)

    async def receive_and_stamp() -> bytes:
        data = await receive()
        heard()
        return data

    ice._recv = receive_and_stamp


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """The SDP answer of a live view and what was chosen."""

    sdp: str
    camera_id: str
    stream: str
    codec: str
    session_id: str


@dataclass(frozen=True, slots=True)
class SourceAnswer:
    """The SDP answer of a relayed :class:`PacketSource` (e.g. a composed panel)."""

    sdp: str
    label: str
    codec: str
    session_id: str


@dataclass(slots=True, eq=False)
class LiveSession:
    """One live session, owned and mutated by the relay only.

    Attributes:
        session_id: the id the API names it by.
        kind: WebRTC peer or MPEG-TS client.
        holder: whom the admission policy counts it for.
        owner: the creator's name (diagnostics).
        shows: what it shows (camera and stream, or the source's label).
        opened_s: when it was admitted (the relay's clock).
        source: the packet source it subscribes to.
        subscriber: its subscriber of ``source``.
        pc: the peer (WebRTC). track: the relayed track (WebRTC).
        heard_s: the last datagram from the peer (WebRTC).
        started: the MPEG-TS response has started.
    """

    session_id: str
    kind: SessionKind
    holder: Holder
    owner: str
    shows: dict[str, object]
    opened_s: float
    source: PacketSource
    subscriber: PacketSubscriber
    pc: RTCPeerConnection | None = None
    track: RelayTrack | None = None
    heard_s: float | None = None
    started: bool = False

    @property
    def state(self) -> str:
        """The connection state, in aiortc's words for both kinds."""
        if self.pc is not None:
            return str(self.pc.connectionState)
        if self.subscriber.closed:
            return "closed"
        return "connected" if self.started else "connecting"

    def observed(self) -> Observed:
        """The session as the lifetime rules read it."""
        watched = self.heard_s if self.kind is SessionKind.WEBRTC else None
        return Observed(self.state, self.opened_s, watched)

    def describe(self) -> dict[str, object]:
        """Diagnostics of the session (no secrets, no address)."""
        track = self.track
        return {
            "session_id": self.session_id,
            "kind": self.kind.value,
            "owner": self.owner,
            "pool": self.holder.pool.value,
            **self.shows,
            "state": self.state,
            "packets_sent": None if track is None else track.packets_sent,
            "bytes_sent": None if track is None else track.bytes_sent,
            "dropped_packets": self.subscriber.dropped_packets,
        }
