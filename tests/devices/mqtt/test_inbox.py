"""The inbound queue: QoS policies, acknowledgement order and connections."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from devices.mqtt.inbox import InboundMessage, Inbox

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


class Acks:
    """Records the PUBACKs the inbox sends, in order."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def __call__(self, mid: int) -> None:
        self.sent.append(mid)


def message(
    seq: int, *, qos: int = 1, mid: int | None = None, gen: int = 1
) -> InboundMessage:
    return InboundMessage(
        topic="citywall/stations/s1/plain",
        payload=b'{"n": %d}' % seq,
        qos=qos,
        retain=False,
        mid=seq if mid is None else mid,
        duplicate=False,
        received_at=T0,
        received_monotonic_s=float(seq),
        generation=gen,
        seq=seq,
    )


def inbox(acks: Acks, *, max_unacked: int = 10, qos0_max: int = 10) -> Inbox:
    box = Inbox(acks, max_unacked=max_unacked, qos0_max=qos0_max)
    box.new_connection(1, session_present=False)
    return box


def test_acks_go_out_in_arrival_order_whatever_the_commit_order() -> None:
    acks = Acks()
    box = inbox(acks)
    msgs = [message(i) for i in range(1, 6)]
    for m in msgs:
        box.put(m)
    assert box.take_nowait(10) == msgs
    box.commit([msgs[2], msgs[4]])
    assert acks.sent == []  # 1 and 2 are not committed yet
    box.commit([msgs[0]])
    assert acks.sent == [1]
    box.commit([msgs[1]])
    assert acks.sent == [1, 2, 3]
    box.commit([msgs[3]])
    assert acks.sent == [1, 2, 3, 4, 5]
    assert box.counters().unacked == 0 and box.counters().acked == 5


def test_a_double_commit_never_acknowledges_a_reused_packet_id() -> None:
    acks = Acks()
    box = inbox(acks)
    first = message(1, mid=7)
    box.put(first)
    box.commit([first])
    reused = message(2, mid=7)  # the broker may reuse an acknowledged id
    box.put(reused)
    box.commit([first])  # the consumer commits the old message again
    assert acks.sent == [7]
    assert box.counters().unacked == 1
    box.commit([reused])
    assert acks.sent == [7, 7]


def test_qos0_is_drop_oldest_and_counted_while_qos1_is_never_dropped() -> None:
    acks = Acks()
    box = inbox(acks, max_unacked=2, qos0_max=3)
    for seq in range(1, 7):
        box.put(message(seq, qos=0))
    for seq in range(7, 11):  # twice the announced window: a misbehaving broker
        box.put(message(seq, qos=1))
    counters = box.counters()
    assert counters.dropped_qos0 == 3
    assert counters.over_limit == 2
    assert counters.unacked == 4
    assert [m.seq for m in box.take_nowait(100)] == [4, 5, 6, 7, 8, 9, 10]


def test_qos0_needs_no_ack_and_order_is_kept_across_qos_levels() -> None:
    acks = Acks()
    box = inbox(acks)
    msgs = [message(1, qos=0), message(2), message(3, qos=0), message(4)]
    for m in msgs:
        box.put(m)
    taken = box.take_nowait(3) + box.take_nowait(3)
    assert taken == msgs
    box.commit(taken)
    assert acks.sent == [2, 4]


@pytest.mark.parametrize(("session_present", "left"), [(True, [3]), (False, [2, 3])])
def test_a_new_connection_makes_old_commits_stale(
    session_present: bool, left: list[int]
) -> None:
    acks = Acks()
    box = inbox(acks)
    old_taken, old_queued = message(1), message(2)
    box.put(old_taken)
    box.put(old_queued)
    assert box.take_nowait(1) == [old_taken]
    box.new_connection(2, session_present=session_present)
    box.put(message(3, mid=1, gen=2))  # redelivery of packet id 1
    box.commit([old_taken])
    assert acks.sent == []  # packet id 1 now names the new connection's message
    counters = box.counters()
    assert counters.stale_commits == 1
    assert counters.superseded == (1 if session_present else 0)
    assert [m.seq for m in box.take_nowait(10)] == left


def test_a_message_of_a_newer_connection_starts_that_generation() -> None:
    acks = Acks()
    box = inbox(acks)
    box.put(message(1))
    newer = message(2, gen=2)
    box.put(newer)
    box.new_connection(2, session_present=True)  # late notice: no effect
    box.commit([newer])
    assert acks.sent == [2]
    assert box.generation == 2


async def test_take_waits_for_a_message() -> None:
    acks = Acks()
    box = inbox(acks)
    waiter = asyncio.ensure_future(box.take(10))
    await asyncio.sleep(0)
    assert not waiter.done()
    box.put(message(1))
    async with asyncio.timeout(1):
        assert [m.seq for m in await waiter] == [1]


@pytest.mark.parametrize(("unacked", "qos0"), [(0, 1), (1, 0)])
def test_bounds_must_be_positive(unacked: int, qos0: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Inbox(Acks(), max_unacked=unacked, qos0_max=qos0)
