"""Frame decoders shared by composed panels: one per camera stream, refcounted."""

from __future__ import annotations

from devices.cameras.camera import CameraStream
from devices.cameras.decoder import FrameDecoder


class DecoderPool:
    """Refcounted frame decoders, one per camera stream, shared across panels.

    Args:
        threads: FFmpeg threads per decoder.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._decoders: dict[CameraStream, FrameDecoder] = {}
        self._users: dict[CameraStream, int] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._decoders)

    async def __aenter__(self) -> DecoderPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def acquire(self, stream: CameraStream) -> FrameDecoder:
        """A running decoder of ``stream``; pair with :meth:`release`."""
        if self._closed:
            raise RuntimeError("decoder pool is closed")
        if stream not in self._decoders:
            decoder = self._decoders[stream] = FrameDecoder(stream, self.threads)
            self._users[stream] = 0
            await decoder.__aenter__()  # subscribes and starts its thread
        self._users[stream] += 1
        return self._decoders[stream]

    async def release(self, decoder: FrameDecoder) -> None:
        """Drop one use; the last user stops the decoder (idempotent per use)."""
        stream = decoder.stream
        if self._decoders.get(stream) is not decoder:
            return
        self._users[stream] -= 1
        if self._users[stream] <= 0:
            del self._decoders[stream], self._users[stream]
            await decoder.aclose()

    async def aclose(self) -> None:
        """Stop every decoder; idempotent."""
        self._closed = True
        decoders, self._decoders, self._users = list(self._decoders.values()), {}, {}
        for decoder in decoders:
            await decoder.aclose()
