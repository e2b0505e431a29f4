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
takes a source as it is, :meth:`open_stream` admits an MPEG-TS client. All
three are live sessions in one accounting (:mod:`wall.live.core.admission`);
the relay's reaper closes the ones that never connect, fail or go silent
(:mod:`wall.live.core.lifetime`), releasing their camera reader or compositor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc import RTCSessionDescription as Description

from devices.cameras.camera import Camera
from devices.cameras.subscriber import PacketSubscriber
from layouts.content import StreamPref as StreamPreference
from wall.live.camera_views import open_h264
from wall.live.camera_views import stream_role as stream_role  # re-exported
from wall.live.codecs import (
    allow_loopback_candidates,
    allow_rsa_dtls_peers,
    h264_preferences,
)
from wall.live.core.admission import Holder, Limit, Limits, SessionKind, admit
from wall.live.core.lifetime import Bounds, ReapReason, verdict
from wall.live.errors import BadOffer, LiveViewError, TooManyViewers, check_offer
from wall.live.sessions import (
    SERVICE,
    LiveAnswer,
    LiveSession,
    Requester,
    SourceAnswer,
    may_manage,
    owner_key,
    watch_peer,
)
from wall.live.settings import WebRtcSettings
from wall.live.track import PacketSource, RelayTrack
from wall.platform.auth import Principal
from wall.platform.errors import ServiceError

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0
"""Bound on closing one peer (aiortc's close sends DTLS close_notify)."""


class LiveViewRelay:
    """Owns every live session; one async component with one reaper task.

    Args:
        settings: ICE servers, the session limits and the lifetime bounds.
        first_keyframe_timeout_s: how long an offer waits for the camera's
            stream to deliver a keyframe when it was not already pulled.
        clock: monotonic seconds (tests may pass their own).
    """

    def __init__(
        self,
        settings: WebRtcSettings,
        first_keyframe_timeout_s: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.first_keyframe_timeout_s = first_keyframe_timeout_s
        s = settings
        self.limits = Limits(
            s.max_viewers, s.max_per_token, s.max_per_address, s.reserved_for_displays
        )
        self.bounds = Bounds(settings.connect_timeout_s, settings.silent_after_s)
        self.reaped: Counter[ReapReason] = Counter()
        self.refused: Counter[Limit] = Counter()
        self._clock = clock
        self._sessions: dict[str, LiveSession] = {}
        self._pending: dict[str, Holder] = {}  # admitted, still negotiating
        self._wake = asyncio.Event()
        self._stack = AsyncExitStack()
        self._reaper: asyncio.Task[None] | None = None
        self._closing = False
        allow_loopback_candidates()
        allow_rsa_dtls_peers()

    async def __aenter__(self) -> LiveViewRelay:
        group = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._reaper = group.create_task(self._reap(), name="live relay reaper")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def viewer_count(self) -> int:
        """Open live sessions (WebRTC and MPEG-TS)."""
        return len(self._sessions)

    def counts(self) -> Counter[tuple[SessionKind, str]]:
        """Open sessions by (kind, pool name)."""
        return Counter((s.kind, s.holder.pool.value) for s in self._sessions.values())

    def sessions(self, visible_to: Principal | None = None) -> list[dict[str, object]]:
        """Diagnostics of each session; only ``visible_to``'s own unless an admin."""
        return [
            s.describe()
            for s in self._sessions.values()
            if visible_to is None or may_manage(visible_to, s.holder)
        ]

    # ---- opening ----------------------------------------------------------------
    def _admit(self, requester: Requester | None) -> tuple[str, Holder]:
        if self._closing:
            raise LiveViewError("shutting_down", "the service is stopping")
        holder = SERVICE if requester is None else requester.holder
        held = [*(s.holder for s in self._sessions.values()), *self._pending.values()]
        refusal = admit(self.limits, held, holder)
        if refusal is not None:
            self.refused[refusal.limit] += 1
            raise TooManyViewers(refusal.code, refusal.message)
        session_id = uuid.uuid4().hex[:12]
        self._pending[session_id] = holder
        return session_id, holder

    async def offer(
        self,
        camera: Camera,
        sdp: str,
        preference: StreamPreference = StreamPreference.AUTO,
        tile_wh: tuple[int, int] | None = None,
        *,
        requester: Requester | None = None,
    ) -> LiveAnswer:
        """Answer a browser's SDP offer with a relay of the camera.

        ``requester`` None is the service itself (capped only globally).

        Raises:
            BadOffer, UnsupportedCodec: the offer (or the camera) cannot carry
            H.264. LiveViewError: no picture. TooManyViewers: a limit, named.
        """
        check_offer(sdp)
        session_id, holder = self._admit(requester)
        try:
            role = stream_role(camera, preference, tile_wh)
            stream, sub, pli = await open_h264(
                camera, role, self.first_keyframe_timeout_s
            )
            role_name = stream.key.role.value
            shows: dict[str, object] = {"camera_id": camera.id, "stream": role_name}
            session = self._session(session_id, holder, requester, stream, sub, shows)
            answer_sdp, codec = await self._negotiate(session, sdp, pli)
        finally:
            self._pending.pop(session_id, None)
        log.info("camera[%s] viewer %s via %s", camera.id, session_id, role_name)
        return LiveAnswer(answer_sdp, camera.id, role_name, codec, session_id)

    async def offer_source(
        self,
        source: PacketSource,
        sdp: str,
        profile_level_id: str | None,
        label: str,
        *,
        requester: Requester | None = None,
    ) -> SourceAnswer:
        """Answer a browser's SDP offer with a relay of any packet source.

        Args:
            source: the H.264 source; subscribed here, released when the
                session ends.
            sdp: the browser's offer.
            profile_level_id: the source's H.264 ``profile-level-id``, for
                the answer's codec preferences.
            label: names the source in logs and :meth:`sessions`.
            requester: who asks; None is the service itself.

        Raises:
            LiveViewError: shutting down. TooManyViewers, BadOffer: as named.
        """
        check_offer(sdp)
        session_id, holder = self._admit(requester)
        try:
            sub = source.subscribe(name=f"viewer {label}")
            shows: dict[str, object] = {"source": label}
            session = self._session(session_id, holder, requester, source, sub, shows)
            answer_sdp, codec = await self._negotiate(session, sdp, profile_level_id)
        finally:
            self._pending.pop(session_id, None)
        log.info("source[%s] viewer %s", label, session_id)
        return SourceAnswer(answer_sdp, label, codec, session_id)

    def open_stream(
        self, source: PacketSource, label: str, requester: Requester | None = None
    ) -> LiveSession:
        """Admit an MPEG-TS client of ``source``; its subscriber is the session's.

        The caller marks it with :meth:`stream_started` when its response
        starts and ends it with :meth:`end_stream`; one never started within
        the connect bound is reaped.

        Raises:
            LiveViewError: shutting down. TooManyViewers: a limit, named.
        """
        session_id, holder = self._admit(requester)
        self._pending.pop(session_id)
        sub = source.subscribe(name=f"mpegts {label}")
        shows: dict[str, object] = {"source": label}
        session = self._session(session_id, holder, requester, source, sub, shows)
        session.kind = SessionKind.MPEGTS  # its lifetime: started, then write timeout
        self._sessions[session_id] = session
        log.info("source[%s] mpegts client %s", label, session_id)
        return session

    def stream_started(self, session_id: str) -> None:
        """The MPEG-TS response of the session has started."""
        if (session := self._sessions.get(session_id)) is not None:
            session.started = True

    def end_stream(self, session_id: str) -> None:
        """The MPEG-TS client left or was dropped: release its subscriber."""
        if (session := self._sessions.pop(session_id, None)) is not None:
            session.source.unsubscribe(session.subscriber)

    def _session(
        self,
        session_id: str,
        holder: Holder,
        requester: Requester | None,
        source: PacketSource,
        sub: PacketSubscriber,
        shows: dict[str, object],
    ) -> LiveSession:
        owner = "service" if requester is None else requester.principal.name
        return LiveSession(
            session_id, SessionKind.WEBRTC, holder, owner, shows, self._clock(),
            source, sub,
        )  # fmt: skip

    async def _negotiate(
        self, session: LiveSession, sdp: str, profile_level_id: str | None
    ) -> tuple[str, str]:
        """Answer the offer; returns (answer SDP, codec). On failure all is released."""
        ice = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in self.settings.ice_servers
        ]
        session.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        session.track = track = RelayTrack(session.source, session.subscriber)
        self._sessions[session.session_id] = session
        self._pending.pop(session.session_id, None)
        pc.on("connectionstatechange", self._wake.set)
        answered = False
        try:
            transceiver = pc.addTransceiver(track, direction="sendonly")
            transceiver.setCodecPreferences(h264_preferences(profile_level_id))
            watch_peer(transceiver, lambda: self._heard(session))
            await pc.setRemoteDescription(Description(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            answered = True
        except ServiceError:
            raise
        except Exception as err:
            log.info("offer %s not negotiated: %r", session.session_id, err)
            raise BadOffer("bad_offer", "the offer could not be negotiated") from err
        finally:
            if not answered:
                await self._close(session.session_id)
        session.opened_s = self._clock()  # the connect bound runs from the answer
        codec = next(c for c in transceiver._codecs if c.mimeType == "video/H264")
        profile = codec.parameters.get("profile-level-id", "?")
        return pc.localDescription.sdp, f"H264/{profile}"

    def _heard(self, session: LiveSession) -> None:
        session.heard_s = self._clock()

    # ---- closing ----------------------------------------------------------------
    async def _reap(self) -> None:
        tick_s = min(
            1.0, max(0.05, min(self.bounds.connect_s, self.bounds.silent_s) / 5)
        )
        while True:
            try:
                await self.sweep()
            except Exception:  # a reaper that died would leave sessions for ever
                log.exception("live relay sweep failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick_s):
                    await self._wake.wait()
            self._wake.clear()

    async def sweep(self) -> None:
        """Close every session the lifetime rules condemn now (the reaper's tick)."""
        now = self._clock()
        doomed: list[tuple[str, ReapReason]] = []
        for session in self._sessions.values():
            if session.heard_s is None and session.state == "connected":
                session.heard_s = now  # the silence bound runs from here
            reason = verdict(self.bounds, session.observed(), now)
            if reason is not None:
                doomed.append((session.session_id, reason))
        for session_id, reason in doomed:
            if reason is not ReapReason.CLOSED:
                self.reaped[reason] += 1
                log.info("live session %s closed: %s", session_id, reason.value)
        await asyncio.gather(*(self._close(sid) for sid, _ in doomed))

    async def _close(self, session_id: str) -> None:
        self._pending.pop(session_id, None)
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        if session.track is not None:
            session.track.stop()  # releases the subscriber
        session.source.unsubscribe(session.subscriber)
        if session.pc is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await session.pc.close()
            except TimeoutError:
                log.warning("live session %s: peer did not close in time", session_id)

    async def close_session(
        self, session_id: str, on_behalf_of: Principal | None = None
    ) -> bool:
        """Hang up one session; False if it does not exist for ``on_behalf_of``.

        A session of someone else is "not there" for a caller who is not an
        admin, so its existence does not leak.
        """
        session = self._sessions.get(session_id)
        if session is None or (
            on_behalf_of is not None and not may_manage(on_behalf_of, session.holder)
        ):
            return False
        await self._close(session_id)
        return True

    async def close_for_token(self, token_id: int) -> int:
        """Hang up every session of a stored token at once; returns how many.

        For token revocation: WebRTC peers are closed, MPEG-TS clients'
        streams end.
        """
        return await self._close_where(f"token:{token_id}")

    async def close_for_principal(self, principal: Principal) -> int:
        """Hang up every session of ``principal`` (by token id, else by name)."""
        return await self._close_where(owner_key(principal))

    async def _close_where(self, key: str) -> int:
        ids = [sid for sid, s in self._sessions.items() if s.holder.key == key]
        await asyncio.gather(*(self._close(sid) for sid in ids))
        return len(ids)

    async def aclose(self) -> None:
        """Close every session and stop the reaper (idempotent)."""
        self._closing = True
        await asyncio.gather(*(self._close(sid) for sid in list(self._sessions)))
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        await self._stack.aclose()
