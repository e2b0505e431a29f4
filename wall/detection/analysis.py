"""The live analysis of one camera: zone counts, boxes, rates, lagging.

One model serves ``GET /api/v1/cameras/{id}/analysis`` and the bus topic
``detection.analysis`` alike, so a page that draws overlays can subscribe
instead of polling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field

from wall.detection.camera_run import CameraRun
from wall.platform.wire import WireModel

__all__ = [
    "AnalysedBox",
    "CameraAnalysis",
    "CameraState",
    "ZoneAnalysis",
    "camera_analysis",
]

CameraState = Literal["unavailable", "not_analysed", "waiting", "lagging", "ok"]
"""A camera's analysis state, as the detection service reports it."""


class ZoneAnalysis(WireModel):
    """One zone of an analysed camera, as of its last analysed frame."""

    id: str = Field(description="Zone id.")
    name: str = Field(description="Display name.")
    kind: str = Field(description="crowd or danger.")
    polygon: list[list[float]] = Field(description="Vertices [x, y], frame pixels.")
    count: int | None = Field(description="Persons in the zone (None: not yet).")
    density_ppm2: float | None = Field(description="Persons/m² (None: no area).")
    alarms: list[str] = Field(description="Types of the alarms active in the zone.")


class AnalysedBox(WireModel):
    """A tracked object seen in the last analysed frame."""

    track_id: int
    label: str
    score: float
    xyxy: list[float] = Field(description="Box [x1, y1, x2, y2], frame pixels.")


class CameraAnalysis(WireModel):
    """Live analysis of one camera (``detection.analysis`` and the REST endpoint).

    Published on the bus as ``detection.analysis`` for every camera being
    analysed, at most about 4 times a second per camera and only when a new
    frame was analysed (latest wins: a state between two publications is
    skipped, never queued). The payload is exactly the JSON of
    ``GET /api/v1/cameras/{camera_id}/analysis``: ``camera_id``, ``state``
    (``ok``, ``waiting``, ``lagging``, ``not_analysed``, ``unavailable``),
    ``reason``, ``lagging``, ``stream``, ``fps_analysed``, the frame counters,
    ``last_frame_age_s``, ``frame_wh`` ([width, height] of the analysed
    picture, the pixels of every polygon and box), ``zones`` (id, name, kind,
    polygon, count, density_ppm2, alarms) and ``boxes`` (track_id, label,
    score, xyxy) of the objects in the last analysed frame.
    """

    camera_id: str
    state: CameraState
    reason: str | None = Field(description="Why the detector is unavailable.")
    lagging: bool = Field(description="Frames arrive too old to analyse (X4).")
    stream: str = Field(description="The analysed stream role (sub).")
    fps_analysed: float = Field(description="Frames analysed per second, lately.")
    frames_analysed: int
    frames_skipped_stale: int
    frames_skipped_unchanged: int
    last_frame_age_s: float | None = Field(description="Age of the newest frame seen.")
    frame_wh: list[int] | None = Field(description="[width, height] of the frame.")
    zones: list[ZoneAnalysis]
    boxes: list[AnalysedBox]


def _zones(cam: CameraRun, alarms_of: Callable[[str], list[str]]) -> list[ZoneAnalysis]:
    readings = {r.zone_id: r for r in cam.readings}
    out = []
    for z in cam.plan.zones:
        reading = readings.get(z.zone_id)
        out.append(
            ZoneAnalysis(
                id=z.zone_id,
                name=cam.plan.names[z.zone_id],
                kind=cam.plan.kinds[z.zone_id],
                polygon=[list(p) for p in z.polygon_px],
                count=None if reading is None else reading.count,
                density_ppm2=None if reading is None else reading.density_ppm2,
                alarms=alarms_of(z.zone_id),
            )
        )
    return out


def camera_analysis(
    cam: CameraRun,
    state: CameraState,
    reason: str | None,
    fps_analysed: float,
    alarms_of: Callable[[str], list[str]],
) -> CameraAnalysis:
    """The analysis of one camera as of its last analysed frame.

    Args:
        cam: The camera's run-time state.
        state: Its analysis state.
        reason: Why the detector is unavailable (reported only then).
        fps_analysed: Its analysed frame rate.
        alarms_of: Zone id → types of the alarms active there.
    """
    tracker, frame = cam.tracker, cam.frame_bgr
    return CameraAnalysis(
        camera_id=cam.plan.camera_id,
        state=state,
        reason=reason if state == "unavailable" else None,
        lagging=state == "lagging",
        stream=cam.role,
        fps_analysed=round(fps_analysed, 2),
        frames_analysed=cam.analysed,
        frames_skipped_stale=cam.stale,
        frames_skipped_unchanged=cam.motion.skipped,
        last_frame_age_s=None if cam.last_age_s is None else round(cam.last_age_s, 3),
        frame_wh=None if frame is None else [frame.shape[1], frame.shape[0]],
        zones=_zones(cam, alarms_of),
        boxes=[
            AnalysedBox(
                track_id=t.track_id,
                label=t.label,
                score=round(t.score, 3),
                xyxy=[round(v, 1) for v in t.xyxy],
            )
            for t in tracker.tracks
            if t.last_seen_monotonic_s == tracker.last_monotonic_s
        ],
    )
