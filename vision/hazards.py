"""Hazard rules: intrusion into a danger zone and loitering, as pure state machines.

Intrusion: objects of the configured classes (person, car, truck, or a user
model's smoke/fire labels) with their foot point in a danger zone. A rule may
be armed only while a named condition holds (for example a flood warning on a
linked station); when the condition ends, an active intrusion alarm clears at
once. Loitering: a tracked object has dwelt in a zone longer than ``dwell_s``.

Both raise once, report updates while active (when the intruder count or the
set of loitering track ids changes) and clear once, like the crowding rule.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from vision.debounce import DebounceState, debounce
from vision.tracker import Track
from vision.types import Detection, xyxy_array
from vision.zones import Zone, foot_points, points_in_polygon

__all__ = [
    "HazardEvent",
    "HazardState",
    "IntrusionRule",
    "LoiteringRule",
    "intruders",
    "step_intrusion",
    "step_loitering",
]

EventKind = Literal["raised", "updated", "cleared"]


@dataclass(frozen=True, slots=True)
class IntrusionRule:
    """Alarm when objects of some classes enter a danger zone.

    Attributes:
        zone: The danger zone.
        classes: Labels that count as intruders.
        condition: Name of the condition that arms the rule; ``None`` = always.
        min_duration_s: An intruder must be present this long (filters blips).
        clear_after_s: The zone must stay empty this long to clear.
    """

    zone: Zone
    classes: frozenset[str] = frozenset({"person"})
    condition: str | None = None
    min_duration_s: float = 0.0
    clear_after_s: float = 5.0


@dataclass(frozen=True, slots=True)
class LoiteringRule:
    """Alarm when a tracked object stays in a zone longer than ``dwell_s``.

    Attributes:
        zone_id: The zone (dwell comes from the tracker).
        classes: Labels considered.
        dwell_s: Dwell above which an object loiters.
        clear_after_s: Nobody may loiter for this long before the alarm clears.
    """

    zone_id: str
    classes: frozenset[str] = frozenset({"person"})
    dwell_s: float = 60.0
    clear_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class HazardEvent:
    """A change of a hazard alarm.

    Attributes:
        kind: ``raised``, ``updated`` or ``cleared``.
        hazard: ``intrusion`` or ``loitering``.
        zone_id: The zone.
        count: Intruders or loiterers now.
        labels: Sorted labels of those objects.
        track_ids: Loitering track ids (empty for intrusion).
        condition: The arming condition of an intrusion rule, if any.
        started_monotonic_s: When the hazard began.
        at_monotonic_s: Time of this event.
    """

    kind: EventKind
    hazard: Literal["intrusion", "loitering"]
    zone_id: str
    count: int
    labels: tuple[str, ...]
    track_ids: tuple[int, ...]
    condition: str | None
    started_monotonic_s: float
    at_monotonic_s: float


@dataclass(frozen=True, slots=True)
class HazardState:
    """State of one hazard rule between frames."""

    debounce: DebounceState = field(default_factory=DebounceState)
    reported: tuple[object, ...] | None = None


def intruders(
    rule: IntrusionRule, detections: Sequence[Detection]
) -> tuple[Detection, ...]:
    """Detections of the rule's classes whose foot point is in its zone.

    Examples:
        >>> gate = Zone("quay", ((0, 0), (100, 0), (100, 100), (0, 100)))
        >>> rule = IntrusionRule(gate, frozenset({"person", "car"}))
        >>> ds = [Detection("person", 0, 0.9, (10, 10, 20, 50)),
        ...       Detection("dog", 16, 0.9, (10, 10, 20, 50)),
        ...       Detection("car", 2, 0.9, (50, 50, 90, 150))]
        >>> [d.label for d in intruders(rule, ds)]
        ['person']
    """
    relevant = [d for d in detections if d.label in rule.classes]
    if not relevant:
        return ()
    inside = points_in_polygon(foot_points(xyxy_array(relevant)), rule.zone.polygon_px)
    return tuple(d for d, hit in zip(relevant, inside.tolist(), strict=True) if hit)


def _step(
    state: HazardState,
    *,
    present: bool,
    report: tuple[object, ...],
    now: float,
    rise_s: float,
    fall_s: float,
) -> tuple[HazardState, EventKind | None, float | None]:
    """Shared raise/update/clear logic; returns the kind and the start time."""
    machine, transition = debounce(
        state.debounce,
        raise_when=present,
        clear_when=not present,
        now_monotonic_s=now,
        rise_s=rise_s,
        fall_s=fall_s,
    )
    started = machine.started_monotonic_s
    if started is None:
        started = state.debounce.started_monotonic_s
    kind: EventKind | None = transition
    if transition is None and machine.active and present and report != state.reported:
        kind = "updated"
    reported = state.reported if kind is None else report
    if not machine.active:
        reported = None
    return HazardState(machine, reported), kind, started


def step_intrusion(
    rule: IntrusionRule,
    state: HazardState,
    detections: Sequence[Detection],
    active_conditions: Collection[str],
    now_monotonic_s: float,
) -> tuple[HazardState, HazardEvent | None]:
    """Evaluate one frame against an intrusion rule.

    Args:
        rule: The rule.
        state: Its previous state (``HazardState()`` at first).
        detections: The frame's detections.
        active_conditions: Names of the conditions that hold now.
        now_monotonic_s: Monotonic time of the frame.

    Returns:
        The new state and the event to publish, if any.
    """
    armed = rule.condition is None or rule.condition in active_conditions
    found = intruders(rule, detections) if armed else ()
    labels = tuple(sorted(d.label for d in found))
    fall_s = rule.clear_after_s if armed else 0.0  # disarming clears at once
    new_state, kind, started = _step(
        state,
        present=bool(found),
        report=labels,
        now=now_monotonic_s,
        rise_s=rule.min_duration_s,
        fall_s=fall_s,
    )
    if kind is None or started is None:
        return new_state, None
    event = HazardEvent(
        kind,
        "intrusion",
        rule.zone.zone_id,
        len(found),
        labels,
        (),
        rule.condition,
        started,
        now_monotonic_s,
    )
    return new_state, event


def step_loitering(
    rule: LoiteringRule,
    state: HazardState,
    tracks: Sequence[Track],
    now_monotonic_s: float,
) -> tuple[HazardState, HazardEvent | None]:
    """Evaluate the tracker's state against a loitering rule.

    Args:
        rule: The loitering rule, with its zone and classes.
        state: What the previous call returned (``HazardState()`` at first).
        tracks: Live tracks from :func:`vision.tracker.update_tracks`.
        now_monotonic_s: Monotonic time of the frame.

    Returns:
        The new state and the event to publish, if any.
    """
    loiterers = [
        t
        for t in tracks
        if t.label in rule.classes
        and t.dwell_s(rule.zone_id, now_monotonic_s) > rule.dwell_s
    ]
    ids = tuple(sorted(t.track_id for t in loiterers))
    new_state, kind, started = _step(
        state,
        present=bool(ids),
        report=ids,
        now=now_monotonic_s,
        rise_s=0.0,
        fall_s=rule.clear_after_s,
    )
    if kind is None or started is None:
        return new_state, None
    labels = tuple(sorted(t.label for t in loiterers))
    event = HazardEvent(
        kind,
        "loitering",
        rule.zone_id,
        len(ids),
        labels,
        ids,
        None,
        started,
        now_monotonic_s,
    )
    return new_state, event
