"""Live view: WebRTC relay of camera H.264, never decoded or re-encoded.

aiortc sends pre-encoded packets when a track's ``recv()`` returns an
``av.Packet``. Three things matter here (field notes):

* the answer must negotiate H.264 although browsers offer VP8 first: the
  sending transceiver with H.264 preferences exists *before* the offer is
  applied;
* the SDP carries the camera's real H.264 profile (cameras send High,
  aiortc only advertises Baseline), so profiles are registered on demand;
* a new viewer starts from the cached GOP, sent with compressed timestamps
  so the browser decodes the backlog at once instead of waiting for the
  camera's next keyframe.

Any :class:`PacketSource` (a camera stream, a composed panel) can be relayed:
:meth:`LiveViewRelay.offer` picks a camera's stream, :meth:`offer_source`
takes a source as it is.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from devices.cameras.camera import Camera, CameraStream
from devices.cameras.config import StreamRole
from devices.cameras.packets import VideoCodec
from devices.cameras.subscriber import PacketSubscriber
from layouts.content import StreamPref as StreamPreference
from layouts.streams import choose_stream
from wall.live.codecs import (
    allow_loopback_candidates,
    allow_rsa_dtls_peers,
    h264_preferences,
)
from wall.live.settings import WebRtcSettings
from wall.live.track import PacketSource, RelayTrack
from wall.platform.errors import (
    Busy,
    Malformed,
    ServiceError,
    Unavailable,
    Unsupported,
)

log = logging.getLogger(__name__)


class LiveViewError(Unavailable):
    """A live view that cannot be started now (no picture, shutting down)."""


class UnsupportedCodec(Unsupported):
    """Neither the camera nor the browser can carry H.264 for this view."""


class TooManyViewers(Busy):
    """The viewer limit is reached."""


class BadOffer(Malformed):
    """The browser's SDP offer could not be negotiated."""


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


def stream_role(
    camera: Camera,
    preference: StreamPreference = StreamPreference.AUTO,
    tile_wh: tuple[int, int] | None = None,
) -> StreamRole:
    """The stream a viewer of ``camera`` gets for a tile (behaviour S4).

    Uses the sub stream's measured resolution once it has been opened.
    """
    has_sub = StreamRole.SUB in camera.streams
    sub_info = camera.streams[StreamRole.SUB].info if has_sub else None
    wh = sub_info.resolution_wh if sub_info else None
    return StreamRole(choose_stream(preference, has_sub, tile_wh, wh))


class LiveViewRelay:
    """Owns every WebRTC viewer session; one async component.

    Args:
        settings: ICE servers and the viewer limit.
        first_keyframe_timeout_s: how long an offer waits for the camera's
            stream to deliver a keyframe when it was not already pulled.
    """

    def __init__(
        self, settings: WebRtcSettings, first_keyframe_timeout_s: float = 6.0
    ) -> None:
        self.settings = settings
        self.first_keyframe_timeout_s = first_keyframe_timeout_s
        # session id -> (peer, track, what it shows for diagnostics)
        self._peers: dict[
            str, tuple[RTCPeerConnection, RelayTrack, dict[str, object]]
        ] = {}
        self._closing = False
        allow_loopback_candidates()
        allow_rsa_dtls_peers()

    async def __aenter__(self) -> LiveViewRelay:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def viewer_count(self) -> int:
        """Open viewer sessions."""
        return len(self._peers)

    def sessions(self) -> list[dict[str, object]]:
        """Diagnostics of each session (no secrets)."""
        return [
            {
                "session_id": sid,
                **shows,
                "state": pc.connectionState,
                "packets_sent": track.packets_sent,
                "bytes_sent": track.bytes_sent,
                "dropped_packets": track.subscriber.dropped_packets,
            }
            for sid, (pc, track, shows) in self._peers.items()
        ]

    async def _open_stream(
        self, camera: Camera, role: StreamRole
    ) -> tuple[CameraStream, PacketSubscriber]:
        stream = camera.stream(role)
        sub = stream.subscribe(name=f"viewer {camera.id}")
        if not await stream.wait_keyframe(self.first_keyframe_timeout_s):
            stream.unsubscribe(sub)
            health = stream.health()
            reason = health.reason.value if health.reason else health.state.value
            raise LiveViewError(
                f"camera_{health.state.value}",
                f"camera {camera.id} has no picture ({reason})",
            )
        return stream, sub

    async def offer(
        self,
        camera: Camera,
        sdp: str,
        preference: StreamPreference = StreamPreference.AUTO,
        tile_wh: tuple[int, int] | None = None,
    ) -> LiveAnswer:
        """Answer a browser's SDP offer with a relay of the camera.

        Raises:
            LiveViewError: no picture. UnsupportedCodec: no H.264 on either side.
            TooManyViewers: the viewer limit is reached.
        """
        self._check_capacity()
        role = stream_role(camera, preference, tile_wh)
        stream, sub = await self._open_stream(camera, role)
        info = stream.info
        if info is None or info.codec is not VideoCodec.H264:
            stream.unsubscribe(sub)
            other = StreamRole.SUB if role is StreamRole.MAIN else StreamRole.MAIN
            if other not in camera.streams:
                raise UnsupportedCodec(
                    "unsupported_codec", self._codec_message(camera, info)
                )
            stream, sub = await self._open_stream(camera, other)
            info = stream.info
            if info is None or info.codec is not VideoCodec.H264:
                stream.unsubscribe(sub)
                raise UnsupportedCodec(
                    "unsupported_codec", self._codec_message(camera, info)
                )
        role_name = stream.key.role.value
        shows: dict[str, object] = {"camera_id": camera.id, "stream": role_name}
        answer_sdp, codec, session_id = await self._negotiate(
            stream, sub, sdp, info.profile_level_id, shows
        )
        log.info("camera[%s] viewer %s via %s", camera.id, session_id, role_name)
        return LiveAnswer(answer_sdp, camera.id, role_name, codec, session_id)

    async def offer_source(
        self, source: PacketSource, sdp: str, profile_level_id: str | None, label: str
    ) -> SourceAnswer:
        """Answer a browser's SDP offer with a relay of any packet source.

        Args:
            source: the H.264 source; subscribed here, released when the
                session ends.
            sdp: the browser's offer.
            profile_level_id: the source's H.264 ``profile-level-id``, for
                the answer's codec preferences.
            label: names the source in logs and :meth:`sessions`.

        Raises:
            LiveViewError: shutting down. TooManyViewers, BadOffer: as named.
        """
        self._check_capacity()
        sub = source.subscribe(name=f"viewer {label}")
        answer_sdp, codec, session_id = await self._negotiate(
            source, sub, sdp, profile_level_id, {"source": label}
        )
        log.info("source[%s] viewer %s", label, session_id)
        return SourceAnswer(answer_sdp, label, codec, session_id)

    def _check_capacity(self) -> None:
        if self._closing:
            raise LiveViewError("shutting_down", "the service is stopping")
        if len(self._peers) >= self.settings.max_viewers:
            raise TooManyViewers("too_many_viewers", "viewer limit reached")

    @staticmethod
    def _codec_message(camera: Camera, info: object) -> str:
        codec = getattr(info, "codec_name", "unknown")
        return (
            f"camera {camera.id} sends {codec}; browsers need H.264 "
            "(configure an H.264 sub stream for this camera)"
        )

    async def _negotiate(
        self,
        source: PacketSource,
        sub: PacketSubscriber,
        sdp: str,
        profile_level_id: str | None,
        shows: dict[str, object],
    ) -> tuple[str, str, str]:
        """Set up the peer; returns (answer SDP, codec, session id).

        On failure the subscriber is released (by the track or here).
        """
        try:
            pc, track, session_id = self._open_peer(source, sub, shows)
            return await self._answer(pc, track, session_id, sdp, profile_level_id)
        except ServiceError:
            raise
        except Exception as err:
            source.unsubscribe(sub)
            raise BadOffer("bad_offer", f"cannot negotiate: {err}") from err

    def _open_peer(
        self, source: PacketSource, sub: PacketSubscriber, shows: dict[str, object]
    ) -> tuple[RTCPeerConnection, RelayTrack, str]:
        ice = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in self.settings.ice_servers
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        track = RelayTrack(source, sub)
        session_id = uuid.uuid4().hex[:12]
        self._peers[session_id] = (pc, track, shows)

        @pc.on("connectionstatechange")
        async def _on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close_session(session_id)

        return pc, track, session_id

    async def _answer(
        self,
        pc: RTCPeerConnection,
        track: RelayTrack,
        session_id: str,
        sdp: str,
        profile_level_id: str | None,
    ) -> tuple[str, str, str]:
        try:
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(h264_preferences(profile_level_id))
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except BaseException:
            await self._close_session(session_id)
            raise
        codec = next(
            (c for c in transceiver._codecs if c.mimeType == "video/H264"), None
        )
        if codec is None:  # pragma: no cover - preferences hold only H.264
            await self._close_session(session_id)
            raise UnsupportedCodec("unsupported_codec", "the browser offered no H.264")
        profile = codec.parameters.get("profile-level-id", "?")
        return pc.localDescription.sdp, f"H264/{profile}", session_id

    async def _close_session(self, session_id: str) -> None:
        entry = self._peers.pop(session_id, None)
        if entry is None:
            return
        pc, track, _ = entry
        track.stop()
        await pc.close()

    async def close_session(self, session_id: str) -> bool:
        """Hang up one viewer; False if it did not exist."""
        exists = session_id in self._peers
        await self._close_session(session_id)
        return exists

    async def aclose(self) -> None:
        """Close every peer connection (idempotent)."""
        self._closing = True
        for session_id in list(self._peers):
            await self._close_session(session_id)
