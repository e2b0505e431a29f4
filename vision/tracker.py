"""IoU tracker: stable ids across frames and dwell time per id per zone.

Each frame's detections are matched to existing tracks of the same class by box
overlap, greedily from the highest IoU down; unmatched detections start new
tracks and tracks unseen for longer than ``max_age_s`` are dropped. Enough for
counting and loitering at 5 fps on fixed cameras; it has no motion model, so
fast objects crossing each other may swap ids.

Dwell: a track enters a zone when its foot point first lands in it and stays
until a matched box's foot point is outside; a track coasting through a brief
miss keeps its zones. Everything is pure; time is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from vision.boxes import iou_matrix
from vision.types import Detection, xyxy_array
from vision.zones import Zone, zone_membership

__all__ = ["Track", "TrackerConfig", "TrackerState", "update_tracks"]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Tracker tuning.

    Attributes:
        iou_threshold: Minimum IoU to continue a track (0-1). 0.3 tolerates the
            movement of a walking person between frames at 5 fps.
        max_age_s: Drop a track not matched for longer than this.
    """

    iou_threshold: float = 0.3
    max_age_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Track:
    """One object followed across frames.

    Attributes:
        track_id: Stable id, unique within one tracker.
        label: Class name.
        class_id: Class index.
        xyxy: Last matched box in source pixels.
        score: Last matched score.
        first_seen_monotonic_s: When the track started.
        last_seen_monotonic_s: When it was last matched.
        hits: Number of frames it was matched in.
        zones_entered: (zone id, monotonic entry time) of every zone it is in.
    """

    track_id: int
    label: str
    class_id: int
    xyxy: tuple[float, float, float, float]
    score: float
    first_seen_monotonic_s: float
    last_seen_monotonic_s: float
    hits: int = 1
    zones_entered: tuple[tuple[str, float], ...] = ()

    def dwell_s(self, zone_id: str, now_monotonic_s: float) -> float:
        """Seconds spent in a zone so far; 0.0 if not in it.

        Examples:
            >>> box = (0.0, 0.0, 1.0, 1.0)
            >>> t = Track(1, "person", 0, box, 0.9, 0.0, 5.0, 3, (("gate", 2.0),))
            >>> t.dwell_s("gate", 7.5), t.dwell_s("quay", 7.5)
            (5.5, 0.0)
        """
        for zone, entered in self.zones_entered:
            if zone == zone_id:
                return now_monotonic_s - entered
        return 0.0


@dataclass(frozen=True, slots=True)
class TrackerState:
    """All live tracks of one camera.

    Attributes:
        tracks: Live tracks, oldest id first.
        next_id: Id the next new track gets.
        last_monotonic_s: Time of the last update (must not go backwards).
    """

    tracks: tuple[Track, ...] = ()
    next_id: int = 1
    last_monotonic_s: float | None = None


def _greedy_match(iou: NDArray[np.float32], threshold: float) -> list[tuple[int, int]]:
    """(track, detection) pairs by descending IoU, each side used once."""
    rows, cols = np.nonzero(iou >= threshold)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    pairs = []
    for row, col in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if row not in used_rows and col not in used_cols:
            used_rows.add(row)
            used_cols.add(col)
            pairs.append((row, col))
    return pairs


def _zones_now(
    previous: tuple[tuple[str, float], ...], inside: Sequence[str], now: float
) -> tuple[tuple[str, float], ...]:
    entered = dict(previous)
    return tuple((zone, entered.get(zone, now)) for zone in inside)


def update_tracks(
    state: TrackerState,
    detections: Sequence[Detection],
    now_monotonic_s: float,
    zones: Sequence[Zone] = (),
    config: TrackerConfig | None = None,
) -> TrackerState:
    """Advance the tracker by one frame.

    Args:
        state: The previous state (``TrackerState()`` at first).
        detections: This frame's detections.
        now_monotonic_s: Monotonic time of the frame.
        zones: The camera's zones, for dwell times.
        config: Tuning; defaults to :class:`TrackerConfig`.

    Returns:
        The new state; matched tracks keep their ids.

    Raises:
        ValueError: If time went backwards.

    Examples:
        >>> d = Detection("person", 0, 0.9, (0.0, 0.0, 10.0, 20.0))
        >>> s = update_tracks(TrackerState(), [d], 0.0)
        >>> moved = Detection("person", 0, 0.8, (1.0, 0.0, 11.0, 20.0))
        >>> s = update_tracks(s, [moved], 0.2)
        >>> [(t.track_id, t.hits) for t in s.tracks]
        [(1, 2)]
    """
    config = config or TrackerConfig()
    now = now_monotonic_s
    if state.last_monotonic_s is not None and now < state.last_monotonic_s:
        raise ValueError(f"time went backwards: {now} < {state.last_monotonic_s}")
    tracks = list(state.tracks)
    boxes = xyxy_array(list(detections))
    pairs = _greedy_match(_class_iou(tracks, detections, boxes), config.iou_threshold)
    inside = _zones_of(boxes, zones)
    for row, col in pairs:
        tracks[row] = _continued(tracks[row], detections[col], inside[col], now)
    matched = {col for _, col in pairs}
    next_id = state.next_id
    for col, det in enumerate(detections):
        if col not in matched:
            tracks.append(_started(next_id, det, inside[col], now))
            next_id += 1
    alive = tuple(
        t for t in tracks if now - t.last_seen_monotonic_s <= config.max_age_s
    )
    return TrackerState(alive, next_id, now)


def _zones_of(boxes: NDArray[np.float32], zones: Sequence[Zone]) -> list[list[str]]:
    """Per box, the ids of the zones its foot point is in."""
    return [
        [zone.zone_id for zone, hit in zip(zones, row, strict=True) if hit]
        for row in zone_membership(boxes, zones).tolist()
    ]


def _class_iou(
    tracks: Sequence[Track], detections: Sequence[Detection], boxes: NDArray[np.float32]
) -> NDArray[np.float32]:
    """IoU of every (track, detection) pair, 0 where the classes differ."""
    track_boxes = np.asarray([t.xyxy for t in tracks], np.float32).reshape(-1, 4)
    track_classes = np.asarray([t.class_id for t in tracks], np.intp)
    det_classes = np.asarray([d.class_id for d in detections], np.intp)
    same_class = track_classes[:, None] == det_classes[None, :]
    return np.where(same_class, iou_matrix(track_boxes, boxes), np.float32(0))


def _continued(
    track: Track, det: Detection, inside: Sequence[str], now: float
) -> Track:
    """A track matched by this frame's detection ``det``."""
    return replace(
        track,
        xyxy=det.xyxy,
        score=det.score,
        last_seen_monotonic_s=now,
        hits=track.hits + 1,
        zones_entered=_zones_now(track.zones_entered, inside, now),
    )


def _started(track_id: int, det: Detection, inside: Sequence[str], now: float) -> Track:
    """A new track for an unmatched detection."""
    zones_in = _zones_now((), inside, now)
    return Track(
        track_id, det.label, det.class_id, det.xyxy, det.score, now, now, 1, zones_in
    )
