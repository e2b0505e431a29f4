"""Snapshots: decode the newest GOP of a stream into a JPEG (PyAV + OpenCV).

Runs in a worker thread; decoding happens only on demand, never for live
view.
"""

from __future__ import annotations

from typing import cast

import av
import cv2

from devices.cameras.packets import EncodedPacket, StreamInfo
from devices.errors import SnapshotUnavailable


def gop_to_jpeg(info: StreamInfo, gop: list[EncodedPacket], quality: int = 85) -> bytes:
    """Decode ``gop`` and encode its last picture as JPEG.

    Args:
        info: the stream description (codec and parameter sets).
        gop: packets from a keyframe onwards.
        quality: JPEG quality, 1-100.

    Raises:
        SnapshotUnavailable: no packets, or nothing decodable.
    """
    if not gop:
        raise SnapshotUnavailable("no picture received yet")
    codec = cast(av.VideoCodecContext, av.CodecContext.create(info.codec_name, "r"))
    if info.extradata:
        codec.extradata = info.extradata
    last = None
    try:
        for packet in gop:
            for frame in codec.decode(av.Packet(packet.data)):
                last = frame
        for frame in codec.decode(None):
            last = frame
    except av.error.FFmpegError as err:
        if last is None:
            raise SnapshotUnavailable(f"decode failed: {type(err).__name__}") from err
    if last is None:
        raise SnapshotUnavailable("no decodable picture")
    image = last.to_ndarray(format="bgr24")
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV reports failure as False
        raise SnapshotUnavailable("JPEG encoding failed")
    return bytes(buf.tobytes())
