"""Debounced alarm condition: hysteresis plus minimum durations, time as input.

The shared state machine under the crowding, intrusion and loitering rules.
A condition must hold *continuously* for ``rise_s`` before the alarm is raised,
and its clear condition must hold continuously for ``fall_s`` before it is
cleared. Raise and clear conditions are separate inputs, so the band between
them (e.g. 3-4 persons/m^2) keeps whatever state the alarm is in: hysteresis.
Each raise and each clear is reported exactly once.

Phases: ``idle`` -> ``pending`` (raise condition seen, waiting ``rise_s``) ->
``active`` -> ``clearing`` (clear condition seen, waiting ``fall_s``) -> ``idle``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["DebounceState", "Phase", "Transition", "debounce"]

Phase = Literal["idle", "pending", "active", "clearing"]
Transition = Literal["raised", "cleared"]


@dataclass(frozen=True, slots=True)
class DebounceState:
    """Where one alarm condition stands.

    Attributes:
        phase: See the module docstring.
        since_monotonic_s: Start of the current pending or clearing wait.
        started_monotonic_s: When the raise condition began, for the alarm
            that is pending or active (kept until it clears).
        last_monotonic_s: Time of the last evaluation (must not go backwards).
    """

    phase: Phase = "idle"
    since_monotonic_s: float | None = None
    started_monotonic_s: float | None = None
    last_monotonic_s: float | None = None

    @property
    def active(self) -> bool:
        """True while the alarm is raised (including while it is clearing)."""
        return self.phase in ("active", "clearing")


def _elapsed(since: float | None, now: float) -> float:
    return now - (now if since is None else since)


def debounce(
    state: DebounceState,
    *,
    raise_when: bool,
    clear_when: bool,
    now_monotonic_s: float,
    rise_s: float,
    fall_s: float = 0.0,
) -> tuple[DebounceState, Transition | None]:
    """Advance the machine by one observation.

    Args:
        state: The previous state.
        raise_when: The raise condition holds now (e.g. density >= 4).
        clear_when: The clear condition holds now (e.g. density < 3).
        now_monotonic_s: Monotonic time of the observation.
        rise_s: Minimum continuous duration of the raise condition.
        fall_s: Minimum continuous duration of the clear condition.

    Returns:
        The new state and ``"raised"``, ``"cleared"`` or ``None``.

    Raises:
        ValueError: If time went backwards.

    Examples:
        >>> s, t = debounce(DebounceState(), raise_when=True, clear_when=False,
        ...                 now_monotonic_s=0.0, rise_s=10.0)
        >>> s.phase, t
        ('pending', None)
        >>> s, t = debounce(s, raise_when=True, clear_when=False,
        ...                 now_monotonic_s=10.0, rise_s=10.0)
        >>> s.phase, t, s.started_monotonic_s
        ('active', 'raised', 0.0)
        >>> s, t = debounce(s, raise_when=False, clear_when=True,
        ...                 now_monotonic_s=11.0, rise_s=10.0)
        >>> s.phase, t
        ('idle', 'cleared')
    """
    now = now_monotonic_s
    if state.last_monotonic_s is not None and now < state.last_monotonic_s:
        raise ValueError(f"time went backwards: {now} < {state.last_monotonic_s}")
    state = replace(state, last_monotonic_s=now)
    phase = state.phase
    if phase in ("idle", "pending"):
        if not raise_when:
            return DebounceState(last_monotonic_s=now), None
        since = state.since_monotonic_s if phase == "pending" else now
        if _elapsed(since, now) >= rise_s:
            return DebounceState("active", None, since, now), "raised"
        return DebounceState("pending", since, since, now), None
    if not clear_when:
        return replace(state, phase="active", since_monotonic_s=None), None
    since = state.since_monotonic_s if phase == "clearing" else now
    if _elapsed(since, now) >= fall_s:
        return DebounceState(last_monotonic_s=now), "cleared"
    return replace(state, phase="clearing", since_monotonic_s=since), None
