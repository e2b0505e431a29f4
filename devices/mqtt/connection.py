"""Where and how the MQTT client connects: broker URL, session, TLS, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from devices.addresses import checked_port

__all__ = [
    "MqttClientConfig",
    "MqttProtocol",
    "Subscription",
    "Will",
    "parse_broker_url",
]

MqttProtocol = Literal["3.1.1", "5"]
SESSION_EXPIRY_S = 7 * 24 * 3600
"""MQTT 5 session lifetime while disconnected: a week covers any outage."""


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS flag of ``mqtt://host[:port]`` or ``mqtts://host[:port]``.

    Raises:
        ValueError: For another scheme, a missing host, a bad port or
            credentials inside the URL (the message never repeats them).

    Examples:
        >>> parse_broker_url("mqtt://10.0.0.5")
        ('10.0.0.5', 1883, False)
        >>> parse_broker_url("mqtts://broker:8884")
        ('broker', 8884, True)
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
    return parts.hostname, port or (8883 if tls else 1883), tls


@dataclass(frozen=True, slots=True)
class Subscription:
    """A topic filter to subscribe to, on every connect.

    Attributes:
        topic: Filter, e.g. ``citywall/stations/+/senml``.
        qos: Highest QoS wanted (0 or 1).
    """

    topic: str
    qos: Literal[0, 1] = 1


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes if the connection dies.

    Attributes:
        topic: Topic, e.g. ``wall/status``.
        payload: Bytes, e.g. ``b"offline"``.
        retain: Retain it.
    """

    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True, slots=True)
class MqttClientConfig:
    """One broker connection.

    Attributes:
        host: Broker host name or address.
        port: Broker TCP port.
        tls: Use TLS; the broker's certificate is verified.
        ca_file: CA bundle for TLS (PEM); ``None`` for the system's store.
        username: User name, if the broker wants one.
        password: Password; never logged and hidden from ``repr``.
        client_id: Stable client id: the broker keys the session on it.
        protocol: ``"3.1.1"`` or ``"5"``.
        persistent_session: Clean session / clean start off, so the broker
            keeps subscriptions and unacknowledged QoS 1 messages across
            disconnects (MQTT 5: for ``session_expiry_s``).
        session_expiry_s: MQTT 5 session expiry interval.
        keepalive_s: MQTT keep-alive.
        subscriptions: Filters subscribed on every connect.
        will: Last will, if any.
        max_unacked: Unacknowledged inbound QoS 1 messages (MQTT 5
            Receive Maximum; see :mod:`devices.mqtt.inbox`).
        qos0_max: Inbound QoS 0 messages queued before drop-oldest.
        max_inflight_out: Outbound QoS 1 messages unacknowledged at once.
        backoff_initial_s: First reconnect delay (jittered, doubling).
        backoff_max_s: Longest reconnect delay.
        connect_timeout_s: TCP and TLS connect timeout.
    """

    host: str
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str = "citywall"
    protocol: MqttProtocol = "3.1.1"
    persistent_session: bool = True
    session_expiry_s: int = SESSION_EXPIRY_S
    keepalive_s: int = 30
    subscriptions: tuple[Subscription, ...] = ()
    will: Will | None = None
    max_unacked: int = 100
    qos0_max: int = 10_000
    max_inflight_out: int = 20
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    connect_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("an MQTT client id is required for a stable session")
        if not 1 <= self.max_unacked <= 65_535:
            raise ValueError("max_unacked must be between 1 and 65535")
        if self.qos0_max < 1 or self.max_inflight_out < 1:
            raise ValueError("queue bounds must be at least 1")
        if self.backoff_initial_s <= 0 or self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff delays must be positive and ordered")

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MqttClientConfig:
        """A config from a broker URL (see :func:`parse_broker_url`).

        Examples:
            >>> MqttClientConfig.from_url("mqtts://broker", protocol="5").port
            8883
        """
        host, port, tls = parse_broker_url(url)
        return cls(host=host, port=port, tls=tls, **options)

    @property
    def broker(self) -> str:
        """``host:port``, for logs and health (never credentials)."""
        return f"{self.host}:{self.port}"
