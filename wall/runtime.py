"""The runtime: every long-lived component, started and stopped in order.

Start-up order is store → authenticator → event bus → cameras → live
relay; shutdown is the reverse, each stage bounded (house style HS6/HS7).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from types import TracebackType

from devices.cameras.camera import CameraStream
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamHealth
from devices.mqtt.publisher import MqttPublisher
from wall.alarms.service import AlarmService
from wall.config.settings import Settings
from wall.detection.service import DetectionService
from wall.live.relay import LiveViewRelay, stream_role
from wall.platform.auth import Authenticator, bootstrap_secret_from_env
from wall.platform.event_bus import EventBus
from wall.platform.health import ComponentHealth, Status, camera_component
from wall.platform.store.sqlite import SqliteStore
from wall.walls.core.stream_choice import StreamPreference
from wall.walls.panels.outputs import PanelOutputs
from wall.walls.service import WallService

log = logging.getLogger(__name__)

STAGE_TIMEOUT_S = 4.0


class Runtime:
    """Owns the store, the event bus, the camera fleet and the live relay."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_monotonic_s = time.monotonic()
        self.bus = EventBus()
        self._stack = AsyncExitStack()
        self._store: SqliteStore | None = None
        self._fleet: CameraFleet | None = None
        self._relay: LiveViewRelay | None = None
        self._authenticator: Authenticator | None = None
        self._walls: WallService | None = None
        self._panels: PanelOutputs | None = None
        self._mqtt: MqttPublisher | None = None
        self._detection: DetectionService | None = None
        self._alarms: AlarmService | None = None

    @property
    def store(self) -> SqliteStore:
        """The store (after start)."""
        if self._store is None:
            raise RuntimeError("runtime not started")
        return self._store

    @property
    def fleet(self) -> CameraFleet:
        """The camera fleet (after start)."""
        if self._fleet is None:
            raise RuntimeError("runtime not started")
        return self._fleet

    @property
    def relay(self) -> LiveViewRelay:
        """The WebRTC relay (after start)."""
        if self._relay is None:
            raise RuntimeError("runtime not started")
        return self._relay

    @property
    def walls(self) -> WallService:
        """The walls and layouts (after start)."""
        if self._walls is None:
            raise RuntimeError("runtime not started")
        return self._walls

    @property
    def alarms(self) -> AlarmService:
        """The alarms (after start)."""
        if self._alarms is None:
            raise RuntimeError("runtime not started")
        return self._alarms

    @property
    def panels(self) -> PanelOutputs:
        """The composed panel outputs (after start)."""
        if self._panels is None:
            raise RuntimeError("runtime not started")
        return self._panels

    @property
    def detection(self) -> DetectionService:
        """The detector (after start; ``not_configured`` when disabled)."""
        if self._detection is None:
            raise RuntimeError("runtime not started")
        return self._detection

    @property
    def authenticator(self) -> Authenticator:
        """The token authenticator (after start)."""
        if self._authenticator is None:
            raise RuntimeError("runtime not started")
        return self._authenticator

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        settings = self.settings
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        self._store = await self._stack.enter_async_context(
            SqliteStore(settings.storage.sqlite_path)
        )
        self._authenticator = Authenticator(
            self._store, bootstrap_secret_from_env(settings.auth)
        )
        self._stack.callback(self.bus.close)
        self._fleet = await self._stack.enter_async_context(
            CameraFleet(
                settings.cameras, settings.streams, on_health=self._on_stream_health
            )
        )
        self._relay = await self._stack.enter_async_context(
            LiveViewRelay(settings.webrtc)
        )
        fleet = self._fleet
        self._walls = await self._stack.enter_async_context(
            WallService(
                settings.walls,
                self._store,
                self.bus,
                lambda: fleet.cameras.keys(),
                stream_role=lambda camera_id, preference, tile_wh: (
                    stream_role(
                        fleet.cameras[camera_id], StreamPreference(preference), tile_wh
                    ).value
                ),
            )
        )
        self._alarms = await self._stack.enter_async_context(
            AlarmService(self._store, self.bus)
        )
        self._panels = await self._stack.enter_async_context(
            PanelOutputs(self._walls, fleet)
        )
        mqtt_config = settings.mqtt.publisher_config() if settings.mqtt else None
        self._mqtt = await self._stack.enter_async_context(MqttPublisher(mqtt_config))
        self._detection = await self._stack.enter_async_context(
            DetectionService(
                settings.detection,
                settings.models,
                fleet,
                self._store,
                self.bus,
                alarms=self._alarms,
                mqtt=self._mqtt,
                snapshot_dir=settings.storage.data_dir / "snapshots",
            )
        )
        log.info("runtime started: %d camera(s)", len(settings.cameras))

    def _on_stream_health(self, stream: CameraStream, health: StreamHealth) -> None:
        self.bus.publish(
            "camera.health",
            {
                "camera_id": stream.key.camera_id,
                "stream": stream.key.role.value,
                "state": health.state.value,
                "reason": health.reason.value if health.reason else None,
                "detail": health.detail,
            },
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop everything in reverse order, bounded; idempotent."""
        try:
            async with asyncio.timeout(STAGE_TIMEOUT_S * 3):
                await self._stack.aclose()
        except TimeoutError:
            log.error("shutdown exceeded %.0fs", STAGE_TIMEOUT_S * 3)

    def components(self) -> list[ComponentHealth]:
        """Health of every component."""
        comps = [
            ComponentHealth(
                "store",
                Status.OK if self._store is not None else Status.DOWN,
                {"kind": "sqlite"},
            ),
            ComponentHealth(
                "live_relay",
                Status.OK if self._relay is not None else Status.DOWN,
                {"viewers": self._relay.viewer_count if self._relay else 0},
            ),
            ComponentHealth(
                "panel_outputs",
                Status.OK if self._panels is not None else Status.DOWN,
                {
                    "panels": len(self._panels.panels) if self._panels else 0,
                    "composing": sum(
                        1 for p in self._panels.panels.values() if p.running
                    )
                    if self._panels
                    else 0,
                },
            ),
            self._broker_health(),
            self._detection.health()
            if self._detection is not None
            else ComponentHealth("detector", Status.DOWN, {}),
        ]
        if self._fleet is not None:
            for camera in self._fleet.cameras.values():
                streams = {role.value: s for role, s in camera.streams.items()}
                comps.append(camera_component(camera.id, streams))
        return comps

    def _broker_health(self) -> ComponentHealth:
        if self._mqtt is None:
            return ComponentHealth("broker", Status.DOWN, {})
        h = self._mqtt.health()
        status = {
            "not_configured": Status.NOT_CONFIGURED,
            "connected": Status.OK,
            "connecting": Status.OK,
        }.get(h.state, Status.DEGRADED)
        return ComponentHealth(
            "broker",
            status,
            {
                "state": h.state,
                "detail": h.detail,
                "queued": h.queued,
                "dropped": h.dropped,
            },
        )
