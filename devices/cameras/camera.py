"""Camera streams: demand-driven pulling, packet fan-out and health.

One :class:`CameraStream` per (camera, main|sub). It pulls its source only
while something needs it (a viewer, a snapshot, the detector, or
``always_on``), keeps a GOP-aligned ring of packets, and fans every packet
out to bounded per-subscriber queues, so one camera watched by many viewers
is pulled once (behaviour S8) and a slow viewer only hurts itself.

Threading: the reader thread calls the ``on_*`` sink methods; they take a
lock for shared counters and hop to the event loop with one
``call_soon_threadsafe`` per event. Everything else runs on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.cameras.config import CameraConfig, StreamConfig, StreamPolicy, StreamRole
from devices.cameras.health import FailureReason, StreamHealth, StreamState
from devices.cameras.packets import EncodedPacket, StreamInfo
from devices.cameras.reader import StreamReader
from devices.cameras.ring import PacketRing
from devices.cameras.stats import RateWindow
from devices.cameras.subscriber import PacketSubscriber

log = logging.getLogger(__name__)

HealthListener = Callable[["CameraStream", StreamHealth], None]


@dataclass(frozen=True, slots=True)
class StreamKey:
    """Identifies one stream of one camera."""

    camera_id: str
    role: StreamRole

    def __str__(self) -> str:
        return f"camera[{self.camera_id}]/{self.role.value}"


class CameraStream:
    """One pulled stream with its ring buffer, subscribers and health.

    Args:
        key: camera id and role.
        config: the stream source.
        policy: shared timeouts and backoff.
        buffer_s: ring buffer length.
        loop: the event loop that owns subscribers.
        on_health: called on the loop when the health state changes.
        always_on: pull even with no user.
        wall_clock: the server's epoch clock, for camera clock skew (S7).
    """

    def __init__(
        self,
        key: StreamKey,
        config: StreamConfig,
        policy: StreamPolicy,
        buffer_s: float,
        loop: asyncio.AbstractEventLoop,
        on_health: HealthListener | None = None,
        always_on: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.config = config
        self.policy = policy
        self.loop = loop
        self.always_on = always_on
        self._on_health = on_health
        self._lock = threading.Lock()
        self._ring = PacketRing(buffer_s)
        self._rates = RateWindow(5.0)
        self._reader = StreamReader(
            str(key), config, policy, self, wall_clock=wall_clock
        )
        self._subscribers: set[PacketSubscriber] = set()
        self._users = 0
        self._idle_since_s: float | None = time.monotonic()
        self._state = StreamState.IDLE
        self._reason: FailureReason | None = None
        self._detail: str | None = None
        self._info: StreamInfo | None = None
        self._last_packet_s: float | None = None
        self._clock_skew_s: float | None = None
        self._packet_count = 0
        self._count_at_stall = 0
        self._keyframe_waiters: list[asyncio.Future[bool]] = []
        self._closed = False

    # ---- reader thread side -------------------------------------------------
    def on_state(
        self, state: StreamState, reason: FailureReason | None, detail: str | None
    ) -> None:
        """Reader thread: state change."""
        self._post(self._set_state, state, reason, detail)

    def on_info(self, info: StreamInfo, generation: int) -> None:
        """Reader thread: a connection opened."""
        with self._lock:
            self._info = info
            self._ring.clear()
            self._rates.reset()
        self._post(self._restart_subscribers)

    def on_packet(self, packet: EncodedPacket) -> None:
        """Reader thread: a packet arrived."""
        with self._lock:
            self._ring.append(packet)
            self._rates.add(packet.received_monotonic_s, len(packet.data))
            self._last_packet_s = packet.received_monotonic_s
            self._packet_count += 1
        # Waking the loop per packet costs more than the demux itself; a stream
        # pulled only for its ring (always_on, lingering) skips it. A listener
        # added meanwhile is safe: it reads the ring, which already holds this.
        if self._subscribers or self._keyframe_waiters:
            self._post(self._dispatch, packet)

    def on_clock_skew(self, skew_s: float) -> None:
        """Reader thread: the camera clock's offset from ours."""
        with self._lock:
            self._clock_skew_s = skew_s

    def _post(self, fn: Callable[..., None], *args: object) -> None:
        # the loop may be closed during shutdown: nothing to deliver to then
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(fn, *args)

    # ---- loop side -------------------------------------------------------------
    def _set_state(
        self, state: StreamState, reason: FailureReason | None, detail: str | None
    ) -> None:
        if self._closed and state is not StreamState.IDLE:
            return
        # While reconnecting after a failure, keep showing the failure rather
        # than flapping to "connecting" on every attempt.
        if state is StreamState.CONNECTING and self._state in (
            StreamState.OFFLINE,
            StreamState.STALLED,
        ):
            return
        if state is StreamState.OFFLINE:
            # a failed open will not produce a keyframe soon: answer now
            self._wake_keyframe_waiters(False)
        changed = (state, reason) != (self._state, self._reason)
        self._state, self._reason, self._detail = state, reason, detail
        if changed and self._on_health is not None:
            self._on_health(self, self.health())

    def _restart_subscribers(self) -> None:
        for sub in self._subscribers:
            sub.restart()

    def _dispatch(self, packet: EncodedPacket) -> None:
        for sub in self._subscribers:
            sub.offer(packet)
        if packet.is_keyframe:
            self._wake_keyframe_waiters(True)

    def _wake_keyframe_waiters(self, got_keyframe: bool) -> None:
        waiters, self._keyframe_waiters = self._keyframe_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(got_keyframe)

    @property
    def info(self) -> StreamInfo | None:
        """Description of the current connection, if any."""
        with self._lock:
            return self._info

    @property
    def state(self) -> StreamState:
        """Current state."""
        return self._state

    def health(self) -> StreamHealth:
        """A snapshot of this stream's health."""
        now = time.monotonic()
        with self._lock:
            age = None if self._last_packet_s is None else now - self._last_packet_s
            fps = self._rates.fps(now)
            bps = self._rates.bitrate_bps(now)
            info = self._info
            skew = self._clock_skew_s
        return StreamHealth(
            state=self._state,
            reason=self._reason,
            detail=self._detail,
            last_packet_age_s=age,
            fps=fps,
            bitrate_bps=bps,
            reconnects=self._reader.reconnects,
            viewers=self._users,
            codec=info.codec_name if info else None,
            resolution_wh=info.resolution_wh if info else None,
            clock_skew_s=skew,
            clock_skewed=skew is not None and abs(skew) > self.policy.clock_skew_warn_s,
        )

    def cached_gop(self) -> list[EncodedPacket]:
        """The newest GOP in the ring (empty if none yet)."""
        with self._lock:
            return self._ring.latest_gop()

    def packets_between(
        self, start_monotonic_s: float, end_monotonic_s: float
    ) -> list[EncodedPacket]:
        """Packets for a clip window, from the keyframe at or before the start."""
        with self._lock:
            return self._ring.window(start_monotonic_s, end_monotonic_s)

    def acquire(self) -> None:
        """Register a user; starts pulling if needed."""
        if self._closed:
            raise RuntimeError(f"{self.key} is closed")
        self._users += 1
        self._idle_since_s = None
        self._reader.start()

    def release(self) -> None:
        """Unregister a user; pulling stops after the idle linger."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            self._idle_since_s = time.monotonic()

    def subscribe(self, name: str = "", from_cache: bool = True) -> PacketSubscriber:
        """A new packet subscriber, preloaded with the cached GOP.

        The caller must :meth:`unsubscribe` it. Starting from the cached GOP
        lets a new viewer decode at once instead of waiting for the camera's
        next keyframe (behaviour S6).
        """
        self.acquire()
        sub = PacketSubscriber(
            self.policy.subscriber_queue_packets, name or str(self.key)
        )
        if from_cache:
            sub.preload(self.cached_gop())
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: PacketSubscriber) -> None:
        """Remove a subscriber (idempotent)."""
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            sub.close()
            self.release()

    async def wait_keyframe(self, timeout_s: float) -> bool:
        """Wait until the ring holds a GOP.

        Returns:
            True once a keyframe is cached; False on timeout, or at once when
            the stream is failing (offline) so callers answer without delay.
        """
        if self.cached_gop():
            return True
        if self._state is StreamState.OFFLINE:
            return False
        fut: asyncio.Future[bool] = self.loop.create_future()
        self._keyframe_waiters.append(fut)
        try:
            async with asyncio.timeout(timeout_s):
                return await fut
        except TimeoutError:
            return False

    def tick(self, now_s: float) -> None:
        """Periodic upkeep on the loop: start always-on, stop idle, flag stalls."""
        if self._closed:
            return
        wanted = self.always_on or self._users > 0
        if wanted and not self._reader.running:
            # also covers a reader that was ending just as a new user arrived
            self._reader.start()
        idle = self._users == 0 and not self.always_on
        lingered = (
            self._idle_since_s is not None
            and now_s - self._idle_since_s >= self.policy.idle_linger_s
        )
        if idle and lingered and self._reader.running:
            log.info("%s idle, closing", self.key)
            self._reader.request_stop()
        with self._lock:
            last, count = self._last_packet_s, self._packet_count
        fresh = last is not None and now_s - last <= self.policy.stall_after_s
        if self._state is StreamState.LIVE and last is not None and not fresh:
            self._count_at_stall = count
            self._set_state(
                StreamState.STALLED,
                FailureReason.STALLED,
                "no packet within the stall timeout",
            )
        elif (
            self._state is StreamState.STALLED
            and self._reason is FailureReason.STALLED
            and fresh
            and count - self._count_at_stall >= 3
        ):
            # the same connection flows again (a network hiccup); a single
            # late packet (FFmpeg flushing its last frame) does not count
            self._set_state(StreamState.LIVE, None, None)

    def begin_close(self) -> None:
        """Stop pulling and wake every subscriber."""
        self._closed = True
        self._reader.request_stop()
        for sub in list(self._subscribers):
            sub.close()
        self._subscribers.clear()

    def join(self, timeout_s: float) -> bool:
        """Wait for the reader thread (call from a worker thread)."""
        return self._reader.join(timeout_s)


class Camera:
    """A configured camera with its main and optional sub stream."""

    def __init__(
        self, config: CameraConfig, streams: dict[StreamRole, CameraStream]
    ) -> None:
        self.config = config
        self.streams = streams

    @property
    def id(self) -> str:
        """Camera id."""
        return self.config.id

    def stream(self, role: StreamRole) -> CameraStream:
        """The stream for ``role``; the main stream if the camera has no sub."""
        return self.streams.get(role) or self.streams[StreamRole.MAIN]
