"""Root settings: the one validated configuration of a citywall process.

Loaded once at start-up by :mod:`wall.config_file`; frozen afterwards and
passed by constructor to every component.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.config import CameraConfig, StreamPolicy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(_Strict):
    """HTTP listener."""

    host: str = Field("127.0.0.1", description="Bind address; loopback by default.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    metrics_public: bool = Field(
        True, description="Serve /metrics without a token (scrapers on the LAN)."
    )


class StorageSettings(_Strict):
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


class IceServer(_Strict):
    """A STUN or TURN server handed to aiortc (none by default: no internet)."""

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None


class WebRtcSettings(_Strict):
    """Live-view relay."""

    ice_servers: tuple[IceServer, ...] = Field(
        (), description="STUN/TURN servers; empty means host candidates only."
    )
    max_viewers: int = Field(
        64, ge=1, le=4096, description="Concurrent WebRTC viewers."
    )


class AuthSettings(_Strict):
    """Authentication."""

    admin_token_env: str | None = Field(
        "CITYWALL_ADMIN_TOKEN",
        description="Env variable whose value, if set, is accepted as an admin token.",
    )


class ModelSettings(_Strict):
    """Model manifests and the weight cache."""

    manifests_dir: Path = Field(
        Path("models"), description="Folder of *.toml manifests."
    )
    cache_dir: Path = Field(Path("models/.cache"), description="Fetched weights.")


class Settings(_Strict):
    """Everything a citywall process is configured with."""

    site_name: str = Field("巴中市城市运行指挥中心", description="Shown on pages.")
    api: ApiSettings = ApiSettings()
    storage: StorageSettings = StorageSettings()
    webrtc: WebRtcSettings = WebRtcSettings()
    auth: AuthSettings = AuthSettings()
    models: ModelSettings = ModelSettings()
    streams: StreamPolicy = StreamPolicy()
    cameras: tuple[CameraConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_camera_ids(self) -> Settings:
        seen: set[str] = set()
        for camera in self.cameras:
            if camera.id in seen:
                raise ValueError(f"duplicate camera id {camera.id!r}")
            seen.add(camera.id)
        return self
