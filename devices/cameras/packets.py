"""Encoded video packets and stream descriptions, as value objects.

Packets are what the relay forwards and the ring buffer keeps: compressed
access units in Annex-B form (start codes), never decoded pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VideoCodec(StrEnum):
    """Video codecs the service recognises."""

    H264 = "h264"
    H265 = "hevc"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What an opened stream carries.

    Attributes:
        codec: the video codec.
        codec_name: FFmpeg's name of it (for messages).
        resolution_wh: width and height in pixels, (0, 0) when not yet known.
        extradata: codec parameter sets in Annex-B form (SPS/PPS for H.264).
        profile_level_id: H.264 ``profile-level-id`` (6 hex digits) from the SPS,
            or None when unknown or not H.264.
    """

    codec: VideoCodec
    codec_name: str
    resolution_wh: tuple[int, int]
    extradata: bytes
    profile_level_id: str | None


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One access unit as received.

    Attributes:
        data: Annex-B bytes; a keyframe starts with its parameter sets.
        is_keyframe: True for an IDR (a decoder can start here).
        received_monotonic_s: server receive time (``time.monotonic``); live view
            is timed by this, not by the camera clock (behaviour S7).
        pts_s: presentation time from the source, seconds, or None.
        seq: per-stream sequence number, increasing by one per packet.
        generation: increments on each (re)connection of the stream.
    """

    data: bytes
    is_keyframe: bool
    received_monotonic_s: float
    pts_s: float | None
    seq: int
    generation: int


_START4 = b"\x00\x00\x00\x01"


def nal_units(data: bytes) -> list[bytes]:
    r"""Split an Annex-B byte string into NAL units (without start codes).

    Examples:
        >>> units = nal_units(b"\x00\x00\x00\x01\x67\x64\x00\x00\x01\x68")
        >>> [n[0] & 0x1F for n in units]
        [7, 8]
    """
    units: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = len(data) if nxt < 0 else nxt
        unit = data[start:end]
        if nxt >= 0 and unit.endswith(b"\x00"):
            unit = unit.rstrip(b"\x00")
        if unit:
            units.append(unit)
        i = nxt
    return units


def h264_has_parameter_sets(data: bytes) -> bool:
    """True if an Annex-B access unit carries an SPS (NAL type 7)."""
    return any(unit[0] & 0x1F == 7 for unit in nal_units(data))


def h264_profile_level_id(annexb: bytes) -> str | None:
    r"""The ``profile-level-id`` (RFC 6184) of the first SPS in ``annexb``.

    Examples:
        >>> h264_profile_level_id(b"\x00\x00\x00\x01\x67\x64\x00\x28\xac")
        '640028'
    """
    for unit in nal_units(annexb):
        if unit[0] & 0x1F == 7 and len(unit) >= 4:
            return unit[1:4].hex()
    return None


def avcc_to_annexb(extradata: bytes) -> bytes:
    """Convert an ``avcC`` record (MP4-style extradata) to Annex-B SPS/PPS.

    Annex-B input is returned unchanged.
    """
    if not extradata or extradata[0] != 1:
        return extradata
    out = bytearray()
    pos = 5
    try:
        count = extradata[pos] & 0x1F
        pos += 1
        for _ in range(count):
            size = int.from_bytes(extradata[pos : pos + 2], "big")
            out += _START4 + extradata[pos + 2 : pos + 2 + size]
            pos += 2 + size
        count = extradata[pos]
        pos += 1
        for _ in range(count):
            size = int.from_bytes(extradata[pos : pos + 2], "big")
            out += _START4 + extradata[pos + 2 : pos + 2 + size]
            pos += 2 + size
    except IndexError:
        return b""
    return bytes(out)
