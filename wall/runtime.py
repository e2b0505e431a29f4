"""The runtime: the composition root. Every capability, started and stopped in order.

Start-up order is store → token usage → event bus → cameras → live relay →
walls → panel outputs → token watch → sensor ingest → alarms → broker → conditions →
detection; shutdown is the reverse, bounded (house style HS6/HS7). Each
capability registers its component with the
:class:`~wall.platform.components.ComponentRegistry` in one way, with its
health and metrics, so ``/healthz`` and ``/metrics`` need no list of their own.
Tests build this same runtime; what they may swap is named in :class:`Seams`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

from devices.cameras.camera import CameraStream
from devices.cameras.decoder import FrameDecoder
from devices.cameras.fleet import CameraFleet
from devices.cameras.health import StreamHealth
from devices.mqtt.publisher import MqttPublisher
from wall.alarms.service import AlarmService
from wall.alarms.store import SqliteAlarmStore
from wall.conditions.repository import SqliteConditionRepository
from wall.conditions.service import ConditionsService
from wall.config.settings import Settings
from wall.detection.alarm_sink import AlarmSink
from wall.detection.metrics import detector_metrics
from wall.detection.repository import SqliteDetectionRepository
from wall.detection.service import DetectionService, SourceFactory
from wall.live.metrics import relay_metrics, stream_metrics
from wall.live.relay import LiveViewRelay
from wall.live.snapshots import SnapshotService
from wall.platform.auth import Authenticator, bootstrap_secret_from_env
from wall.platform.components import ComponentRegistry
from wall.platform.connections import ConnectionRegistry, TokenWatch
from wall.platform.event_bus import EventBus
from wall.platform.health import (
    CAMERA_HEALTH,
    ComponentHealth,
    Status,
    camera_component,
    camera_health_changed,
)
from wall.platform.metrics import bus_metrics
from wall.platform.store.sqlite import SqliteStore
from wall.platform.throttle import FailureThrottle
from wall.platform.token_service import TokenService
from wall.platform.token_usage import TokenUsage
from wall.sensors.dead_letter_store import SqliteDeadLetters
from wall.sensors.ingest import IngestService, ingest_metrics
from wall.sensors.observation_store import SqliteObservations
from wall.walls.cameras import FleetCameras
from wall.walls.panels.outputs import PanelOutputs
from wall.walls.service import WallService
from wall.walls.store import SqliteLayouts, SqliteWallStates

log = logging.getLogger(__name__)

STAGE_TIMEOUT_S = 4.0
T = TypeVar("T")


def _same(sink: AlarmSink) -> AlarmSink:
    return sink


@dataclass(frozen=True, slots=True)
class Seams:
    """What a test may swap in the real runtime; production uses the defaults.

    Attributes:
        frame_sources: how the detector gets decoded frames of a stream (a
            test injects late or failing sources: faults, not fakes).
        alarm_sink: wraps the alarm service as the detector sees it (a test
            records the calls and forwards them to the real service).
    """

    frame_sources: SourceFactory = FrameDecoder
    alarm_sink: Callable[[AlarmSink], AlarmSink] = _same


class Runtime:
    """Owns every long-lived component; each is reachable after start."""

    def __init__(self, settings: Settings, seams: Seams | None = None) -> None:
        self.settings = settings
        self.seams = seams or Seams()
        self.started_monotonic_s = time.monotonic()
        self.bus = EventBus()
        self.snapshots = SnapshotService()
        self._stack = AsyncExitStack()
        self.registry = ComponentRegistry(self._stack)
        self.connections = ConnectionRegistry()
        self._parts: dict[str, object] = {}

    def _part(self, name: str, kind: type[T]) -> T:
        part = self._parts.get(name)
        if not isinstance(part, kind):
            raise RuntimeError(f"runtime not started (no {name})")
        return part

    @property
    def store(self) -> SqliteStore:
        """The store (after start)."""
        return self._part("store", SqliteStore)

    @property
    def authenticator(self) -> Authenticator:
        """The token authenticator (after start)."""
        return self._part("authenticator", Authenticator)

    @property
    def tokens(self) -> TokenService:
        """Issuing and revoking tokens (after start)."""
        return self._part("tokens", TokenService)

    @property
    def fleet(self) -> CameraFleet:
        """The camera fleet (after start)."""
        return self._part("fleet", CameraFleet)

    @property
    def relay(self) -> LiveViewRelay:
        """The WebRTC relay (after start)."""
        return self._part("relay", LiveViewRelay)

    @property
    def walls(self) -> WallService:
        """The walls and layouts (after start)."""
        return self._part("walls", WallService)

    @property
    def alarms(self) -> AlarmService:
        """The alarms (after start)."""
        return self._part("alarms", AlarmService)

    @property
    def panels(self) -> PanelOutputs:
        """The composed panel outputs (after start)."""
        return self._part("panels", PanelOutputs)

    @property
    def mqtt(self) -> MqttPublisher:
        """The MQTT publisher (after start; a no-op without a broker)."""
        return self._part("mqtt", MqttPublisher)

    @property
    def ingest(self) -> IngestService | None:
        """The MQTT sensor ingest (after start); ``None`` when not configured."""
        part = self._parts.get("ingest")
        return part if isinstance(part, IngestService) else None

    @property
    def conditions(self) -> ConditionsService:
        """The arming conditions (after start)."""
        return self._part("conditions", ConditionsService)

    @property
    def detection(self) -> DetectionService:
        """The detector (after start; ``not_configured`` when disabled)."""
        return self._part("detection", DetectionService)

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        await self._start_platform()
        await self._start_video()
        await self._start_token_watch()
        await self._start_sensor_ingest()
        await self._start_alarms_and_detection()
        log.info("runtime started: %d camera(s)", len(self.settings.cameras))

    async def _start_platform(self) -> None:
        settings = self.settings
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        store = await self.registry.start(
            "store",
            SqliteStore(settings.storage.sqlite_path),
            health=lambda: [store.health()],
        )
        self._parts["store"] = store
        auth = settings.auth
        usage = await self.registry.start(
            "token_usage", TokenUsage(store.tokens, flush_s=auth.last_used_flush_s)
        )
        self._parts["authenticator"] = Authenticator(
            store.tokens,
            bootstrap_secret_from_env(auth),
            usage=usage,
            throttle=FailureThrottle(
                auth.failure_limit, auth.failure_window_s, auth.failure_block_s
            ),
        )
        self._stack.callback(self.bus.close)
        self.registry.add("bus", metrics=lambda: bus_metrics(self.bus))

    async def _start_video(self) -> None:
        settings, store = self.settings, self.store
        fleet = await self.registry.start(
            "cameras",
            CameraFleet(settings.cameras, settings.streams, on_health=self._on_health),
            health=self._camera_health,
            metrics=lambda: stream_metrics(fleet),
        )
        self._parts["fleet"] = fleet
        relay = await self.registry.start(
            "live_relay",
            LiveViewRelay(settings.webrtc),
            health=lambda: [_relay_health(relay)],
            metrics=lambda: relay_metrics(relay),
        )
        self._parts["relay"] = relay
        walls = WallService(
            settings.walls,
            SqliteWallStates(store),
            SqliteLayouts(store),
            self.bus,
            FleetCameras(fleet),
        )
        self._parts["walls"] = await self.registry.start("walls", walls)
        panels = await self.registry.start(
            "panel_outputs",
            PanelOutputs(walls, fleet),
            health=lambda: [_panels_health(panels)],
        )
        self._parts["panels"] = panels

    async def _start_token_watch(self) -> None:
        # ends a revoked token's sockets and live sessions, API or CLI alike
        store, auth = self.store, self.settings.auth
        watch = await self.registry.start(
            "token_watch",
            TokenWatch(
                store.tokens,
                self.connections,
                check_s=auth.revocation_check_s,
                hooks=[self.relay.close_for_token],
            ),
        )
        walls = [w.id for w in self.settings.walls]
        self._parts["tokens"] = TokenService(
            store.tokens, auth, walls=walls, on_revoked=watch.end
        )

    async def _start_sensor_ingest(self) -> None:
        settings, store = self.settings.sensor_ingest, self.store
        if settings is None:
            return
        stations = [s.station() for s in self.settings.stations]
        ingest = await self.registry.start(
            "sensor_ingest",
            IngestService(
                settings, stations, SqliteObservations(store), SqliteDeadLetters(store)
            ),
            health=lambda: [ingest.health()],
            metrics=lambda: ingest_metrics(ingest),
        )
        self._parts["ingest"] = ingest

    async def _start_alarms_and_detection(self) -> None:
        settings, store = self.settings, self.store
        alarms = AlarmService(SqliteAlarmStore(store), self.bus)
        self._parts["alarms"] = await self.registry.start("alarms", alarms)
        mqtt_config = settings.mqtt.publisher_config() if settings.mqtt else None
        mqtt = await self.registry.start(
            "broker", MqttPublisher(mqtt_config), health=lambda: [_broker_health(mqtt)]
        )
        self._parts["mqtt"] = mqtt
        conditions = ConditionsService(SqliteConditionRepository(store), self.bus)
        self._parts["conditions"] = await self.registry.start("conditions", conditions)
        detection = DetectionService(
            settings.detection,
            settings.models,
            self.fleet,
            SqliteDetectionRepository(store),
            self.bus,
            alarms=self.seams.alarm_sink(alarms),
            mqtt=mqtt,
            conditions=conditions,
            source_factory=self.seams.frame_sources,
            snapshot_dir=settings.storage.data_dir / "snapshots",
        )
        self._parts["detection"] = await self.registry.start(
            "detector",
            detection,
            health=lambda: [detection.health()],
            metrics=lambda: detector_metrics(detection),
        )

    def _on_health(self, stream: CameraStream, health: StreamHealth) -> None:
        self.bus.emit(CAMERA_HEALTH, camera_health_changed(stream, health))

    def _camera_health(self) -> Iterator[ComponentHealth]:
        for camera in self.fleet.cameras.values():
            streams = {role.value: s for role, s in camera.streams.items()}
            yield camera_component(camera.id, streams)

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop everything in reverse order, bounded; idempotent."""
        try:
            async with asyncio.timeout(STAGE_TIMEOUT_S * 3):
                await self._stack.aclose()
        except TimeoutError:
            log.error("shutdown exceeded %.0fs", STAGE_TIMEOUT_S * 3)

    def components(self) -> list[ComponentHealth]:
        """Health of every registered component."""
        return self.registry.health()


def _relay_health(relay: LiveViewRelay) -> ComponentHealth:
    return ComponentHealth("live_relay", Status.OK, {"viewers": relay.viewer_count})


def _panels_health(panels: PanelOutputs) -> ComponentHealth:
    composing = sum(1 for p in panels.panels.values() if p.running)
    detail = {"panels": len(panels.panels), "composing": composing}
    return ComponentHealth("panel_outputs", Status.OK, detail)


def _broker_health(mqtt: MqttPublisher) -> ComponentHealth:
    h = mqtt.health()
    status = {
        "not_configured": Status.NOT_CONFIGURED,
        "connected": Status.OK,
        "connecting": Status.OK,
    }.get(h.state, Status.DEGRADED)
    detail = {
        "state": h.state,
        "detail": h.detail,
        "queued": h.queued,
        "dropped": h.dropped,
    }
    return ComponentHealth("broker", status, detail)
