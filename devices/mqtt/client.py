"""The one MQTT client: paho-mqtt 2.x bridged into asyncio (publish and subscribe).

The paho side (its thread, reconnects with jittered backoff, the one crossing
to the event loop) is :class:`~devices.mqtt.network.NetworkThread`; this
component is the loop side: health, the :class:`~devices.mqtt.inbox.Inbox`
of received messages, publishing, and listeners such as the publisher.

Sessions: a stable client id with clean session (3.1.1) or clean start (5)
off and, for 5, a session expiry, so the broker keeps the subscriptions and
unacknowledged QoS 1 messages across our restarts and its own (when it
persists). Subscriptions are sent again on every connect anyway, which also
covers a broker that lost the session. QoS 1 messages are acknowledged only
when the consumer commits them (paho ``manual_ack``; see
:mod:`devices.mqtt.inbox` for order, bounds and redelivery).

Health (HS11, M12): ``connecting`` → ``connected`` → ``reconnecting`` (with
the start of the gap) → ``connected`` again, ``refused`` when the broker
refuses us (bad credentials; still retrying), ``closed``. Each closed gap is
kept as :attr:`MqttClientHealth.last_gap`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from devices.mqtt.connection import MqttClientConfig
from devices.mqtt.inbox import InboundMessage, Inbox, InboxCounters
from devices.mqtt.network import NetworkThread

__all__ = [
    "ClientState",
    "ConnectionGap",
    "ConnectionListener",
    "MqttClient",
    "MqttClientHealth",
    "PublishTicket",
]

log = logging.getLogger(__name__)

ClientState = Literal["connecting", "connected", "reconnecting", "refused", "closed"]


@dataclass(frozen=True, slots=True)
class ConnectionGap:
    """A time without a broker connection (M12).

    Attributes:
        started_at: When the connection was lost (or the client started).
        ended_at: When it was back.
        duration_s: Length, from the monotonic clock.
    """

    started_at: datetime
    ended_at: datetime
    duration_s: float


@dataclass(frozen=True, slots=True)
class MqttClientHealth:
    """Connection state and counters.

    Attributes:
        state: See the module docstring.
        detail: Why (a paho reason or socket error), never credentials.
        broker: ``host:port``.
        disconnected_since: Start of the current gap; ``None`` if connected.
        disconnected_since_monotonic_s: The same on the monotonic clock.
        last_gap: The most recent gap that ended.
        connects: Successful connections.
        disconnects: Connections lost (not counting refusals).
        session_present: The broker kept our session at the last connect.
        subscribed: Every subscription was granted on this connection.
        inbox: Inbound queue counters.
    """

    state: ClientState
    detail: str | None
    broker: str
    disconnected_since: datetime | None
    disconnected_since_monotonic_s: float | None
    last_gap: ConnectionGap | None
    connects: int
    disconnects: int
    session_present: bool
    subscribed: bool
    inbox: InboxCounters


@dataclass(frozen=True, slots=True)
class PublishTicket:
    """What paho did with a publish.

    Attributes:
        mid: Packet id (its ``on_published`` acknowledgement carries it).
        status: ``sent`` (handed to paho), ``queued`` (no connection; paho
            sends it after the reconnect) or ``refused`` (paho's queue is full
            or the message is invalid; it is gone).
        detail: paho's reason when refused.
    """

    mid: int
    status: Literal["sent", "queued", "refused"]
    detail: str | None = None


class ConnectionListener(Protocol):
    """Loop-side hooks for a component that shares the client (the publisher)."""

    def on_connected(self) -> None:
        """A connection was accepted; subscriptions are on their way."""

    def on_published(self, mid: int) -> None:
        """The broker acknowledged our QoS 1 publish ``mid``."""


class MqttClient:
    """One broker connection for publishing and subscribing.

    Use as ``async with MqttClient(config) as client:``; take messages with
    :meth:`receive`, acknowledge committed ones with :meth:`commit`.

    Args:
        config: The broker and the session.
        clock: Monotonic seconds (injectable for tests).
        wall_clock: Current UTC time (injectable for tests).
    """

    def __init__(
        self,
        config: MqttClientConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._clock, self._wall_clock = clock, wall_clock
        self._network = NetworkThread(config, self, clock, wall_clock)
        self._paho = self._network.paho
        self.inbox = Inbox(
            lambda mid: self._paho.ack(mid, 1),
            max_unacked=config.max_unacked,
            qos0_max=config.qos0_max,
        )
        self._listeners: list[ConnectionListener] = []
        self._state: ClientState = "connecting"
        self._detail: str | None = None
        self._since: tuple[datetime, float] | None = None
        self._last_gap: ConnectionGap | None = None
        self._connects = self._disconnects = 0
        self._session_present = self._subscribed = False
        self._changed = asyncio.Event()
        self._started = False

    def add_listener(self, listener: ConnectionListener) -> None:
        """Call ``listener`` on connects and publish acknowledgements."""
        self._listeners.append(listener)

    async def __aenter__(self) -> MqttClient:
        config = self.config
        self._since = (self._wall_clock(), self._clock())
        log.info("mqtt[%s] connecting as %s", config.broker, config.client_id)
        self._network.start()
        self._started = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---- network events (NetworkEvents), on the loop ------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def messages_arrived(self) -> None:
        """Move what the network thread received into the inbox."""
        for message in self._network.take_arrivals():
            self.inbox.put(message)
        self._notify()

    def connection_accepted(
        self, generation: int, session_present: bool, subscribing: bool
    ) -> None:
        """A connection is up: close the gap, start a generation, tell listeners."""
        if self._state == "closed":
            return
        self.messages_arrived()  # messages of the old connection come first
        self.inbox.new_connection(generation, session_present=session_present)
        if self._since is not None:
            started_at, started_s = self._since
            self._last_gap = ConnectionGap(
                started_at, self._wall_clock(), self._clock() - started_s
            )
        self._state, self._detail, self._since = "connected", None, None
        self._session_present, self._subscribed = session_present, not subscribing
        self._connects += 1
        log.info(
            "mqtt[%s] connected (session %s)",
            self.config.broker,
            "resumed" if session_present else "new",
        )
        for listener in self._listeners:
            listener.on_connected()
        self._notify()

    def connection_refused(self, reason: str) -> None:
        """The broker refused us; paho keeps retrying with backoff."""
        if self._state == "closed":
            return
        if self._state != "refused":
            log.warning(
                "mqtt[%s] broker refused the connection: %s", self.config.broker, reason
            )
        self._state, self._detail = "refused", reason
        self._notify()

    def connection_lost(self, reason: str) -> None:
        """The connection (or an attempt) failed: a gap starts."""
        if self._state in ("closed", "refused"):
            return
        if self._state == "connected":
            log.warning("mqtt[%s] disconnected: %s", self.config.broker, reason)
            self._disconnects += 1
            self._since = (self._wall_clock(), self._clock())
        self._state, self._detail = "reconnecting", reason
        self._subscribed = False
        self._notify()

    def subscription_result(self, failed: list[str]) -> None:
        """Record whether every filter was granted."""
        if failed:
            log.warning(
                "mqtt[%s] subscription refused: %s",
                self.config.broker,
                ", ".join(failed),
            )
            self._detail = f"subscription refused: {', '.join(failed)}"
        self._subscribed = not failed
        self._notify()

    def publish_acknowledged(self, mid: int) -> None:
        """Pass the broker's PUBACK to the listeners."""
        for listener in self._listeners:
            listener.on_published(mid)

    # ---- public, loop side -------------------------------------------------------
    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> PublishTicket:
        """Hand one message to paho; never blocks."""
        info = self._paho.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            return PublishTicket(info.mid, "sent")
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            return PublishTicket(info.mid, "queued")
        return PublishTicket(info.mid, "refused", paho.error_string(info.rc))

    async def receive(self, max_n: int = 1000) -> list[InboundMessage]:
        """Wait for messages; return up to ``max_n``, oldest first."""
        return await self.inbox.take(max_n)

    def commit(self, messages: Iterable[InboundMessage]) -> None:
        """The messages are committed: acknowledge them (in arrival order)."""
        self.inbox.commit(messages)
        self._notify()

    def health(self) -> MqttClientHealth:
        """Current state and counters."""
        since = self._since if self._state != "connected" else None
        return MqttClientHealth(
            state=self._state,
            detail=self._detail,
            broker=self.config.broker,
            disconnected_since=None if since is None else since[0],
            disconnected_since_monotonic_s=None if since is None else since[1],
            last_gap=self._last_gap,
            connects=self._connects,
            disconnects=self._disconnects,
            session_present=self._session_present,
            subscribed=self._subscribed,
            inbox=self.inbox.counters(),
        )

    async def wait_for(
        self, predicate: Callable[[MqttClientHealth], bool]
    ) -> MqttClientHealth:
        """Wait until ``predicate(health)`` holds (wrap in a timeout)."""
        while not predicate(health := self.health()):
            await self._changed.wait()
        return health

    async def aclose(self) -> None:
        """Disconnect (the will does not fire) and join the network thread.

        Unacknowledged QoS 1 messages stay in the broker's session and are
        delivered again on the next connect. Idempotent and bounded.
        """
        if self._state == "closed":
            return
        self._state, self._detail = "closed", None
        if self._started:
            await self._network.stop()
        self._notify()
        log.info("mqtt[%s] closed", self.config.broker)
