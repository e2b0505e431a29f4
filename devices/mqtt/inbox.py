"""Inbound MQTT messages: a bounded queue and acknowledgement after commit.

The :class:`Inbox` lives on the event loop. :class:`~devices.mqtt.client.MqttClient`
puts every received message into it (in the order paho read them) and the
consumer takes batches, commits them (e.g. to the store) and then calls
:meth:`Inbox.commit`. Only then does a QoS 1 message get its PUBACK, so a crash
before the commit leaves the message unacknowledged in the broker's session and
it is delivered again (at least once; the consumer de-duplicates).

Queue policy (HS9), per QoS:

* **QoS 1: backpressure, never dropped.** Unacknowledged messages are bounded
  by the broker's in-flight window: with MQTT 5 the client announces
  ``max_unacked`` as *Receive Maximum* and the broker must not exceed it; with
  MQTT 3.1.1 the broker's own limit applies (Mosquitto ``max_inflight_messages``,
  default 20). A slow consumer simply does not acknowledge, the window fills
  and the broker holds the rest. Messages the broker sends beyond
  ``max_unacked`` (a 3.1.1 broker with a larger window) are kept and counted
  as ``over_limit``: dropping an unacknowledged message would leave its slot
  of the broker's window taken until the next reconnect. Packet ids are 16-bit,
  so the protocol itself caps a session at 65,535 unacknowledged messages.
* **QoS 0: drop-oldest.** At most ``qos0_max`` wait; beyond that the oldest
  QoS 0 message is dropped and counted (``dropped_qos0``).

Acknowledgement order: MQTT (3.1.1 §4.6, 5 §4.6) requires PUBACKs in the
order the PUBLISH packets arrived, and paho's ``Client.ack`` sends whatever
it is given at once. So the inbox holds an acknowledgement back until every
earlier QoS 1 message of the same connection is committed too; consumers may
commit in any order.

Connections: every successful connect starts a new *generation*. The broker
redelivers what was unacknowledged on the old connection (same session), so
commits of old-generation messages are ignored (``stale_commits``) instead of
acknowledging a packet id the broker may have reused. When the broker reports
the session as present, old-generation QoS 1 messages still waiting in the
queue are discarded (``superseded``): their redelivered copies follow.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["InboundMessage", "Inbox", "InboxCounters"]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One received MQTT message.

    Attributes:
        topic: The topic it was published on.
        payload: The raw payload bytes.
        qos: 0 or 1 (QoS 2 subscriptions are downgraded to 1).
        retain: True when the broker sent it from its retained store, i.e.
            at subscribe time: an old value, not a new event (M11).
        mid: The broker's packet id (meaningful for QoS 1 only).
        duplicate: The broker's DUP flag: it may have been delivered before.
        received_at: Wall-clock receive time (UTC).
        received_monotonic_s: Monotonic receive time, for intervals.
        generation: Which connection delivered it (1 for the first).
        seq: Arrival number, unique for the client's lifetime.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    duplicate: bool
    received_at: datetime
    received_monotonic_s: float
    generation: int
    seq: int


@dataclass(frozen=True, slots=True)
class InboxCounters:
    """Inbox counters since start (see the module docstring for each policy).

    Attributes:
        queued: Messages waiting to be taken.
        unacked: QoS 1 messages of this connection not yet acknowledged.
        received: Messages put in since start.
        acked: PUBACKs sent since start.
        dropped_qos0: QoS 0 messages dropped from a full queue.
        over_limit: QoS 1 messages received beyond ``max_unacked``.
        stale_commits: Commits of messages from an earlier connection.
        superseded: Queued QoS 1 messages discarded because the broker
            redelivers them on the new connection.
    """

    queued: int
    unacked: int
    received: int
    acked: int
    dropped_qos0: int
    over_limit: int
    stale_commits: int
    superseded: int


class Inbox:
    """Bounded queue of inbound messages with in-order acknowledgement.

    Loop-side only: not thread-safe (the client hands messages over on the
    event loop).

    Args:
        send_ack: Sends the PUBACK for a packet id (``Client.ack(mid, 1)``).
        max_unacked: The QoS 1 bound announced to the broker.
        qos0_max: QoS 0 messages kept before the oldest is dropped.
    """

    def __init__(
        self, send_ack: Callable[[int], object], *, max_unacked: int, qos0_max: int
    ) -> None:
        if max_unacked < 1 or qos0_max < 1:
            raise ValueError("inbox bounds must be at least 1")
        self._send_ack = send_ack
        self.max_unacked = max_unacked
        self.qos0_max = qos0_max
        self.generation = 0
        self._qos0: deque[InboundMessage] = deque()
        self._qos1: deque[InboundMessage] = deque()
        # seq -> (mid, committed) for this generation, in arrival order
        self._pending: OrderedDict[int, tuple[int, bool]] = OrderedDict()
        self._ready = asyncio.Event()
        self._received = self._acked = self._dropped_qos0 = 0
        self._over_limit = self._stale = self._superseded = 0

    def new_connection(self, generation: int, *, session_present: bool) -> None:
        """Start a connection's generation (idempotent for the same one).

        Args:
            generation: The connection's number; older numbers are ignored.
            session_present: The broker kept the session, so it redelivers
                every message that was not acknowledged.
        """
        if generation <= self.generation:
            return
        self.generation = generation
        self._pending.clear()
        if session_present:
            kept = [m for m in self._qos1 if m.generation >= generation]
            self._superseded += len(self._qos1) - len(kept)
            self._qos1 = deque(kept)
        self._ready_changed()

    def put(self, message: InboundMessage) -> None:
        """Queue one message (arrival order) under the QoS policy."""
        if message.generation > self.generation:
            self.new_connection(message.generation, session_present=False)
        self._received += 1
        if message.qos == 0:
            if len(self._qos0) >= self.qos0_max:
                self._qos0.popleft()
                self._dropped_qos0 += 1
            self._qos0.append(message)
        else:
            if message.generation == self.generation:
                if len(self._pending) >= self.max_unacked:
                    self._over_limit += 1
                self._pending[message.seq] = (message.mid, False)
            self._qos1.append(message)
        self._ready.set()

    def take_nowait(self, max_n: int) -> list[InboundMessage]:
        """Up to ``max_n`` queued messages, oldest first (may be empty)."""
        out: list[InboundMessage] = []
        q0, q1 = self._qos0, self._qos1
        while len(out) < max_n and (q0 or q1):
            if q1 and (not q0 or q1[0].seq < q0[0].seq):
                out.append(q1.popleft())
            else:
                out.append(q0.popleft())
        self._ready_changed()
        return out

    async def take(self, max_n: int) -> list[InboundMessage]:
        """Wait for at least one message; return up to ``max_n`` of them."""
        while not (self._qos0 or self._qos1):
            await self._ready.wait()
        return self.take_nowait(max_n)

    def commit(self, messages: Iterable[InboundMessage]) -> None:
        """Mark messages committed; acknowledge each once all before it are.

        QoS 0 messages need nothing; messages of an earlier connection are
        counted as stale and left to their redelivered copies.
        """
        for m in messages:
            if m.qos == 0:
                continue
            entry = (
                self._pending.get(m.seq) if m.generation == self.generation else None
            )
            if entry is None:
                self._stale += m.generation != self.generation
                continue
            self._pending[m.seq] = (entry[0], True)
        while self._pending:
            seq, (mid, committed) = next(iter(self._pending.items()))
            if not committed:
                break
            del self._pending[seq]
            self._send_ack(mid)
            self._acked += 1

    def counters(self) -> InboxCounters:
        """Current counters."""
        return InboxCounters(
            queued=len(self._qos0) + len(self._qos1),
            unacked=len(self._pending),
            received=self._received,
            acked=self._acked,
            dropped_qos0=self._dropped_qos0,
            over_limit=self._over_limit,
            stale_commits=self._stale,
            superseded=self._superseded,
        )

    def _ready_changed(self) -> None:
        if self._qos0 or self._qos1:
            self._ready.set()
        else:
            self._ready.clear()
