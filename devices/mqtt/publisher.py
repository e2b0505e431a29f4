"""Adapter: publish JSON events to an MQTT broker (QoS 1) over the shared client.

The connection, its network thread, reconnect backoff and the one crossing
from paho's thread to the event loop are :class:`~devices.mqtt.client.MqttClient`'s;
this module adds the outbox and availability. All its state (the outbox,
messages in flight) lives on the loop, and only the loop publishes.

Backpressure (HS9): an outbox bounded to ``outbox_max`` messages drops the
oldest when full and counts it; at most ``max_inflight`` messages are handed
to paho at once (paho keeps those and resends them after a reconnect, and
more than 65,535 unacknowledged publishes would wrap its message ids).

Availability: the will ``<status_topic> = offline`` (retained) fires if the
connection dies; ``online`` (retained) is published on every connect, and
``offline`` on an orderly close. Credentials are never logged or reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from devices.mqtt.client import ClientState, MqttClient
from devices.mqtt.connection import MqttClientConfig, Will, parse_broker_url

__all__ = ["MqttHealth", "MqttPublisher", "MqttPublisherConfig", "PublisherState"]

log = logging.getLogger(__name__)

PublisherState = Literal[
    "not_configured", "connecting", "connected", "disconnected", "refused", "closed"
]
_CLOSE_FLUSH_S = 1.0  # bounded wait for queued messages and 'offline' at close


@dataclass(frozen=True, slots=True)
class MqttPublisherConfig:
    """Where and how to publish.

    Attributes:
        host: Broker host name or address.
        port: Broker TCP port.
        tls: Use TLS (``mqtts://``) with the system's CA store.
        username: User name, if the broker wants one.
        password: Password; never logged and hidden from ``repr``.
        client_id: MQTT client id.
        keepalive_s: MQTT keep-alive in seconds.
        outbox_max: Messages queued while disconnected or busy; the oldest
            is dropped (and counted) beyond this.
        max_inflight: Unacknowledged QoS 1 messages at once.
        status_topic: Availability topic (retained ``online``/``offline``).
        backoff_initial_s: First reconnect delay (doubling, jittered).
        backoff_max_s: Longest reconnect delay.
    """

    host: str
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str = "citywall"
    keepalive_s: int = 30
    outbox_max: int = 1000
    max_inflight: int = 20
    status_topic: str = "wall/status"
    backoff_initial_s: int = 1
    backoff_max_s: int = 30

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MqttPublisherConfig:
        """A config from ``mqtt://host[:port]`` or ``mqtts://host[:port]``.

        Args:
            url: Broker URL without credentials (pass ``username`` and
                ``password`` as options).
            **options: Any other field.

        Raises:
            ValueError: For another scheme, a missing host, a bad port or
                credentials inside the URL (the message never repeats them).

        Examples:
            >>> MqttPublisherConfig.from_url("mqtt://10.0.0.5").port
            1883
            >>> MqttPublisherConfig.from_url("mqtts://broker:8884").tls
            True
        """
        host, port, tls = parse_broker_url(url)
        return cls(host=host, port=port, tls=tls, **options)

    def client_config(self) -> MqttClientConfig:
        """The shared client's settings: MQTT 3.1.1, clean session, the will."""
        return MqttClientConfig(
            host=self.host,
            port=self.port,
            tls=self.tls,
            username=self.username,
            password=self.password,
            client_id=self.client_id,
            protocol="3.1.1",
            # the publisher subscribes to nothing: no session worth keeping
            persistent_session=False,
            keepalive_s=self.keepalive_s,
            will=Will(self.status_topic, b"offline", retain=True),
            max_inflight_out=self.max_inflight,
            backoff_initial_s=float(self.backoff_initial_s),
            backoff_max_s=float(self.backoff_max_s),
        )


@dataclass(frozen=True, slots=True)
class MqttHealth:
    """The publisher's state for the health endpoint.

    Attributes:
        state: ``not_configured``, ``connecting``, ``connected``,
            ``disconnected`` (reconnecting), ``refused`` (by the broker,
            e.g. bad credentials; still retrying) or ``closed``.
        detail: Why, without credentials.
        broker: ``host:port``.
        queued: Messages waiting in the outbox.
        in_flight: Messages handed to paho and not yet acknowledged.
        dropped: Messages dropped from a full outbox since start.
        acked: Messages the broker acknowledged since start.
        connects: Successful connections since start.
    """

    state: PublisherState
    detail: str | None
    broker: str | None
    queued: int
    in_flight: int
    dropped: int
    acked: int
    connects: int


@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    payload: bytes
    retain: bool = False


_STATES: dict[ClientState, PublisherState] = {
    "connecting": "connecting",
    "connected": "connected",
    "reconnecting": "disconnected",
    "refused": "refused",
    "closed": "closed",
}


class MqttPublisher:
    """Publishes JSON on MQTT; a no-op when no broker is configured.

    Use as ``async with MqttPublisher(config) as mqtt:``.

    Args:
        config: The broker, or ``None`` for none (health ``not_configured``).
    """

    def __init__(self, config: MqttPublisherConfig | None) -> None:
        self.config = config
        self._outbox: deque[_Message] = deque()
        self._in_flight: set[int] = set()
        self._dropped = self._acked = 0
        self._client: MqttClient | None = None
        self._closed = config is not None
        self._drained = asyncio.Event()

    async def __aenter__(self) -> MqttPublisher:
        if self.config is None:
            return self
        client = MqttClient(self.config.client_config())
        client.add_listener(self)
        self._client, self._closed = client, False
        await client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def _state(self) -> PublisherState:
        if self.config is None:
            return "not_configured"
        if self._closed or self._client is None:
            return "closed"
        return _STATES[self._client.health().state]

    @property
    def _broker(self) -> str | None:
        c = self.config
        return None if c is None else f"{c.host}:{c.port}"

    # ---- client listener (loop side) -------------------------------------------
    def on_connected(self) -> None:
        """Announce ``online`` (retained) and send what waited."""
        if self._client is not None and self.config is not None:
            self._client.publish(self.config.status_topic, b"online", retain=True)
        self._pump()

    def on_published(self, mid: int) -> None:
        """Count the broker's acknowledgement and hand over more."""
        if mid in self._in_flight:
            self._in_flight.discard(mid)
            self._acked += 1
        self._pump()

    def _pump(self) -> None:
        """Hand queued messages to paho while connected and below the limit."""
        client, config = self._client, self.config
        if client is None or config is None or self._state != "connected":
            return
        while self._outbox and len(self._in_flight) < config.max_inflight:
            msg = self._outbox.popleft()
            ticket = client.publish(msg.topic, msg.payload, retain=msg.retain)
            if ticket.status == "queued":
                # paho keeps the message and sends it after the reconnect
                self._in_flight.add(ticket.mid)
                break
            if ticket.status == "refused":
                self._dropped += 1
                log.warning(
                    "mqtt[%s] paho refused a message on %s: %s",
                    self._broker,
                    msg.topic,
                    ticket.detail,
                )
                continue
            self._in_flight.add(ticket.mid)
        if not self._outbox and not self._in_flight:
            self._drained.set()

    def publish_json(
        self, topic: str, payload: Mapping[str, Any], *, retain: bool = False
    ) -> bool:
        """Queue a JSON message for QoS 1 delivery; never blocks.

        Args:
            topic: MQTT topic, e.g. ``wall/events/gate/crowding``.
            payload: A JSON-serialisable mapping (no secrets).
            retain: Ask the broker to retain the message.

        Returns:
            False if no broker is configured or the publisher is closed.
        """
        if self.config is None or self._state == "closed":
            return False
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        if len(self._outbox) >= self.config.outbox_max:
            self._outbox.popleft()
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                log.warning(
                    "mqtt[%s] outbox full: %d message(s) dropped so far",
                    self._broker,
                    self._dropped,
                )
        self._outbox.append(_Message(topic, data.encode(), retain))
        self._drained.clear()
        self._pump()
        return True

    def health(self) -> MqttHealth:
        """Current state and counters."""
        client = None if self._closed else self._client
        detail = None if client is None else client.health().detail
        connects = 0 if self._client is None else self._client.health().connects
        return MqttHealth(
            self._state,
            detail,
            self._broker,
            len(self._outbox),
            len(self._in_flight),
            self._dropped,
            self._acked,
            connects,
        )

    async def aclose(self) -> None:
        """Flush briefly, publish ``offline``, disconnect and join paho's thread.

        Idempotent and bounded (about one second of flushing).
        """
        client, config = self._client, self.config
        if client is None or config is None or self._closed:
            return
        if self._state == "connected":
            self._outbox.append(_Message(config.status_topic, b"offline", True))
            self._drained.clear()
            self._pump()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_FLUSH_S):
                    await self._drained.wait()
        self._closed = True
        await client.aclose()
