"""Decoding a stream's packets into pictures, for analysis (not for display).

Live view never decodes; detection and snapshots do. A :class:`FrameDecoder`
subscribes to a :class:`~devices.cameras.camera.CameraStream` like any viewer and
decodes on its own thread. Its output is a latest-frame-wins mailbox: the
analyser always takes the newest picture, and a picture that nobody took is
simply replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import av

from devices.cameras.camera import CameraStream
from devices.cameras.packets import EncodedPacket
from devices.cameras.subscriber import StreamClosed

log = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A decoded picture (kept in the decoder's native YUV until pixels are needed).

    Attributes:
        frame: the PyAV video frame.
        received_monotonic_s: when its packet arrived.
        decoded_monotonic_s: when decoding finished.
        seq: the packet sequence number.
    """

    frame: Any
    received_monotonic_s: float
    decoded_monotonic_s: float
    seq: int


class FrameDecoder:
    """Decodes one stream on a worker thread into a latest-frame mailbox.

    Args:
        stream: the camera stream to decode.
        threads: FFmpeg decoder threads (1 keeps many cameras fair on few cores).
        max_backlog: packets queued for the thread before it skips to the
            next keyframe.
    """

    def __init__(
        self, stream: CameraStream, threads: int = 1, max_backlog: int = 50
    ) -> None:
        self.stream = stream
        self.threads = threads
        self.frames_decoded = 0
        self.decode_errors = 0
        self.skipped_packets = 0
        self._inbox: queue.Queue[EncodedPacket | object] = queue.Queue(max_backlog)
        self._latest: DecodedFrame | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pump: asyncio.Task[None] | None = None
        self._skipping = False

    async def __aenter__(self) -> FrameDecoder:
        # from the cached GOP: the first picture is there at once, not after
        # the camera's next keyframe
        self._subscriber = self.stream.subscribe(f"decoder {self.stream.key}")
        self._thread = threading.Thread(
            target=self._run, name=f"decoder {self.stream.key}", daemon=True
        )
        self._thread.start()
        self._pump = asyncio.create_task(
            self._pump_packets(), name=f"pump {self.stream.key}"
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop pumping and decoding; idempotent, and bounded even when cancelled."""
        try:
            if self._pump is not None:
                self._pump.cancel()
                try:
                    # wait() absorbs the pump's cancellation but not our caller's
                    await asyncio.wait([self._pump])
                finally:
                    self._pump = None
                    self.stream.unsubscribe(self._subscriber)
        finally:
            if self._thread is not None:
                thread, self._thread = self._thread, None
                self._put_stop()
                # the decode thread ends within one packet; join off the loop
                await asyncio.to_thread(thread.join, 4.0)

    def _put_stop(self) -> None:
        while True:
            try:
                self._inbox.put_nowait(_STOP)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._inbox.get_nowait()

    async def _pump_packets(self) -> None:
        while True:
            try:
                packet = await self._subscriber.get()
            except StreamClosed:
                return
            if self._skipping and not packet.is_keyframe:
                self.skipped_packets += 1
                continue
            try:
                self._inbox.put_nowait(packet)
                self._skipping = False
            except queue.Full:
                # the decoder cannot keep up: skip to the next keyframe
                self._skipping = True
                self.skipped_packets += 1

    def _run(self) -> None:
        codec: av.VideoCodecContext | None = None
        generation = -1
        while True:
            item = self._inbox.get()
            if item is _STOP:
                return
            packet = cast(EncodedPacket, item)
            info = self.stream.info
            if info is None:
                continue
            if codec is None or packet.generation != generation:
                codec = cast(
                    av.VideoCodecContext, av.CodecContext.create(info.codec_name, "r")
                )
                codec.thread_count = self.threads
                if info.extradata:
                    codec.extradata = info.extradata
                generation = packet.generation
            try:
                for frame in codec.decode(av.Packet(packet.data)):
                    decoded = DecodedFrame(
                        frame, packet.received_monotonic_s, time.monotonic(), packet.seq
                    )
                    with self._lock:
                        self._latest = decoded
                        self.frames_decoded += 1
            except av.error.FFmpegError:
                self.decode_errors += 1

    def latest(self) -> DecodedFrame | None:
        """The newest decoded picture, if any."""
        with self._lock:
            return self._latest
