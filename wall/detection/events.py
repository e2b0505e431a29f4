"""Where detection changes go: alarms, stored records, bus, MQTT, snapshots, conditions.

A :class:`DetectionChange` (a crowding, intrusion or loitering alarm raised,
updated or cleared in one zone) becomes one event record carrying the camera,
zone, counts, density, the model identity (X5), UTC times and a snapshot URL.
The record is kept in the store (bounded to ``max_events``, oldest deleted),
published on the bus (``detection.event``) and on MQTT
(``wall/events/<camera>/<type>``), and drives the alarm service (types
``crowding``, ``intrusion``, ``loitering``; originator
``camera:<id>/zone:<zone>``). Named arming conditions (e.g. a flood warning)
are kept here too: persisted, audited and published when they change.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.density import CrowdingEvent
from vision.hazards import HazardEvent
from vision.types import Detection
from wall.detection.settings import CONDITION_NAME_PATTERN
from wall.detection.snapshots import EventSnapshots
from wall.platform.event_bus import EventBus
from wall.platform.records import AuditEntry
from wall.platform.store.sqlite import Store
from wall.platform.wire import JsonValue

__all__ = [
    "AlarmSink",
    "DetectionChange",
    "DetectionEvents",
    "FrameContext",
    "MessagePublisher",
    "alarm_severity",
    "draw_snapshot",
]

EVENT_KEY, CONDITION_KEY = "detection.event.", "detection.condition."
_CONDITION_RE = re.compile(CONDITION_NAME_PATTERN)


class AlarmSink(Protocol):
    """The alarm service (``wall.alarms.service.AlarmService``); sync or async.

    ``raised`` → :meth:`raise_`, ``updated`` → :meth:`update` (not a re-raise:
    the alarm's count stays), ``cleared`` → :meth:`clear`.
    """

    def raise_(
        self, type: str, originator: str, severity: Any, details: dict[str, Any]
    ) -> object:
        """Raise, or update while active, the alarm of (type, originator)."""
        ...

    def update(
        self, type: str, originator: str, *, details: Mapping[str, Any]
    ) -> object:
        """Update the details of the active alarm of (type, originator)."""
        ...

    def clear(self, type: str, originator: str) -> object:
        """Clear the active alarm of (type, originator)."""
        ...


class MessagePublisher(Protocol):
    """Outbound MQTT (:class:`~devices.mqtt.publisher.MqttPublisher`)."""

    def publish_json(
        self, topic: str, payload: Mapping[str, Any], *, retain: bool = False
    ) -> bool:
        """Queue a JSON message; never blocks."""
        ...


def alarm_severity(name: str) -> object:
    """The alarm model's ``Severity`` member for a lower-case name.

    Falls back to the name itself while ``wall.alarms.core`` does not exist.
    """
    try:
        module = importlib.import_module("wall.alarms.core")
    except ImportError:
        return name
    return module.Severity[name.upper()]


@dataclass(frozen=True, slots=True)
class DetectionChange:
    """One raised / updated / cleared alarm change of one zone.

    Attributes:
        type: ``crowding``, ``intrusion`` or ``loitering``.
        kind: ``raised``, ``updated`` or ``cleared``.
        zone_id: The zone.
        severity: Severity name from the zone's rule.
        started_monotonic_s: When the condition began (same for the whole alarm).
        at_monotonic_s: Time of the frame that made the change.
        facts: Counts, density, labels… (JSON values).
    """

    type: str
    kind: Literal["raised", "updated", "cleared"]
    zone_id: str
    severity: str
    started_monotonic_s: float
    at_monotonic_s: float
    facts: dict[str, JsonValue]

    @classmethod
    def of(cls, ev: CrowdingEvent | HazardEvent, severity: str) -> DetectionChange:
        """The change reported by a crowding or hazard state machine."""
        if isinstance(ev, CrowdingEvent):
            facts: dict[str, JsonValue] = {
                "count": ev.count,
                "density_ppm2": ev.density_ppm2,
                "peak_count": ev.peak_count,
                "peak_density_ppm2": ev.peak_density_ppm2,
            }
            return cls("crowding", ev.kind, ev.zone_id, severity,
                       ev.started_monotonic_s, ev.at_monotonic_s, facts)  # fmt: skip
        facts = {
            "count": ev.count,
            "labels": list(ev.labels),
            "track_ids": list(ev.track_ids),
            "condition": ev.condition,
        }
        return cls(ev.hazard, ev.kind, ev.zone_id, severity,
                   ev.started_monotonic_s, ev.at_monotonic_s, facts)  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class FrameContext:
    """The camera picture a change was seen in.

    Attributes:
        camera_id: The camera.
        zone_name: Display name of the change's zone.
        polygon_px: The zone's polygon in frame pixels.
        frame_bgr: The analysed frame, or ``None``.
        detections: Its detections, in frame pixels.
        model: Model identity (name, version, sha256, file_sha256).
    """

    camera_id: str
    zone_name: str
    polygon_px: tuple[tuple[float, float], ...]
    frame_bgr: NDArray[np.uint8] | None
    detections: tuple[Detection, ...]
    model: dict[str, JsonValue]


def draw_snapshot(
    frame_bgr: NDArray[np.uint8],
    detections: Sequence[Detection],
    polygon_px: Sequence[tuple[float, float]],
    caption: str,
) -> bytes:
    """A JPEG of the frame with the zone outlined and every box labelled.

    Args:
        frame_bgr: (H, W, 3) uint8 BGR picture (not modified).
        detections: Boxes in the frame's pixels.
        polygon_px: Zone vertices (x, y) in the frame's pixels.
        caption: Text drawn at the top-left.

    Returns:
        JPEG bytes.
    """
    image = frame_bgr.copy()
    pts = np.asarray(polygon_px, np.int32).reshape(-1, 1, 2)
    cv2.polylines(image, [pts], isClosed=True, color=(0, 215, 255), thickness=2)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for d in detections:
        x1, y1, x2, y2 = (round(v) for v in d.xyxy)
        colour = (0, 200, 0) if d.label == "person" else (0, 0, 230)
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, 2)
        text = f"{d.label} {d.score:.2f}"
        cv2.putText(image, text, (x1, max(12, y1 - 4)), font, 0.45, colour, 1)
    cv2.putText(image, caption, (8, 22), font, 0.6, (255, 255, 255), 2)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())


class DetectionEvents:
    """Turns changes into records and fans them out; keeps the conditions.

    Args:
        store: Records, conditions and the audit log.
        bus: The internal event bus.
        max_events: Records kept (in memory and in the store).
        snapshots: Draw a JPEG per event.
        snapshot_dir: Where the JPEGs are kept (None: the newest few in memory).
        update_interval_s: At most one ``updated`` per alarm this often.
        alarms: The alarm service, if any.
        mqtt: Outbound MQTT, if any.
        arms: Condition name → originators of the intrusion rules it arms.
        severity_of: Severity name → the alarm model's value.
        clock: Monotonic clock in seconds (the frames' time base).
        wall_clock: Current UTC time.
    """

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        *,
        max_events: int,
        snapshots: bool,
        update_interval_s: float,
        snapshot_dir: Path | None = None,
        alarms: AlarmSink | None,
        mqtt: MessagePublisher | None,
        arms: Mapping[str, Sequence[str]],
        severity_of: Callable[[str], object],
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.store, self.bus, self.alarms, self.mqtt = store, bus, alarms, mqtt
        self.snapshots_enabled = snapshots
        self._arms = {k: list(v) for k, v in arms.items()}
        self._severity_of, self._clock, self._wall_clock = (
            severity_of,
            clock,
            wall_clock,
        )
        self._records: deque[dict[str, JsonValue]] = deque(maxlen=max_events)
        self._snapshots = EventSnapshots(snapshot_dir)
        self._conditions: dict[str, dict[str, JsonValue]] = {}
        self._seq = 0
        self.update_interval_s = update_interval_s
        self._sent_s: dict[tuple[str, str, str], float] = {}
        self._pending: dict[tuple[str, str, str], DetectionChange] = {}
        self._active: set[tuple[str, str, str]] = set()
        self._lock = asyncio.Lock()  # FIFO: events leave in the order they happened

    async def load(self) -> None:
        """Read stored records and conditions (at start-up)."""
        stored = await self.store.list_kv(EVENT_KEY)
        for key in sorted(stored)[-(self._records.maxlen or 1) :]:
            if isinstance(record := stored[key], dict):
                self._records.append(record)
        if stored:
            self._seq = max(int(k.rsplit("-", 1)[-1]) for k in stored)
        # pictures of records pruned while the service was down go too
        await self._snapshots.keep_only([str(r.get("id")) for r in self._records])
        for key, value in (await self.store.list_kv(CONDITION_KEY)).items():
            if isinstance(value, dict):
                self._conditions[key.removeprefix(CONDITION_KEY)] = value

    @property
    def active_conditions(self) -> frozenset[str]:
        """Names of the conditions that hold now."""
        return frozenset(n for n, v in self._conditions.items() if v.get("active"))

    def admit(
        self, camera_id: str, changes: list[DetectionChange], now: float
    ) -> list[DetectionChange]:
        """The changes to emit now (raises and clears; updates rate-limited).

        At most one ``updated`` per alarm per ``update_interval_s``; a later
        update replaces a held one, and a clear drops it.
        """
        out = []
        for ch in changes:
            key = (camera_id, ch.type, ch.zone_id)
            if ch.kind == "updated":
                self._pending[key] = ch
                continue
            self._pending.pop(key, None)
            self._sent_s[key] = now
            out.append(ch)
            (self._active.discard if ch.kind == "cleared" else self._active.add)(key)
        for key in [k for k in self._pending if k[0] == camera_id]:
            if now - self._sent_s.get(key, -math.inf) >= self.update_interval_s:
                out.append(self._pending.pop(key))
                self._sent_s[key] = now
        return out

    def active_alarms(self, camera_id: str, zone_id: str) -> list[str]:
        """Types of the alarms active in a zone (as last emitted)."""
        return sorted(t for c, t, z in self._active if (c, z) == (camera_id, zone_id))

    def _utc(self, monotonic_s: float) -> str:
        at = self._wall_clock() - timedelta(seconds=self._clock() - monotonic_s)
        return at.isoformat(timespec="milliseconds")

    async def emit(self, change: DetectionChange, ctx: FrameContext) -> None:
        """Record and fan out one change (serialised, in call order)."""
        async with self._lock:
            await self._emit(change, ctx)

    async def _emit(self, ch: DetectionChange, ctx: FrameContext) -> None:
        self._seq += 1
        event_id = f"det-{self._seq:08d}"
        originator = f"camera:{ctx.camera_id}/zone:{ch.zone_id}"
        snap = self.snapshots_enabled and ctx.frame_bgr is not None
        url = f"/api/v1/detections/{event_id}/snapshot.jpg" if snap else None
        record: dict[str, JsonValue] = {
            "id": event_id,
            "type": ch.type,
            "kind": ch.kind,
            "camera_id": ctx.camera_id,
            "zone_id": ch.zone_id,
            "zone_name": ctx.zone_name,
            "originator": originator,
            "severity": ch.severity,
            **ch.facts,
            "started_at": self._utc(ch.started_monotonic_s),
            "at": self._utc(ch.at_monotonic_s),
            "model": dict(ctx.model),
            "snapshot_url": url,
        }
        if ctx.frame_bgr is not None and snap:
            caption = f"{ch.type} {ch.kind} {ctx.zone_name}: {ch.facts.get('count')}"
            jpeg = await asyncio.to_thread(
                draw_snapshot, ctx.frame_bgr, ctx.detections, ctx.polygon_px, caption
            )
            await self._snapshots.put(event_id, jpeg)
        full = len(self._records) == self._records.maxlen
        oldest = self._records[0] if full else None
        self._records.append(record)
        await self.store.put_kv(EVENT_KEY + event_id, record)
        if oldest is not None:
            await self.store.delete_kv(f"{EVENT_KEY}{oldest.get('id')}")
            await self._snapshots.delete(str(oldest.get("id")))
        self.bus.publish("detection.event", record)
        if self.mqtt is not None:
            self.mqtt.publish_json(f"wall/events/{ctx.camera_id}/{ch.type}", record)
        if self.alarms is not None:
            if ch.kind == "cleared":
                result = self.alarms.clear(ch.type, originator)
            elif ch.kind == "updated":
                result = self.alarms.update(ch.type, originator, details=record)
            else:
                severity = self._severity_of(ch.severity)
                result = self.alarms.raise_(ch.type, originator, severity, dict(record))
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result

    def events(
        self, camera_id: str | None = None, limit: int = 50
    ) -> list[dict[str, JsonValue]]:
        """Stored event records, newest first."""
        found = (
            e
            for e in reversed(self._records)
            if camera_id is None or e.get("camera_id") == camera_id
        )
        return [e for _, e in zip(range(limit), found, strict=False)]

    def event(self, event_id: str) -> dict[str, JsonValue] | None:
        """One stored event record."""
        return next((e for e in self._records if e.get("id") == event_id), None)

    async def snapshot(self, event_id: str) -> bytes | None:
        """The JPEG of a stored event, if it has one."""
        if self.event(event_id) is None:
            return None
        return await self._snapshots.get(event_id)

    def conditions(self) -> list[dict[str, JsonValue]]:
        """Every known condition: state, last change and the rules it arms."""
        names = sorted(set(self._arms) | set(self._conditions))
        blank: dict[str, JsonValue] = {
            "active": False,
            "changed_at": None,
            "changed_by": None,
        }
        return [
            {
                "name": n,
                **blank,
                **self._conditions.get(n, {}),
                "arms": list[JsonValue](self._arms.get(n, [])),
            }
            for n in names
        ]

    async def set_condition(
        self, name: str, active: bool, actor: str
    ) -> dict[str, JsonValue]:
        """Raise or clear a named condition: persisted, audited (O2), published.

        Args:
            name: Condition name (see ``CONDITION_NAME_PATTERN``).
            active: Whether it holds now.
            actor: Who changed it (principal name) for the audit log.

        Returns:
            The condition as :meth:`conditions` lists it.

        Raises:
            ValueError: For a malformed name.
        """
        if not _CONDITION_RE.match(name):
            raise ValueError(f"condition names must match {CONDITION_NAME_PATTERN}")
        value: dict[str, JsonValue] = {
            "active": active,
            "changed_at": self._wall_clock().isoformat(timespec="milliseconds"),
            "changed_by": actor,
        }
        self._conditions[name] = value
        await self.store.put_kv(CONDITION_KEY + name, value)
        await self.store.append_audit(
            AuditEntry(
                actor,
                "detection.condition.set",
                f"condition:{name}",
                detail={"active": active},
            )
        )
        self.bus.publish("detection.condition", {"name": name, **value})
        return next(c for c in self.conditions() if c["name"] == name)
