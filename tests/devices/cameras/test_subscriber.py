from __future__ import annotations

import asyncio

import pytest

from devices.cameras.packets import EncodedPacket
from devices.cameras.subscriber import PacketSubscriber, StreamClosed


def pkt(i: int, gop: int = 10) -> EncodedPacket:
    return EncodedPacket(bytes([i % 256]), i % gop == 0, i / 25, None, i, 1)


async def test_subscriber_waits_for_a_keyframe_first() -> None:
    sub = PacketSubscriber(max_packets=100)
    for i in range(5, 15):
        sub.offer(pkt(i))
    first = await sub.get()
    assert first.seq == 10 and first.is_keyframe
    assert sub.dropped_packets == 5


async def test_slow_subscriber_skips_to_next_keyframe_and_counts() -> None:
    sub = PacketSubscriber(max_packets=8)
    for i in range(0, 35):
        sub.offer(pkt(i))
    got = []
    while (p := sub.get_nowait()) is not None:
        got.append(p.seq)
    # never a P-frame without the keyframe it depends on
    assert got[0] % 10 == 0
    assert got == list(range(got[0], got[0] + len(got)))
    assert sub.gop_skips >= 1
    assert sub.dropped_packets + len(got) == 35


async def test_restart_drops_backlog_until_new_keyframe() -> None:
    sub = PacketSubscriber(max_packets=100)
    for i in range(0, 5):
        sub.offer(pkt(i))
    sub.restart()
    sub.offer(pkt(5))
    sub.offer(pkt(10))
    assert (await sub.get()).seq == 10


async def test_close_wakes_a_waiting_consumer() -> None:
    sub = PacketSubscriber(max_packets=10)
    waiter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    sub.close()
    with pytest.raises(StreamClosed):
        await waiter


async def test_a_packet_in_the_cached_gop_and_in_flight_is_queued_once() -> None:
    sub = PacketSubscriber(max_packets=100)
    gop = [pkt(i) for i in range(10, 14)]
    sub.preload(gop)
    sub.offer(pkt(13))  # the dispatch of the newest cached packet arrives late
    sub.offer(pkt(14))
    got = []
    while (p := sub.get_nowait()) is not None:
        got.append(p.seq)
    assert got == [10, 11, 12, 13, 14]


async def test_a_new_generation_is_not_mistaken_for_a_duplicate() -> None:
    sub = PacketSubscriber(max_packets=100)
    sub.offer(pkt(10))
    sub.restart()
    sub.offer(EncodedPacket(b"k", True, 9.0, None, 1, 2))  # reconnected, lower seq
    assert (await sub.get()).generation == 2
