"""Root settings: the one validated configuration of a citywall process.

Loaded once at start-up by :mod:`wall.config.loading`; frozen afterwards and
passed by constructor to every component.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from devices.cameras.config import CameraConfig, StreamPolicy
from devices.mqtt.publisher import MqttPublisherConfig
from layouts.yaml_document import dotted_path
from wall.api.settings import HttpSettings
from wall.config.consistency import builtin_layout_ids, check_consistency
from wall.detection.settings import DetectionSettings
from wall.live.settings import WebRtcSettings
from wall.platform.auth import AuthSettings
from wall.platform.wire import WireModel
from wall.sensors.ingest_settings import IngestSettings
from wall.sensors.settings import RuleSettings, StationSettings
from wall.walls.settings import WallSettings

CONSISTENCY_CHECKED = "consistency_checked"
"""Validation-context key: the caller has checked cross-references itself."""


class ApiSettings(WireModel):
    """HTTP listener."""

    host: str = Field("127.0.0.1", description="Bind address; loopback by default.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    metrics_public: bool = Field(
        True, description="Serve /metrics without a token (scrapers on the LAN)."
    )


class StorageSettings(WireModel):
    """Where state lives."""

    data_dir: Path = Field(
        Path("data"), description="Folder for the database and caches."
    )
    database_url: str | None = Field(
        None,
        description="sqlite:///PATH; defaults to data_dir/citywall.sqlite3.",
    )

    @property
    def sqlite_path(self) -> Path:
        """Path of the SQLite database file."""
        if self.database_url is None:
            return self.data_dir / "citywall.sqlite3"
        return Path(self.database_url.removeprefix("sqlite:///"))

    @model_validator(mode="after")
    def _known_database(self) -> StorageSettings:
        if self.database_url is not None and not self.database_url.startswith(
            "sqlite:///"
        ):
            raise ValueError(
                "database_url must start with sqlite:/// (PostgreSQL is planned)"
            )
        return self


class ModelSettings(WireModel):
    """Model manifests and the weight cache."""

    manifests_dir: Path = Field(
        Path("models"), description="Folder of *.toml manifests."
    )
    cache_dir: Path = Field(Path("models/.cache"), description="Fetched weights.")


class MqttSettings(WireModel):
    """The MQTT broker: detection events out (``wall/events/...``), availability."""

    url: str = Field(description="mqtt://host[:port] or mqtts://host[:port].")
    username: str | None = Field(None, description="User name, e.g. ${MQTT_USER}.")
    password: SecretStr | None = Field(
        None, description="Password from the environment, e.g. ${MQTT_PASSWORD}."
    )
    client_id: str = Field("citywall", min_length=1, description="MQTT client id.")
    outbox_max: int = Field(
        1000, ge=1, description="Messages queued while the broker is away."
    )
    status_topic: str = Field(
        "wall/status", description="Retained online/offline availability topic."
    )

    @model_validator(mode="after")
    def _valid_url(self) -> MqttSettings:
        self.publisher_config()  # raises ValueError naming the problem
        return self

    def publisher_config(self) -> MqttPublisherConfig:
        """The adapter's configuration (the password is never logged)."""
        return MqttPublisherConfig.from_url(
            self.url,
            username=self.username,
            password=None
            if self.password is None
            else self.password.get_secret_value(),
            client_id=self.client_id,
            outbox_max=self.outbox_max,
            status_topic=self.status_topic,
        )


class Settings(WireModel):
    """Everything a citywall process is configured with."""

    site_name: str = Field("巴中市城市运行指挥中心", description="Shown on pages.")
    api: ApiSettings = ApiSettings()
    http: HttpSettings = Field(
        HttpSettings(), description="HTTP limits and security headers."
    )
    storage: StorageSettings = StorageSettings()
    webrtc: WebRtcSettings = WebRtcSettings()
    auth: AuthSettings = AuthSettings()
    models: ModelSettings = ModelSettings()
    streams: StreamPolicy = StreamPolicy()
    cameras: tuple[CameraConfig, ...] = ()
    walls: tuple[WallSettings, ...] = ()
    mqtt: MqttSettings | None = Field(None, description="Broker; none by default.")
    detection: DetectionSettings = Field(
        DetectionSettings(), description="Person/vehicle detection (issue 4)."
    )
    stations: tuple[StationSettings, ...] = Field(
        (), description="Monitoring stations: gauges, probes, sirens (issue 11)."
    )
    sensor_rules: tuple[RuleSettings, ...] = Field(
        (), description="Threshold alarm rules on station elements (issue 11)."
    )
    sensor_ingest: IngestSettings | None = Field(
        None, description="MQTT ingestion of station data; off by default."
    )

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Settings:
        # The file loader checks the raw document itself (every error at its
        # line, even beside field errors); settings built in code are checked here.
        if info.context is not None and info.context.get(CONSISTENCY_CHECKED):
            return self
        found = check_consistency(self.model_dump(), builtin_layout_ids())
        if found:
            raise ValueError(
                "; ".join(f"{dotted_path(f.path)}: {f.message}" for f in found)
            )
        return self
