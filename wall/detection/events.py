"""Where detection changes go: records, alarms, the bus, MQTT and snapshots.

A :class:`~wall.detection.core.DetectionChange` (a crowding, intrusion or
loitering alarm raised, updated or cleared in one zone) becomes one event
record (:mod:`wall.detection.records`). The record is kept through the
detection repository (bounded to ``max_events``, oldest deleted with its
picture), published on the bus (``detection.event``) and on MQTT
(``wall/events/<camera>/<type>``), and drives the alarms through
:class:`~wall.detection.alarm_sink.AlarmSink` (types ``crowding``,
``intrusion``, ``loitering``; originator ``camera:<id>/zone:<zone>``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from wall.detection.alarm_sink import AlarmSink
from wall.detection.core import DetectionChange, FrameContext, UpdateThrottle
from wall.detection.records import CrowdingRecord, HazardRecord, build_record
from wall.detection.repository import DetectionRepository
from wall.detection.snapshots import EventSnapshots, draw_snapshot
from wall.detection.topics import DETECTION_EVENT
from wall.platform.event_bus import EventBus

__all__ = ["DetectionEvents", "MessagePublisher"]

Record = CrowdingRecord | HazardRecord


class MessagePublisher(Protocol):
    """Outbound MQTT (:class:`~devices.mqtt.publisher.MqttPublisher`)."""

    def publish_json(
        self, topic: str, payload: Mapping[str, Any], *, retain: bool = False
    ) -> bool:
        """Queue a JSON message; never blocks."""
        ...


class DetectionEvents:
    """Turns changes into records and fans them out.

    Args:
        repository: Where the records are kept.
        bus: The internal event bus.
        max_events: Records kept (in memory and in the repository).
        snapshots: Draw a JPEG per event.
        snapshot_dir: Where the JPEGs are kept (None: the newest few in memory).
        update_interval_s: At most one ``updated`` per alarm this often.
        alarms: The alarm service, if any.
        mqtt: Outbound MQTT, if any.
        clock: Monotonic clock in seconds (the frames' time base).
        wall_clock: Current UTC time.
    """

    def __init__(
        self,
        repository: DetectionRepository,
        bus: EventBus,
        *,
        max_events: int,
        snapshots: bool,
        update_interval_s: float,
        snapshot_dir: Path | None = None,
        alarms: AlarmSink | None,
        mqtt: MessagePublisher | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.repository, self.bus, self.alarms, self.mqtt = (
            repository,
            bus,
            alarms,
            mqtt,
        )
        self.snapshots_enabled = snapshots
        self._clock, self._wall_clock = clock, wall_clock
        self._records: deque[Record] = deque(maxlen=max_events)
        self._snapshots = EventSnapshots(snapshot_dir)
        self._number = 0
        self.throttle = UpdateThrottle(update_interval_s)
        self._lock = asyncio.Lock()  # FIFO: events leave in the order they happened

    async def load(self) -> None:
        """Read the stored records (at start-up)."""
        stored = await self.repository.load(self._records.maxlen or 1)
        self._records.extend(stored.records)
        self._number = stored.last_number
        # pictures of records pruned while the service was down go too
        await self._snapshots.keep_only([r.id for r in self._records])

    def admit(
        self, camera_id: str, changes: list[DetectionChange], now: float
    ) -> list[DetectionChange]:
        """The changes to emit now (see :class:`~.core.UpdateThrottle`)."""
        return self.throttle.admit(camera_id, changes, now)

    def active_alarms(self, camera_id: str, zone_id: str) -> list[str]:
        """Types of the alarms active in a zone (as last emitted)."""
        return self.throttle.active_alarms(camera_id, zone_id)

    def _utc(self, monotonic_s: float) -> datetime:
        return self._wall_clock() - timedelta(seconds=self._clock() - monotonic_s)

    async def emit(self, change: DetectionChange, ctx: FrameContext) -> None:
        """Record and fan out one change (serialised, in call order)."""
        async with self._lock:
            record = await self._record(change, ctx)
            self.bus.emit(DETECTION_EVENT, record)
            data = record.model_dump(mode="json")
            if self.mqtt is not None:
                self.mqtt.publish_json(
                    f"wall/events/{ctx.camera_id}/{change.type}", data
                )
            if self.alarms is not None:
                await self._alarm(self.alarms, change, record.originator, data)

    async def _record(self, ch: DetectionChange, ctx: FrameContext) -> Record:
        """Build, draw and keep the record of a change; prune the oldest."""
        self._number += 1
        snap = self.snapshots_enabled and ctx.frame_bgr is not None
        times = (self._utc(ch.started_monotonic_s), self._utc(ch.at_monotonic_s))
        record = build_record(self._number, ch, ctx, times, snap)
        if ctx.frame_bgr is not None and snap:
            caption = f"{ch.type} {ch.kind} {ctx.zone_name}: {ch.facts.get('count')}"
            jpeg = await asyncio.to_thread(
                draw_snapshot, ctx.frame_bgr, ctx.detections, ctx.polygon_px, caption
            )
            await self._snapshots.put(record.id, jpeg)
        full = len(self._records) == self._records.maxlen
        oldest = self._records[0] if full else None
        self._records.append(record)
        await self.repository.add(record)
        if oldest is not None:
            await self.repository.remove(oldest.id)
            await self._snapshots.delete(oldest.id)
        return record

    async def _alarm(
        self,
        alarms: AlarmSink,
        ch: DetectionChange,
        originator: str,
        details: dict[str, Any],
    ) -> None:
        """Drive the alarm of the change's (type, originator)."""
        if ch.kind == "cleared":
            await alarms.clear(ch.type, originator)
        elif ch.kind == "updated":
            await alarms.update(ch.type, originator, details=details)
        else:
            await alarms.raise_(ch.type, originator, ch.severity, details)

    def events(self, camera_id: str | None = None, limit: int = 50) -> list[Record]:
        """Stored event records, newest first."""
        found = (
            e
            for e in reversed(self._records)
            if camera_id is None or e.camera_id == camera_id
        )
        return [e for _, e in zip(range(limit), found, strict=False)]

    def event(self, event_id: str) -> Record | None:
        """One stored event record."""
        return next((e for e in self._records if e.id == event_id), None)

    async def snapshot(self, event_id: str) -> bytes | None:
        """The JPEG of a stored event, if it has one."""
        if self.event(event_id) is None:
            return None
        return await self._snapshots.get(event_id)
