"""Detection's pure core: alarm changes, their frames, and how often they leave.

A :class:`DetectionChange` is what a zone rule reported for one frame;
:class:`FrameContext` the picture it was seen in. :class:`UpdateThrottle`
decides which changes leave now (raises and clears at once, updates at most
once per interval, the latest winning) and remembers which alarms are active;
:class:`AnalysisThrottle` paces the live analysis of each camera on the bus.
No clocks here: every moment is an argument (monotonic seconds).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vision.density import CrowdingEvent
from vision.hazards import HazardEvent
from vision.types import Detection

__all__ = [
    "AnalysisThrottle",
    "DetectionChange",
    "Facts",
    "FrameContext",
    "UpdateThrottle",
    "originator",
]

Facts = dict[str, "bool | int | float | str | list[str] | list[int] | None"]
"""Counts, density, labels… of one change (JSON values)."""
_AlarmType = Literal["crowding", "intrusion", "loitering"]


def originator(camera_id: str, zone_id: str) -> str:
    """The alarm originator of a zone rule.

    Examples:
        >>> originator("gate", "quay")
        'camera:gate/zone:quay'
    """
    return f"camera:{camera_id}/zone:{zone_id}"


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

    type: _AlarmType
    kind: Literal["raised", "updated", "cleared"]
    zone_id: str
    severity: str
    started_monotonic_s: float
    at_monotonic_s: float
    facts: Facts

    @classmethod
    def of(cls, ev: CrowdingEvent | HazardEvent, severity: str) -> DetectionChange:
        """The change reported by a crowding or hazard state machine."""
        if isinstance(ev, CrowdingEvent):
            facts: Facts = {
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
    model: dict[str, str]


_AlarmKey = tuple[str, str, str]  # camera, alarm type, zone


class UpdateThrottle:
    """Which changes leave now; which alarms are active (as last emitted).

    Raises and clears leave at once. At most one ``updated`` per alarm per
    ``interval_s``: a later update replaces a held one, and a clear drops it.

    Examples:
        >>> t = UpdateThrottle(1.0)
        >>> up = DetectionChange("crowding", "updated", "kerb", "major", 0, 0, {})
        >>> raised = DetectionChange("crowding", "raised", "kerb", "major", 0, 0, {})
        >>> [c.kind for c in t.admit("gate", [raised, up], 0.0)]
        ['raised']
        >>> [c.kind for c in t.admit("gate", [], 1.0)], t.active_alarms("gate", "kerb")
        (['updated'], ['crowding'])
    """

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._sent_s: dict[_AlarmKey, float] = {}
        self._pending: dict[_AlarmKey, DetectionChange] = {}
        self._active: set[_AlarmKey] = set()

    def admit(
        self, camera_id: str, changes: list[DetectionChange], now_monotonic_s: float
    ) -> list[DetectionChange]:
        """The changes of one camera's frame to emit now, in order."""
        now, out = now_monotonic_s, []
        for ch in changes:
            key: _AlarmKey = (camera_id, ch.type, ch.zone_id)
            if ch.kind == "updated":
                self._pending[key] = ch
                continue
            self._pending.pop(key, None)
            self._sent_s[key] = now
            out.append(ch)
            (self._active.discard if ch.kind == "cleared" else self._active.add)(key)
        for key in [k for k in self._pending if k[0] == camera_id]:
            if now - self._sent_s.get(key, -math.inf) >= self.interval_s:
                out.append(self._pending.pop(key))
                self._sent_s[key] = now
        return out

    def active_alarms(self, camera_id: str, zone_id: str) -> list[str]:
        """Types of the alarms active in a zone (as last emitted)."""
        return sorted(t for c, t, z in self._active if (c, z) == (camera_id, zone_id))


class AnalysisThrottle:
    """At most about one live analysis per camera per ``interval_s``; skip, never queue.

    A camera is due when its picture changed (a new ``marker``) and its slot
    has come. Slots advance by ``interval_s`` per publication, so frames a
    little faster than the interval still get that rate on average; a change
    before its slot waits for the next look, which then carries the latest
    state. Two publications are never closer than half the interval.

    Examples:
        >>> t = AnalysisThrottle(0.25)  # frames at 5 fps: 4 of every 5 leave
        >>> [t.due("gate", i, i * 0.2) for i in range(5)]
        [True, True, True, False, True]
    """

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next_s: dict[str, float] = {}
        self._marker: dict[str, Hashable] = {}

    def due(self, camera_id: str, marker: Hashable, now_monotonic_s: float) -> bool:
        """Whether to publish the camera's analysis now (then it counts as sent)."""
        now, step = now_monotonic_s, self.interval_s
        slot = self._next_s.get(camera_id, -math.inf)
        if self._marker.get(camera_id, _NEVER) == marker or now < slot:
            return False
        self._marker[camera_id] = marker
        self._next_s[camera_id] = max(slot + step, now + step / 2)
        return True


_NEVER = object()
