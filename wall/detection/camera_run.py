"""One analysed camera's run-time state, and the rules stepped on each of its frames.

:class:`CameraRun` holds what the detector keeps per camera between frames
(frame source, schedule, tracker, rule states, counters). :func:`step_rules`
advances the tracker, zone counts and the crowding, intrusion and loitering
state machines (all pure code of :mod:`vision`) for one analysed frame and
returns the changes they report. Both are touched on the event loop only.
"""

from __future__ import annotations

import math
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from devices.cameras.config import StreamRole
from devices.cameras.decoder import DecodedFrame
from devices.cameras.stats import RateWindow
from vision.density import CrowdingState, ZoneCount, step_crowding, zone_counts
from vision.hazards import HazardState, IntrusionRule, step_intrusion, step_loitering
from vision.motion import MotionState
from vision.tracker import TrackerState, update_tracks
from vision.types import Detection, xyxy_array
from vision.zones import count_in_zones
from wall.detection.core import DetectionChange
from wall.detection.settings import CameraPlan

__all__ = ["CameraRun", "FrameSource", "step_rules"]


class FrameSource(Protocol):
    """A latest-frame mailbox (:class:`~devices.cameras.decoder.FrameDecoder`)."""

    def latest(self) -> DecodedFrame | None:
        """The newest decoded picture, if any."""
        ...


@dataclass(eq=False, slots=True)
class CameraRun:
    """Run-time state of one analysed camera (touched on the loop only)."""

    plan: CameraPlan
    role: str = StreamRole.SUB.value
    source: FrameSource | None = None
    due_s: float = 0.0
    busy: bool = False
    last_seq: int = -1
    tracker: TrackerState = field(default_factory=TrackerState)
    crowding: dict[str, CrowdingState] = field(default_factory=dict)
    hazards: dict[int, HazardState] = field(default_factory=dict)
    readings: tuple[ZoneCount, ...] = ()
    frame_bgr: NDArray[np.uint8] | None = None
    detections: tuple[Detection, ...] = ()
    analysed: int = 0
    stale: int = 0
    last_age_s: float | None = None
    lagging_until_s: float = -math.inf
    motion: MotionState = field(default_factory=MotionState)
    rate: RateWindow = field(default_factory=lambda: RateWindow(5.0))


def step_rules(
    cam: CameraRun, dets: tuple[Detection, ...], t: float, armed: Set[str]
) -> list[DetectionChange]:
    """Tracker, zone counts and every rule of a camera for one analysed frame.

    Args:
        cam: The camera; its tracker, readings and rule states are updated.
        dets: The frame's detections, in sub-stream pixels.
        t: The frame's arrival time (monotonic seconds): the rules' clock.
        armed: Names of the conditions that hold (for conditional intrusion).

    Returns:
        The changes the rules reported (raised, updated, cleared), in order.
    """
    plan = cam.plan
    cam.tracker = update_tracks(cam.tracker, dets, t, plan.zones)
    people = xyxy_array([d for d in dets if d.label == "person"])
    cam.readings = zone_counts(count_in_zones(people, plan.zones), plan.zones)
    reading = {r.zone_id: r for r in cam.readings}
    changes: list[DetectionChange] = []
    for c in plan.crowding:
        state = cam.crowding.get(c.zone_id, CrowdingState())
        state, ev = step_crowding(c.rule, state, reading[c.zone_id], t)
        cam.crowding[c.zone_id] = state
        changes += [DetectionChange.of(ev, c.severity)] if ev else []
    for i, h in enumerate(plan.hazards):
        hs = cam.hazards.get(i, HazardState())
        if isinstance(h.rule, IntrusionRule):
            hs, hev = step_intrusion(h.rule, hs, dets, armed, t)
        else:
            hs, hev = step_loitering(h.rule, hs, cam.tracker.tracks, t)
        cam.hazards[i] = hs
        changes += [DetectionChange.of(hev, h.severity)] if hev else []
    return changes
