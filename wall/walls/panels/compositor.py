"""Composite panel output: a panel's tiles decoded, composed and encoded as one H.264.

For decoders that take one stream per panel: a :class:`PanelCompositor` decodes
the panel's cameras (a shared, refcounted :class:`DecoderPool`), composes on
I420 planes with titles, live/lost markers and alarm borders, encodes once with
libx264 and fans packets out like a camera stream (WebRTC: the relay's
``offer_source``; HTTP: :func:`mpegts_chunks`). It composes only while
subscribed. Threading: the loop builds a job per tick; one worker thread
composes and encodes the newest (latest wins); packets return through one
``call_soon_threadsafe``. Drawing lives in :mod:`wall.walls.panels.drawing`. Titles
are ASCII-safe (:func:`~wall.walls.panels.drawing.ascii_title`): Hershey fonts have
no CJK glyphs and the service ships no font rasteriser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass

import av

from devices.cameras.camera import CameraStream
from devices.cameras.decoder import FrameDecoder
from devices.cameras.health import StreamState
from devices.cameras.packets import EncodedPacket
from devices.cameras.subscriber import PacketSubscriber, StreamClosed
from devices.media.encoder import H264Encoder
from devices.media.mpegts import MpegTsMuxer
from wall.live.track import PacketSource
from wall.walls.panels.decoders import DecoderPool
from wall.walls.panels.drawing import Canvas, Feed, draw_panel
from wall.walls.panels.drawing import (  # the compositor's input: re-exported
    ComposedTile as ComposedTile,
)

__all__ = [
    "ComposedTile",
    "DecoderPool",
    "PanelCompositor",
    "PanelSpec",
    "mpegts_chunks",
]

log = logging.getLogger(__name__)

_LIVE_STATES = (StreamState.LIVE, StreamState.UNSUPPORTED_CODEC)  # we decode HEVC


PanelTilesSource = Callable[[], Sequence[ComposedTile]]
"""The panel's current tiles in draw order (lowest first); called on the loop."""
CameraLookup = Callable[[str], CameraStream | None]
"""Returns the stream to decode for a camera id (normally its sub stream)."""


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """Output format of one composed panel.

    Attributes:
        width: px (even). height: px (even). fps: output frame rate.
        bitrate_bps: H.264 target bit rate. gop_s: keyframe interval.
        encoder_threads: libx264 threads. linger_s: composition keeps
            running this long after the last subscriber left.
    """

    width: int = 1920
    height: int = 1080
    fps: float = 12.0
    bitrate_bps: int = 4_000_000
    gop_s: float = 2.0
    encoder_threads: int = 1
    linger_s: float = 3.0

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or min(self.width, self.height) <= 0:
            raise ValueError(f"I420 needs even positive sizes, got {self}")


_Job = tuple[int, tuple[ComposedTile, ...], dict[str, Feed]]  # pts, tiles, feeds


_Post = Callable[[list[EncodedPacket]], None]


class _ComposeWorker:
    """The thread that composes and encodes the newest job (latest wins)."""

    def __init__(
        self, spec: PanelSpec, label: str, post: _Post, generation: int
    ) -> None:
        self.encoder = H264Encoder(
            spec.width, spec.height, spec.fps, spec.bitrate_bps, spec.gop_s,
            spec.encoder_threads, generation,
        )  # fmt: skip
        self.canvas = Canvas(spec.width, spec.height)
        self.frames = self.jobs_dropped = self.errors = 0
        self.compose_s = self.encode_s = 0.0
        self._post, self._label = post, label
        self._cv = threading.Condition()
        self._job: _Job | None = None
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name=f"compositor {label}")
        self.thread.start()

    def submit(self, job: _Job | None) -> None:
        """Replace the pending job; None stops the thread."""
        with self._cv:
            self.jobs_dropped += self._job is not None
            self._job, self._stopping = job, job is None
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._job is not None or self._stopping)
                if self._stopping or self._job is None:
                    return
                job, self._job = self._job, None
            pts, tiles, feeds = job
            try:
                t0 = time.perf_counter()
                draw_panel(self.canvas, tiles, feeds)
                t1 = time.perf_counter()
                packets = self.encoder.encode(self.canvas.buf, pts)
                self.compose_s += t1 - t0
                self.encode_s += time.perf_counter() - t1
                self.frames += 1
            except Exception:
                self.errors += 1
                if self.errors == 1:
                    log.exception("compositor[%s] frame failed", self._label)
                continue
            if packets:
                self._post(packets)


def _feed(stream: CameraStream, decoder: FrameDecoder) -> Feed:
    latest, state = decoder.latest(), stream.state
    live = state in _LIVE_STATES  # a live stream without a picture is still starting
    waiting = live or state in (StreamState.IDLE, StreamState.CONNECTING)
    return Feed(
        latest and latest.frame, live, "CONNECTING" if waiting else "SIGNAL LOST"
    )


class PanelCompositor:
    """One panel composed and encoded on demand; a packet source for relays.

    Use as ``async with PanelCompositor(...) as panel:``. Subscribing starts
    composition; it stops ``spec.linger_s`` after the last subscriber left.

    Args:
        tiles: the panel's current tiles (called on the loop every tick).
        cameras: camera id -> the stream to decode (normally the sub stream).
        spec: output size, rate and encoder settings.
        decoders: a pool shared with other panels; a private one if None.
        label: names the panel in logs, thread names and relay sessions.
        queue_packets: per-subscriber queue bound (then it skips a GOP).
        shutdown_timeout_s: bound on stopping composition.
    """

    def __init__(
        self,
        tiles: PanelTilesSource,
        cameras: CameraLookup,
        spec: PanelSpec | None = None,
        *,
        decoders: DecoderPool | None = None,
        label: str = "panel",
        queue_packets: int = 60,
        shutdown_timeout_s: float = 6.0,
    ) -> None:
        self.spec = spec or PanelSpec()
        self.label = label
        self.queue_packets = queue_packets
        self.shutdown_timeout_s = shutdown_timeout_s
        self._tiles, self._cameras = tiles, cameras
        self._own_pool = decoders is None
        self._pool = decoders if decoders is not None else DecoderPool()
        self._subs: set[PacketSubscriber] = set()
        self._gop: list[EncodedPacket] = []
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._worker: _ComposeWorker | None = None
        self._profile_level_id: str | None = None
        self._closed = False
        self._generation = self.sessions = 0

    @property
    def running(self) -> bool:
        """Whether composition is running now."""
        return self._worker is not None

    @property
    def subscriber_count(self) -> int:
        """Current subscribers (WebRTC viewers, MPEG-TS clients)."""
        return len(self._subs)

    @property
    def profile_level_id(self) -> str:
        """The output's H.264 profile-level-id (ultrafast: Constrained Baseline)."""
        return self._profile_level_id or "42c028"

    def stats(self) -> dict[str, float]:
        """Counters of the running composition (empty when stopped)."""
        if (w := self._worker) is None:
            return {}
        ms = 1000.0 / max(1, w.frames)
        c = {"frames": w.frames, "jobs_dropped": w.jobs_dropped, "errors": w.errors}
        return {**c, "compose_ms": ms * w.compose_s, "encode_ms": ms * w.encode_s}

    async def __aenter__(self) -> PanelCompositor:
        self._task = asyncio.create_task(
            self._supervise(), name=f"compositor {self.label}"
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close subscribers, stop composition and join its thread; idempotent."""
        self._closed = True
        for sub in list(self._subs):
            self.unsubscribe(sub)
        if self._task is not None:
            self._task.cancel()
            try:
                async with asyncio.timeout(self.shutdown_timeout_s):
                    await self._task
            except asyncio.CancelledError:
                if (t := asyncio.current_task()) is not None and t.cancelling():
                    raise
            except TimeoutError:
                log.error("compositor[%s] did not stop in time", self.label)
            self._task = None
        if self._own_pool:
            await self._pool.aclose()

    def subscribe(self, name: str = "", from_cache: bool = True) -> PacketSubscriber:
        """A new subscriber (starts composition); pair with :meth:`unsubscribe`."""
        if self._closed or self._task is None:
            raise RuntimeError(f"compositor {self.label} is not running")
        sub = PacketSubscriber(self.queue_packets, name or self.label)
        if from_cache:
            sub.preload(self.cached_gop())
        self._subs.add(sub)
        self._wanted.set()
        return sub

    def unsubscribe(self, sub: PacketSubscriber) -> None:
        """Remove a subscriber (idempotent)."""
        if sub in self._subs:
            self._subs.discard(sub)
            sub.close()

    def cached_gop(self) -> list[EncodedPacket]:
        """The newest GOP of the current composition (empty if stopped)."""
        return list(self._gop)

    def _publish(self, packets: list[EncodedPacket]) -> None:
        for packet in packets:
            if packet.generation != self._generation:
                continue  # a late packet of a stopped composition
            if packet.is_keyframe:
                self._gop = []
                self._profile_level_id = self._profile_level_id or (
                    self._worker.encoder.profile_level_id if self._worker else None
                )
            if self._gop or packet.is_keyframe:
                self._gop.append(packet)
            for sub in self._subs:
                sub.offer(packet)

    async def _supervise(self) -> None:
        while not self._closed:  # also ends if a cancel was swallowed below
            await self._wanted.wait()
            try:
                await self._compose_while_wanted()
            except Exception:
                log.exception("compositor[%s] failed; restarting", self.label)
                await asyncio.sleep(1.0)
            if not self._subs:
                self._wanted.clear()

    async def _compose_while_wanted(self) -> None:
        loop = asyncio.get_running_loop()
        self._generation += 1
        self.sessions += 1

        def post(packets: list[EncodedPacket]) -> None:
            with contextlib.suppress(RuntimeError):  # loop closed at shutdown
                loop.call_soon_threadsafe(self._publish, packets)

        worker = _ComposeWorker(self.spec, self.label, post, self._generation)
        self._worker = worker
        slots: dict[str, tuple[CameraStream, FrameDecoder]] = {}
        log.info("compositor[%s] started", self.label)
        try:
            period = 1.0 / self.spec.fps
            next_t, idle_since, pts = loop.time(), None, 0
            while not self._closed:
                now = loop.time()
                if self._subs:
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since >= self.spec.linger_s:
                    return
                tiles = tuple(self._tiles())
                await self._reconcile(slots, tiles)
                feeds = {cid: _feed(s, d) for cid, (s, d) in slots.items()}
                worker.submit((pts, tiles, feeds))
                pts += 1
                next_t = max(next_t + period, loop.time() - period)
                await asyncio.sleep(max(0.0, next_t - loop.time()))
        finally:
            worker.submit(None)
            await asyncio.to_thread(worker.thread.join, self.shutdown_timeout_s / 2)
            if worker.thread.is_alive():
                log.error("compositor[%s] worker thread did not stop", self.label)
            self._gop = []
            for _, decoder in slots.values():
                await self._pool.release(decoder)
            self._worker = None  # "running" ends once decoders are released
            log.info("compositor[%s] stopped", self.label)

    async def _reconcile(
        self,
        slots: dict[str, tuple[CameraStream, FrameDecoder]],
        tiles: Sequence[ComposedTile],
    ) -> None:
        """Decode exactly the cameras the tiles show."""
        wanted = {t.camera_id for t in tiles if t.camera_id is not None}
        for cid in list(slots):
            stream, decoder = slots[cid]
            if cid not in wanted or self._cameras(cid) is not stream:
                del slots[cid]
                await self._pool.release(decoder)
        for cid in wanted - slots.keys():
            if (found := self._cameras(cid)) is not None:
                slots[cid] = (found, await self._pool.acquire(found))


async def mpegts_chunks(
    source: PacketSource,
    name: str = "mpegts",
    subscriber: PacketSubscriber | None = None,
) -> AsyncGenerator[bytes, None]:
    """MPEG-TS bytes of a packet source, for a ``video/mp2t`` StreamingResponse.

    Subscribes when iteration starts unless given a subscriber (a panel
    composes while either exists) and unsubscribes when the generator is
    closed (the client left) or the subscriber is closed (the session ended). Muxing one
    packet costs microseconds, so it runs on the loop.

    Args:
        source: a :class:`PanelCompositor` (or a camera stream).
        name: the subscriber's name, for diagnostics.
        subscriber: a subscriber of ``source`` opened already (the relay's
            live session of this client); released here like our own.
    """
    sub = subscriber if subscriber is not None else source.subscribe(name)
    muxer = MpegTsMuxer()
    try:
        while True:
            if data := muxer.mux(await sub.get()):
                yield data
    except StreamClosed:
        return
    finally:
        source.unsubscribe(sub)
        with contextlib.suppress(av.error.FFmpegError, ValueError):
            muxer.close()
