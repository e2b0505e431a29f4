"""PyAV adapter: one thread that pulls one stream's encoded packets.

The thread opens the source with minimal probing (ffmpeg's default probe
costs seconds per open), demuxes packets without decoding them, and hands
each to a :class:`ReaderSink`. Failures become states with a reason, never
exceptions out of the thread; reconnects back off with jitter.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import av
import av.error

from devices.backoff import Backoff
from devices.cameras.config import StreamConfig, StreamPolicy
from devices.cameras.health import FailureReason, StreamState
from devices.cameras.packets import (
    EncodedPacket,
    StreamInfo,
    VideoCodec,
    avcc_to_annexb,
    h264_has_parameter_sets,
    h264_profile_level_id,
)
from devices.redaction import mask_text, mask_url

log = logging.getLogger(__name__)

#: a stream live for this long resets the backoff (a server that accepts and
#: drops at once must not reconnect hotter than the backoff)
HEALTHY_AFTER_S = 5.0


class ReaderSink(Protocol):
    """Receives what a reader thread produces (called on the reader thread)."""

    def on_state(
        self, state: StreamState, reason: FailureReason | None, detail: str | None
    ) -> None:
        """The stream changed state."""

    def on_info(self, info: StreamInfo, generation: int) -> None:
        """A (re)connection opened a stream with this description."""

    def on_packet(self, packet: EncodedPacket) -> None:
        """A packet arrived."""

    def on_clock_skew(self, skew_s: float) -> None:
        """Camera clock minus server clock, seconds (from RTCP sender reports)."""


@dataclass(frozen=True, slots=True)
class OpenFailure:
    """A classified failure to open or read a stream."""

    reason: FailureReason
    detail: str


def classify_error(err: BaseException) -> OpenFailure:
    """Map a PyAV / OS error to a reason with a credential-free message (S1)."""
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return OpenFailure(
            FailureReason.UNAUTHORIZED, "camera refused the credentials (401/403)"
        )
    if isinstance(err, av.error.HTTPNotFoundError):
        return OpenFailure(
            FailureReason.NOT_FOUND, "stream path not found on the camera (404)"
        )
    if isinstance(err, ConnectionRefusedError):
        return OpenFailure(FailureReason.REFUSED, "connection refused")
    if isinstance(err, av.error.ExitError | TimeoutError | socket.timeout):
        return OpenFailure(FailureReason.TIMEOUT, "no answer within the timeout")
    if isinstance(err, socket.gaierror):
        return OpenFailure(FailureReason.DNS, "host name could not be resolved")
    if isinstance(err, av.error.FileNotFoundError | FileNotFoundError):
        return OpenFailure(FailureReason.NOT_FOUND, "source file not found")
    text = getattr(err, "strerror", None) or type(err).__name__
    return OpenFailure(FailureReason.ERROR, mask_text(str(text)))


def _is_rtsp(config: StreamConfig) -> bool:
    return urlsplit(config.url).scheme in ("rtsp", "rtsps")


def _open_options(config: StreamConfig, policy: StreamPolicy) -> dict[str, str]:
    if _is_rtsp(config):
        # Minimal probing: the SDP already describes the stream. Not
        # fflags=nobuffer: it discards the probed keyframe (field notes).
        # FFmpeg's own socket timeout (microseconds) bounds connect and every
        # read: PyAV's timeout= instead runs a callback that takes the GIL on
        # every I/O poll, and costs more CPU than relaying the stream.
        return {
            "rtsp_transport": config.transport.value,
            "analyzeduration": "0",
            "probesize": "32",
            "rtsp_flags": "prefer_tcp" if config.transport.value == "tcp" else "",
            # a second beyond the stall: the upkeep tick reports the stall
            # first, since FFmpeg flushes a buffered frame on its first timeout
            "timeout": str(int((policy.stall_after_s + 1.0) * 1_000_000)),
        }
    return {}


def _source_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path if parts.scheme == "file" else url


def stream_info(stream: Any) -> StreamInfo:
    """Describe a PyAV video stream."""
    name = str(stream.codec_context.name)
    codec = {"h264": VideoCodec.H264, "hevc": VideoCodec.H265}.get(
        name, VideoCodec.OTHER
    )
    extradata = avcc_to_annexb(bytes(stream.codec_context.extradata or b""))
    return StreamInfo(
        codec=codec,
        codec_name=name,
        resolution_wh=(
            int(stream.codec_context.width or 0),
            int(stream.codec_context.height or 0),
        ),
        extradata=extradata,
        profile_level_id=h264_profile_level_id(extradata)
        if codec is VideoCodec.H264
        else None,
    )


class StreamReader:
    """Owns one reader thread for one stream URL.

    Args:
        label: ``camera[id]/role`` for logs.
        config: the stream's URL and transport.
        policy: timeouts and backoff.
        sink: receives states, infos and packets (on the reader thread).
        clock: monotonic clock (tests may inject one).
        wall_clock: the server's UTC clock in epoch seconds (tests may shift it).
    """

    def __init__(
        self,
        label: str,
        config: StreamConfig,
        policy: StreamPolicy,
        sink: ReaderSink,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.label = label
        self.config = config
        self.policy = policy
        self.sink = sink
        self.clock = clock
        self.wall_clock = wall_clock
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = Backoff(policy.backoff_initial_s, policy.backoff_max_s)
        self._generation = 0
        self._seq = 0
        self._live_since: float | None = None  # the session's first packet

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread, or cancel a pending stop if it is still running."""
        if self.running:
            # a user arrived during the idle linger's stop: keep the thread
            self._stop.clear()
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"reader {self.label}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop; it exits within about one read timeout."""
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            if not first:
                self.reconnects += 1
            first = False
            failure, live_for_s = self._session()
            if self._stop.is_set():
                break
            if failure is None:  # a looped file ended: reopen at once
                continue
            if live_for_s >= HEALTHY_AFTER_S:
                self._backoff.reset()
            delay = self._backoff.next_delay_s()
            state = (
                StreamState.STALLED
                if failure.reason is FailureReason.STALLED
                else StreamState.OFFLINE
            )
            self.sink.on_state(state, failure.reason, failure.detail)
            log.info(
                "%s %s (%s); retry in %.1fs",
                self.label,
                state.value,
                failure.detail,
                delay,
            )
            self._stop.wait(delay)
        self.sink.on_state(StreamState.IDLE, None, None)

    def _resolve(self) -> OpenFailure | None:
        parts = urlsplit(self.config.url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        try:
            socket.getaddrinfo(
                parts.hostname, parts.port or 554, type=socket.SOCK_STREAM
            )
        except socket.gaierror as err:
            return classify_error(err)
        return None

    def _session(self) -> tuple[OpenFailure | None, float]:
        """One connection: open and read until failure or stop.

        Returns:
            The failure (None for a looped file's end) and the seconds live.
        """
        self.sink.on_state(StreamState.CONNECTING, None, None)
        opened = self._open()
        if isinstance(opened, OpenFailure):
            return opened, 0.0
        container = opened
        self._live_since = None
        try:
            if not container.streams.video:
                return OpenFailure(
                    FailureReason.NO_VIDEO, "source has no video stream"
                ), 0.0
            return self._demux(container, container.streams.video[0])
        except (av.error.ExitError, TimeoutError) as err:
            if self._live_since is None and isinstance(err, TimeoutError):
                return classify_error(err), 0.0  # never got going: a timeout
            return OpenFailure(
                FailureReason.STALLED, "no packet within the stall timeout"
            ), self._live_for(self._live_since)
        except Exception as err:
            return classify_error(err), self._live_for(self._live_since)
        finally:
            container.close()

    def _open(self) -> Any:
        """The opened container, or the failure of resolving or opening it."""
        failure = self._resolve()
        if failure is not None:
            return failure
        timeout = None
        if not _is_rtsp(self.config):
            timeout = (self.policy.open_timeout_s, self.policy.stall_after_s)
        try:
            return av.open(
                _source_path(self.config.url),
                options=_open_options(self.config, self.policy),
                timeout=timeout,
            )
        except Exception as err:  # every library failure becomes a state
            return classify_error(err)

    def _demux(self, container: Any, stream: Any) -> tuple[OpenFailure | None, float]:
        # sets _live_since at the first packet, for the caller's error paths
        info = stream_info(stream)
        self._generation += 1
        self.sink.on_info(info, self._generation)
        log.info(
            "%s opened %s %s", self.label, info.codec_name, mask_url(self.config.url)
        )
        pacer = _Pacer(self.clock) if self.config.loop else None
        # Fraction arithmetic per packet is slow: convert the base once
        time_base_s = float(stream.time_base) if stream.time_base else 0.0
        for packet in container.demux(stream):
            if self._stop.is_set():
                return None, 0.0
            if packet.size == 0:
                continue
            if self._live_since is None:
                self._live_since = self.clock()
                state = (
                    StreamState.UNSUPPORTED_CODEC
                    if info.codec is VideoCodec.H265
                    else StreamState.LIVE
                )
                self.sink.on_state(state, None, None)
            self._emit(packet, info, pacer, time_base_s)
            if packet.is_keyframe:
                self._measure_skew(container, packet)
        if self.config.loop and self._live_since is not None:
            return None, 0.0
        return OpenFailure(FailureReason.ENDED, "stream ended"), self._live_for(
            self._live_since
        )

    def _live_for(self, since: float | None) -> float:
        return 0.0 if since is None else self.clock() - since

    def _emit(
        self, packet: Any, info: StreamInfo, pacer: _Pacer | None, time_base_s: float
    ) -> None:
        pts = packet.pts
        pts_s = pts * time_base_s if pts is not None else None
        if pacer is not None and pts_s is not None:
            pacer.wait(pts_s, self._stop)
        data = bytes(packet)
        keyframe = bool(packet.is_keyframe)
        if (
            keyframe
            and info.codec is VideoCodec.H264
            and not h264_has_parameter_sets(data)
        ):
            # cameras that send SPS/PPS only in the SDP: a browser needs them in-band
            data = info.extradata + data
        self._seq += 1
        self.sink.on_packet(
            EncodedPacket(
                data=data,
                is_keyframe=keyframe,
                received_monotonic_s=self.clock(),
                pts_s=pts_s,
                seq=self._seq,
                generation=self._generation,
            )
        )

    def _measure_skew(self, container: Any, packet: Any) -> None:
        # RTSP: FFmpeg learns the camera's wall clock from the first RTCP
        # sender report (a few seconds in) as start_time_realtime.
        realtime_us = getattr(container, "start_time_realtime", None)
        if not realtime_us or packet.pts is None:
            return
        camera_s = realtime_us / 1e6 + float(packet.pts * packet.time_base)
        self.sink.on_clock_skew(camera_s - self.wall_clock())


class _Pacer:
    """Releases looped file packets at their presentation times."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._origin: tuple[float, float] | None = None

    def wait(self, pts_s: float, stop: threading.Event) -> None:
        now = self.clock()
        if self._origin is None or pts_s < self._origin[1]:
            self._origin = (now, pts_s)
            return
        due = self._origin[0] + (pts_s - self._origin[1])
        if due - now > 1.0:  # a jump in the file's timestamps: re-anchor
            self._origin = (now, pts_s)
            return
        if due > now:
            stop.wait(due - now)
