"""H.264 output through PyAV: libx264 encoding.

:class:`H264Encoder` turns pictures into Annex-B access units;
:class:`~devices.media.mpegts.MpegTsMuxer` packs access units (encoded here or by a
camera) into MPEG-TS bytes for hardware decoders and VLC, without re-encoding.

Tuned for live output that hardware decoders and browsers join at any time:
``ultrafast`` + ``zerolatency`` (one packet out per picture in, no lookahead),
no B-frames, a fixed GOP without scene-cut keyframes, and SPS/PPS repeated in
front of every keyframe (x264 ``repeat-headers=1``) so that a decoder joining
mid-stream needs nothing but the next keyframe. ``ultrafast`` implies
Constrained Baseline, which every browser and hardware decoder accepts.

Not thread-safe: an encoder is used by one thread.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt

from devices.cameras.packets import EncodedPacket, h264_profile_level_id

Yuv420Array = npt.NDArray[np.uint8]
"""A planar I420 picture as PyAV lays it out: shape (height * 3 // 2, width)."""


class H264Encoder:
    """Encodes I420 pictures to H.264 with libx264.

    Args:
        width: picture width in px (even).
        height: picture height in px (even).
        fps: nominal frame rate; ``pts`` counts frames at this rate.
        bitrate_bps: target bit rate in bits per second.
        gop_s: keyframe interval in seconds (at least one frame).
        threads: libx264 threads; 1 keeps many panels fair on few cores.
        generation: copied into every packet (a new encoder, a new timeline).

    Raises:
        ValueError: odd or non-positive sizes, non-positive fps or bit rate.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        bitrate_bps: int,
        gop_s: float = 2.0,
        threads: int = 1,
        generation: int = 0,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"I420 needs even positive sizes, got {width}x{height}")
        if fps <= 0 or bitrate_bps <= 0:
            raise ValueError("fps and bitrate_bps must be positive")
        self.width = width
        self.height = height
        self.fps = fps
        self.gop_frames = max(1, round(gop_s * fps))
        self.generation = generation
        self.frames_in = 0
        self._seq = 0
        self._profile_level_id: str | None = None
        rate = Fraction(fps).limit_denominator(1001)
        codec = cast(Any, av.CodecContext.create("libx264", "w"))
        codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
        codec.time_base = 1 / rate
        codec.framerate = rate
        codec.bit_rate = bitrate_bps
        codec.gop_size = self.gop_frames
        codec.max_b_frames = 0
        codec.thread_count = threads
        codec.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            # fixed GOP: keyframes exactly every gop_frames, never on scene
            # cuts. No VBV cap: it cost ~40 % more CPU per 1080p frame here.
            "x264-params": (
                f"repeat-headers=1:keyint={self.gop_frames}"
                f":min-keyint={self.gop_frames}:scenecut=0:bframes=0"
            ),
        }
        self._codec = codec

    @property
    def profile_level_id(self) -> str | None:
        """H.264 ``profile-level-id`` of the output, once a keyframe was made."""
        return self._profile_level_id

    def encode(
        self, picture: Yuv420Array | av.VideoFrame, pts: int
    ) -> list[EncodedPacket]:
        """Encode one picture.

        Args:
            picture: an I420 array of shape (height * 3 // 2, width), or a PyAV
                frame (converted to yuv420p at the encoder's size if needed).
            pts: presentation time in frames (1 / ``fps`` seconds), increasing.

        Returns:
            The access units produced (with ``zerolatency`` usually exactly
            one); keyframes start with SPS and PPS.
        """
        if isinstance(picture, av.VideoFrame):
            frame = picture
            if (frame.format.name, frame.width, frame.height) != (
                "yuv420p",
                self.width,
                self.height,
            ):
                frame = frame.reformat(self.width, self.height, "yuv420p")
        else:
            expected = (self.height * 3 // 2, self.width)
            if picture.shape != expected:
                raise ValueError(f"I420 array must be {expected}, got {picture.shape}")
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = pts
        self.frames_in += 1
        return self._wrap(self._codec.encode(frame))

    def flush(self) -> list[EncodedPacket]:
        """Drain the encoder at the end of a stream (it cannot encode after)."""
        return self._wrap(self._codec.encode(None))

    def _wrap(self, packets: list[Any]) -> list[EncodedPacket]:
        out: list[EncodedPacket] = []
        now = time.monotonic()
        for packet in packets:
            data = bytes(packet)
            if packet.is_keyframe and self._profile_level_id is None:
                self._profile_level_id = h264_profile_level_id(data)
            pts_s = None if packet.pts is None else float(packet.pts / self.fps)
            out.append(
                EncodedPacket(
                    data=data,
                    is_keyframe=bool(packet.is_keyframe),
                    received_monotonic_s=now,
                    pts_s=pts_s,
                    seq=self._seq,
                    generation=self.generation,
                )
            )
            self._seq += 1
        return out
