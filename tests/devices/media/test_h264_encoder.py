"""The libx264 adapter: real encoding, decoded back with PyAV."""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from dataclasses import replace
from typing import Any, cast

import av
import numpy as np
import pytest

from devices.cameras.packets import EncodedPacket, h264_has_parameter_sets, nal_units
from devices.media.encoder import H264Encoder, Yuv420Array
from devices.media.mpegts import MpegTsMuxer

W, H = 320, 180


def picture(i: int, w: int = W, h: int = H) -> Yuv420Array:
    """An I420 picture: a moving luma ramp over a mid-grey chroma."""
    pic = np.full((h * 3 // 2, w), 128, np.uint8)
    ramp = (np.arange(w, dtype=np.uint16) * 200 // w + i * 3) % 200 + 20
    pic[:h] = ramp.astype(np.uint8)[None, :]
    return pic


def decode(packets: list[EncodedPacket]) -> list[Any]:
    codec = cast(Any, av.CodecContext.create("h264", "r"))
    frames: list[Any] = []
    for packet in packets:
        frames.extend(codec.decode(av.Packet(packet.data)))
    frames.extend(codec.decode(None))
    return frames


def nal_types(packet: EncodedPacket) -> list[int]:
    return [unit[0] & 0x1F for unit in nal_units(packet.data)]


def test_keyframes_every_gop_with_parameter_sets_and_round_trip() -> None:
    enc = H264Encoder(W, H, fps=12, bitrate_bps=500_000, gop_s=1.0)
    packets: list[EncodedPacket] = []
    for i in range(50):
        out = enc.encode(picture(i), i)
        assert len(out) == 1  # zerolatency: one access unit per picture
        packets.extend(out)
    keys = [p.seq for p in packets if p.is_keyframe]
    assert keys == [0, 12, 24, 36, 48]
    for p in packets:
        assert p.data.startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))  # Annex-B
        # SPS (7) and PPS (8) in front of every IDR (5), and only there
        assert h264_has_parameter_sets(p.data) is p.is_keyframe
        if p.is_keyframe:
            assert {7, 8, 5} <= set(nal_types(p))
    assert [p.pts_s for p in packets[:3]] == pytest.approx([0.0, 1 / 12, 2 / 12])
    # ultrafast -> Constrained Baseline, which every browser decodes
    assert enc.profile_level_id is not None and enc.profile_level_id[:4] == "42c0"
    frames = decode(packets)
    assert len(frames) == 50
    assert (frames[0].width, frames[0].height) == (W, H)
    luma = frames[10].to_ndarray()[:H]  # the Y plane, as encoded (limited range)
    assert np.abs(luma.astype(int) - picture(10)[:H].astype(int)).mean() < 6


def test_a_decoder_can_join_at_any_keyframe() -> None:
    enc = H264Encoder(W, H, fps=10, bitrate_bps=400_000, gop_s=1.0)
    packets = [p for i in range(30) for p in enc.encode(picture(i), i)]
    start = next(i for i, p in enumerate(packets) if p.is_keyframe and p.seq > 0)
    assert len(decode(packets[start:])) == 30 - start


def test_video_frames_of_any_size_and_format_are_converted() -> None:
    enc = H264Encoder(W, H, fps=12, bitrate_bps=300_000, threads=2)
    rgb = np.zeros((90, 160, 3), np.uint8)
    rgb[:, :, 0] = 255  # red
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    packets = enc.encode(frame, 0) + enc.flush()
    out = decode(packets)
    assert (out[0].width, out[0].height) == (W, H)
    back = out[0].to_ndarray(format="rgb24")
    assert back[..., 0].mean() > 200 and back[..., 1].mean() < 50


@pytest.mark.parametrize(
    ("size", "expectation"),
    [
        ((320, 180), does_not_raise()),
        ((321, 180), pytest.raises(ValueError, match="even")),
        ((0, 180), pytest.raises(ValueError, match="even")),
    ],
)
def test_sizes_must_be_even(
    size: tuple[int, int], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        H264Encoder(size[0], size[1], fps=12, bitrate_bps=300_000)


def test_array_shape_is_checked() -> None:
    enc = H264Encoder(W, H, fps=12, bitrate_bps=300_000)
    with pytest.raises(ValueError, match="I420 array"):
        enc.encode(np.zeros((H, W), np.uint8), 0)


def test_mpegts_muxer_packs_access_units_without_reencoding() -> None:
    enc = H264Encoder(W, H, fps=10, bitrate_bps=400_000, gop_s=1.0)
    packets = [p for i in range(35) for p in enc.encode(picture(i), i)]
    # receive times 0.1 s apart, as if live; the muxer times by them
    packets = [replace(p, received_monotonic_s=100.0 + p.seq / 10) for p in packets]
    muxer = MpegTsMuxer()
    # joining mid-GOP: packets before the first keyframe are dropped
    data = b"".join(muxer.mux(p) for p in packets[5:]) + muxer.close()
    assert muxer.close() == b""  # idempotent
    assert len(data) % 188 == 0 and data[::188] == b"\x47" * (len(data) // 188)
    container = av.open(io.BytesIO(data), "r", format="mpegts")
    video = container.streams.video[0]
    assert (video.codec_context.name, video.width, video.height) == ("h264", W, H)
    demuxed = [pk for pk in container.demux(video) if pk.size]
    assert len(demuxed) == 35 - 10  # from the keyframe at seq 10
    # unchanged bytes (the TS muxer only prepends an access unit delimiter)
    assert demuxed[0].is_keyframe and bytes(demuxed[0]).endswith(packets[10].data)
    pts0 = demuxed[0].pts
    assert pts0 is not None  # 0.1 s apart on the 90 kHz clock:
    assert [pk.pts for pk in demuxed[:3]] == [pts0, pts0 + 9000, pts0 + 18000]
    frames = [f for pk in demuxed for f in video.codec_context.decode(pk)]
    assert len(frames) >= 20
    container.close()
