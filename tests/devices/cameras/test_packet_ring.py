from __future__ import annotations

import pytest

from devices.cameras.packets import EncodedPacket
from devices.cameras.ring import PacketRing


def pkt(i: int, fps: float = 25.0, gop: int = 50, size: int = 100) -> EncodedPacket:
    return EncodedPacket(b"x" * size, i % gop == 0, i / fps, i / fps, i, 1)


def test_ring_starts_at_a_keyframe() -> None:
    ring = PacketRing(capacity_s=10)
    for i in range(10, 60):  # joins mid-GOP: 10..49 are not decodable
        ring.append(pkt(i))
    assert ring.latest_gop()[0].seq == 50
    assert next(iter(ring)).is_keyframe


@pytest.mark.parametrize(
    ("capacity_s", "packets", "expected_first_seq"),
    [
        (2.0, 250, 150),  # 2 s window, GOP 2 s: keeps last two GOPs (≥ window)
        (4.0, 250, 100),
        (60.0, 250, 0),  # all of it
    ],
)
def test_ring_is_trimmed_by_whole_gops(
    capacity_s: float, packets: int, expected_first_seq: int
) -> None:
    ring = PacketRing(capacity_s=capacity_s)
    for i in range(packets):
        ring.append(pkt(i))
    first = next(iter(ring))
    assert first.seq == expected_first_seq
    assert first.is_keyframe
    assert ring.duration_s() >= min(capacity_s, (packets - 1) / 25) - 2.0


def test_ring_memory_bound_drops_whole_gops_but_keeps_the_last() -> None:
    ring = PacketRing(capacity_s=600, max_bytes=50 * 100 * 2)
    for i in range(500):
        ring.append(pkt(i))
    assert ring.size_bytes <= 50 * 100 * 2 + 50 * 100
    assert next(iter(ring)).is_keyframe
    assert ring.latest_gop()[0].seq == 450


def test_window_starts_at_the_keyframe_before_start() -> None:
    ring = PacketRing(capacity_s=60)
    for i in range(300):
        ring.append(pkt(i))
    clip = ring.window(start_monotonic_s=3.0, end_monotonic_s=5.0)  # frame 75..125
    assert clip[0].seq == 50 and clip[0].is_keyframe
    assert clip[-1].seq == 125


def test_clear_forgets_everything() -> None:
    ring = PacketRing(capacity_s=60)
    for i in range(60):
        ring.append(pkt(i))
    ring.clear()
    assert len(ring) == 0 and ring.latest_gop() == [] and ring.size_bytes == 0
