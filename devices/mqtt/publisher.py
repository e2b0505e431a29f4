"""Adapter: publish JSON events to an MQTT broker with paho-mqtt 2.x (QoS 1).

paho's network loop runs in paho's own thread and reconnects with its
exponential backoff. Every paho callback hops to the event loop through one
helper, :meth:`MqttPublisher._post`; all state (the outbox, messages in
flight, health) lives on the loop, and only the loop calls
``Client.publish``. That single-thread ownership is also what avoids a lock
inversion: paho calls ``on_publish`` while holding its own message lock.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from devices.addresses import checked_port

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
        backoff_initial_s: First reconnect delay (paho doubles it).
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
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError("broker URL must start with mqtt:// or mqtts://")
        if "@" in parts.netloc:
            raise ValueError("broker URL must not contain credentials")
        if not parts.hostname:
            raise ValueError("broker URL has no host")
        port = checked_port(parts, "broker URL")
        tls = parts.scheme == "mqtts"
        default = 8883 if tls else 1883
        return cls(host=parts.hostname, port=port or default, tls=tls, **options)


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


class MqttPublisher:
    """Publishes JSON on MQTT; a no-op when no broker is configured.

    Use as ``async with MqttPublisher(config) as mqtt:``.

    Args:
        config: The broker, or ``None`` for none (health ``not_configured``).
    """

    def __init__(self, config: MqttPublisherConfig | None) -> None:
        self.config = config
        self._state: PublisherState = "not_configured" if config is None else "closed"
        self._detail: str | None = None
        self._outbox: deque[_Message] = deque()
        self._in_flight: set[int] = set()
        self._dropped = self._acked = self._connects = 0
        self._client: paho.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drained = asyncio.Event()

    async def __aenter__(self) -> MqttPublisher:
        config = self.config
        if config is None:
            return self
        self._loop = asyncio.get_running_loop()
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if config.username is not None:
            client.username_pw_set(config.username, config.password)
        if config.tls:
            client.tls_set()
        client.will_set(config.status_topic, b"offline", qos=1, retain=True)
        client.reconnect_delay_set(config.backoff_initial_s, config.backoff_max_s)
        client.max_inflight_messages_set(config.max_inflight)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        self._client = client
        self._state = "connecting"
        log.info("mqtt[%s] connecting", self._broker)
        # connect_async does no I/O: paho's thread opens the socket and retries
        client.connect_async(config.host, config.port, config.keepalive_s)
        client.loop_start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def _broker(self) -> str | None:
        c = self.config
        return None if c is None else f"{c.host}:{c.port}"

    # ---- paho thread side: every callback only posts to the loop -------------
    def _post(self, fn: Callable[..., None], *args: object) -> None:
        """The one crossing from paho's thread to the event loop."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(fn, *args)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._post(self._connected, not reason.is_failure, str(reason))

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._post(self._disconnected, str(reason))

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._post(self._disconnected, "connection failed")

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        self._post(self._acknowledged, mid)

    # ---- loop side -------------------------------------------------------------
    def _connected(self, ok: bool, reason: str) -> None:
        if self._state == "closed":
            return
        if not ok:
            if self._state != "refused":
                log.warning(
                    "mqtt[%s] broker refused the connection: %s", self._broker, reason
                )
            self._state, self._detail = "refused", reason
            return
        self._state, self._detail = "connected", None
        self._connects += 1
        log.info("mqtt[%s] connected", self._broker)
        if self._client is not None and self.config is not None:
            self._client.publish(
                self.config.status_topic, b"online", qos=1, retain=True
            )
        self._pump()

    def _disconnected(self, reason: str) -> None:
        if self._state in ("closed", "refused"):
            return
        if self._state == "connected":
            log.warning("mqtt[%s] disconnected: %s", self._broker, reason)
        self._state, self._detail = "disconnected", reason

    def _acknowledged(self, mid: int) -> None:
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
            info = client.publish(msg.topic, msg.payload, qos=1, retain=msg.retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
                # paho keeps the message and sends it after the reconnect
                self._in_flight.add(info.mid)
                break
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._dropped += 1
                log.warning(
                    "mqtt[%s] paho refused a message on %s: %s",
                    self._broker,
                    msg.topic,
                    paho.error_string(info.rc),
                )
                continue
            self._in_flight.add(info.mid)
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
        if self.config is None or self._state in ("not_configured", "closed"):
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
        return MqttHealth(
            self._state,
            self._detail,
            self._broker,
            len(self._outbox),
            len(self._in_flight),
            self._dropped,
            self._acked,
            self._connects,
        )

    async def aclose(self) -> None:
        """Flush briefly, publish ``offline``, disconnect and join paho's thread.

        Idempotent and bounded (about one second of flushing).
        """
        client, config = self._client, self.config
        if client is None or config is None or self._state == "closed":
            return
        if self._state == "connected":
            self._outbox.append(_Message(config.status_topic, b"offline", True))
            self._drained.clear()
            self._pump()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_CLOSE_FLUSH_S):
                    await self._drained.wait()
        self._client = None
        self._state, self._detail = "closed", None
        client.disconnect()
        # loop_stop joins paho's thread: off the event loop
        await asyncio.to_thread(client.loop_stop)
        log.info("mqtt[%s] closed", self._broker)
