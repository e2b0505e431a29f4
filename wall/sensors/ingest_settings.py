"""The ``sensor_ingest:`` section: the broker the station data comes from.

Absent (the default) means no MQTT ingestion. The client keeps a persistent
session under a stable client id, so QoS 1 messages published while the
service is down are delivered when it is back (zero loss, with
acknowledgement only after the store committed them).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, StringConstraints, model_validator

from devices.mqtt.connection import MqttClientConfig, MqttProtocol, Subscription
from wall.platform.wire import WireModel
from wall.sensors.core.quality import DEFAULT_LATE_AFTER_S

__all__ = ["DEFAULT_SUBSCRIPTIONS", "IngestSettings"]

DEFAULT_SUBSCRIPTIONS = ("citywall/stations/+/+", "v1/gateway/telemetry")
"""The default topic layout: one topic per station and format, and the gateway."""

_FILTER = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class IngestSettings(WireModel):
    """Where station observations arrive over MQTT, and how they are batched."""

    url: str = Field(description="mqtt://host[:port] or mqtts://host[:port].")
    username: str | None = Field(None, description="User name, e.g. ${MQTT_USER}.")
    password: SecretStr | None = Field(
        None, description="Password from the environment, e.g. ${MQTT_PASSWORD}."
    )
    ca_file: str | None = Field(None, description="CA bundle (PEM) for mqtts://.")
    client_id: str = Field(
        "citywall-ingest",
        min_length=1,
        max_length=64,
        description="Stable client id: the broker keeps the session under it.",
    )
    protocol: MqttProtocol = Field("3.1.1", description="MQTT 3.1.1 or 5.")
    subscriptions: tuple[_FILTER, ...] = Field(
        DEFAULT_SUBSCRIPTIONS, min_length=1, description="Topic filters, QoS 1."
    )
    batch_max: int = Field(
        500, ge=1, le=10_000, description="Messages stored per transaction at most."
    )
    max_unacked: int = Field(
        1000, ge=1, le=65_535, description="QoS 1 messages in flight (MQTT 5)."
    )
    late_after_s: float = Field(
        DEFAULT_LATE_AFTER_S, gt=0, description="Older at receipt: flagged late (M2)."
    )
    retry_initial_s: float = Field(
        0.5, gt=0, description="First wait after a store failure (doubling)."
    )
    retry_max_s: float = Field(10.0, gt=0, description="Longest wait between retries.")

    @model_validator(mode="after")
    def _valid(self) -> IngestSettings:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError("retry_max_s must not be below retry_initial_s")
        self.client_config()  # raises ValueError naming the problem
        return self

    def client_config(self) -> MqttClientConfig:
        """The MQTT client's configuration (the password is never logged)."""
        password = self.password
        return MqttClientConfig.from_url(
            self.url,
            username=self.username,
            password=None if password is None else password.get_secret_value(),
            ca_file=self.ca_file,
            client_id=self.client_id,
            protocol=self.protocol,
            subscriptions=tuple(Subscription(t, 1) for t in self.subscriptions),
            max_unacked=self.max_unacked,
        )
