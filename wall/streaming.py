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
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from types import TracebackType
from typing import Any

import aioice.ice
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.codecs import CODECS
from aiortc.mediastreams import MediaStreamError

from devices.camera import Camera, CameraStream
from devices.config import StreamRole
from devices.packets import EncodedPacket, VideoCodec
from devices.subscriber import PacketSubscriber, StreamClosed
from wall.core.stream_choice import StreamPreference, choose_stream
from wall.settings import WebRtcSettings

log = logging.getLogger(__name__)

VIDEO_CLOCK_HZ = 90_000
BACKLOG_STEP_TICKS = 90  # 1 ms between cached frames: decoded at once


class LiveViewError(Exception):
    """A live view that cannot be started; ``state`` is machine-readable."""

    def __init__(self, state: str, message: str, status: int = 503) -> None:
        super().__init__(message)
        self.state = state
        self.message = message
        self.status = status


def _allow_loopback_candidates() -> None:
    # aioice leaves 127.0.0.1 out of host candidates; a command-centre LAN
    # and tests on one machine (or in a network namespace with only
    # loopback) need it.
    original = aioice.ice.get_host_addresses
    if getattr(original, "_citywall", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses: list[str] = original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    with_loopback._citywall = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


def profile_ladder(camera_profile_level_id: str | None) -> list[str]:
    """Profile-level-ids to offer in the answer, best first.

    The camera's own profile comes first, so the SDP says what is really
    sent. Browsers that do not offer it (Debian's Chromium offers no High)
    get the nearest profile they do offer; they decode the stream anyway.
    Levels are asymmetric, so only the profile has to match the offer.

    Examples:
        >>> profile_ladder("640028")
        ['64001f', '4d001f', '42e01f']
        >>> profile_ladder("42c01e")
        ['42e01f']
    """
    pli = (camera_profile_level_id or "").lower()
    if pli.startswith("64"):
        return ["64001f", "4d001f", "42e01f"]
    if pli.startswith("4d"):
        return ["4d001f", "42e01f"]
    if pli.startswith("42") and len(pli) >= 4 and int(pli[2:4], 16) & 0x40:
        return ["42e01f"]  # constrained baseline
    return ["42001f", "42e01f"]


def _register_h264(profile_level_id: str) -> RTCRtpCodecCapability:
    params: dict[str, int | str | None] = {
        "level-asymmetry-allowed": "1",
        "packetization-mode": "1",
        "profile-level-id": profile_level_id,
    }
    video = CODECS["video"]
    for codec in video:
        if codec.mimeType == "video/H264" and codec.parameters == params:
            break
    else:
        used = {c.payloadType for c in video}
        pt = next(p for p in range(96, 128, 2) if p not in used and p + 1 not in used)
        base = next(c for c in video if c.mimeType == "video/H264")
        video.append(
            RTCRtpCodecParameters(
                mimeType="video/H264",
                clockRate=VIDEO_CLOCK_HZ,
                payloadType=pt,
                rtcpFeedback=list(base.rtcpFeedback),
                parameters=params,
            )
        )
        video.append(
            RTCRtpCodecParameters(
                mimeType="video/rtx",
                clockRate=VIDEO_CLOCK_HZ,
                payloadType=pt + 1,
                parameters={"apt": pt},
            )
        )
    return RTCRtpCodecCapability(
        mimeType="video/H264", clockRate=VIDEO_CLOCK_HZ, parameters=params
    )


def h264_preferences(
    camera_profile_level_id: str | None,
) -> list[RTCRtpCodecCapability]:
    """H.264 codec preferences, the camera's own profile first."""
    preferred = [_register_h264(p) for p in profile_ladder(camera_profile_level_id)]
    for codec in RTCRtpSender.getCapabilities("video").codecs:
        if codec.mimeType == "video/H264" and codec not in preferred:
            preferred.append(codec)
    return preferred


class RelayTrack(MediaStreamTrack):
    """A video track that yields a camera's packets unchanged."""

    kind = "video"

    def __init__(self, stream: CameraStream, subscriber: PacketSubscriber) -> None:
        super().__init__()
        self.stream = stream
        self.subscriber = subscriber
        self.packets_sent = 0
        self._anchor_s: float | None = None
        self._last_ts = -BACKLOG_STEP_TICKS

    def _timestamp(self, packet: EncodedPacket, now_s: float) -> int:
        if self._anchor_s is None:
            self._anchor_s = now_s
        live_ts = int((packet.received_monotonic_s - self._anchor_s) * VIDEO_CLOCK_HZ)
        # Live packets are timed by server receive time (S7); the backlog
        # (received before the first recv) is squeezed 1 ms apart.
        ts = max(self._last_ts + BACKLOG_STEP_TICKS, live_ts)
        self._last_ts = ts
        return ts

    async def recv(self) -> av.Packet[Any]:
        """The next packet, timed for RTP."""
        try:
            packet = await self.subscriber.get()
        except StreamClosed:
            self.stop()
            raise MediaStreamError from None
        out = av.Packet(packet.data)
        out.pts = self._timestamp(packet, time.monotonic())
        out.time_base = Fraction(1, VIDEO_CLOCK_HZ)
        self.packets_sent += 1
        return out

    def stop(self) -> None:
        """End the track and release the camera stream."""
        super().stop()
        self.stream.unsubscribe(self.subscriber)


@dataclass(frozen=True, slots=True)
class LiveAnswer:
    """The SDP answer of a live view and what was chosen."""

    sdp: str
    camera_id: str
    stream: str
    codec: str
    session_id: str


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
        self._peers: dict[str, tuple[RTCPeerConnection, RelayTrack]] = {}
        self._closing = False
        _allow_loopback_candidates()

    async def __aenter__(self) -> LiveViewRelay:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
                "camera_id": track.stream.key.camera_id,
                "stream": track.stream.key.role.value,
                "state": pc.connectionState,
                "packets_sent": track.packets_sent,
                "dropped_packets": track.subscriber.dropped_packets,
            }
            for sid, (pc, track) in self._peers.items()
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
            LiveViewError: no picture, unsupported codec, or too many viewers.
        """
        if self._closing:
            raise LiveViewError("shutting_down", "the service is stopping")
        if len(self._peers) >= self.settings.max_viewers:
            raise LiveViewError("too_many_viewers", "viewer limit reached", status=429)
        has_sub = StreamRole.SUB in camera.streams
        sub_info = camera.streams[StreamRole.SUB].info if has_sub else None
        role = StreamRole(
            choose_stream(
                preference,
                has_sub,
                tile_wh,
                sub_info.resolution_wh if sub_info else None,
            )
        )
        stream, sub = await self._open_stream(camera, role)
        info = stream.info
        if info is None or info.codec is not VideoCodec.H264:
            stream.unsubscribe(sub)
            other = StreamRole.SUB if role is StreamRole.MAIN else StreamRole.MAIN
            if other not in camera.streams:
                raise LiveViewError(
                    "unsupported_codec", self._codec_message(camera, info), 415
                )
            stream, sub = await self._open_stream(camera, other)
            info = stream.info
            if info is None or info.codec is not VideoCodec.H264:
                stream.unsubscribe(sub)
                raise LiveViewError(
                    "unsupported_codec", self._codec_message(camera, info), 415
                )
        try:
            return await self._negotiate(
                camera, stream, sub, sdp, info.profile_level_id
            )
        except LiveViewError:
            raise
        except Exception as err:
            stream.unsubscribe(sub)
            raise LiveViewError(
                "bad_offer", f"cannot negotiate: {err}", status=400
            ) from err

    @staticmethod
    def _codec_message(camera: Camera, info: object) -> str:
        codec = getattr(info, "codec_name", "unknown")
        return (
            f"camera {camera.id} sends {codec}; browsers need H.264 "
            "(configure an H.264 sub stream for this camera)"
        )

    async def _negotiate(
        self,
        camera: Camera,
        stream: CameraStream,
        sub: PacketSubscriber,
        sdp: str,
        profile_level_id: str | None,
    ) -> LiveAnswer:
        ice = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in self.settings.ice_servers
        ]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        track = RelayTrack(stream, sub)
        session_id = uuid.uuid4().hex[:12]
        self._peers[session_id] = (pc, track)

        @pc.on("connectionstatechange")
        async def _on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close_session(session_id)

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
            raise LiveViewError(
                "unsupported_codec", "the browser offered no H.264", 415
            )
        log.info(
            "camera[%s] viewer %s via %s", camera.id, session_id, stream.key.role.value
        )
        return LiveAnswer(
            sdp=pc.localDescription.sdp,
            camera_id=camera.id,
            stream=stream.key.role.value,
            codec=f"H264/{codec.parameters.get('profile-level-id', '?')}",
            session_id=session_id,
        )

    async def _close_session(self, session_id: str) -> None:
        entry = self._peers.pop(session_id, None)
        if entry is None:
            return
        pc, track = entry
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
