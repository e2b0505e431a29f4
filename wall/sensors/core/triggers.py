"""Triggers: a condition that fires at once, after a duration, or after N in a row.

``simple`` fires on a reading that satisfies the condition. ``duration``
fires once the condition has held for ``duration_s`` (R3): the time is summed
between consecutive evaluated readings that satisfy it, and any reading that
does not resets it. ``repeating`` fires after ``repeat_count`` satisfying
readings in a row; one that does not starts the count again (R4). The state
is plain data, so it can be persisted and restored (R3).

Examples:
    >>> from wall.sensors.core.conditions import Op
    >>> t = Trigger(Condition(Op.GT, 10.0), TriggerKind.REPEATING, repeat_count=3)
    >>> s = TriggerState()
    >>> fired = []
    >>> for v in (10.1, 10.2, 9.0, 10.1, 10.3, 10.4):
    ...     s = t.advance(s, t.condition.holds(v, {}), 60.0)
    ...     fired.append(t.fired(s))
    >>> fired
    [False, False, False, False, False, True]
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wall.alarms.core import Severity
from wall.sensors.core.conditions import Condition

__all__ = ["DURATION_TOLERANCE_S", "Trigger", "TriggerKind", "TriggerState"]

DURATION_TOLERANCE_S = 1e-6
"""Float slack when a summed duration is compared with ``duration_s``."""


class TriggerKind(StrEnum):
    """How a condition must hold before it fires."""

    SIMPLE = "simple"
    DURATION = "duration"
    REPEATING = "repeating"


@dataclass(frozen=True, slots=True)
class TriggerState:
    """Progress of one trigger (plain data).

    Attributes:
        holding: The condition held at the last evaluated reading.
        held_s: Seconds it has held without a break (duration triggers).
        count: Satisfying readings in a row (repeating triggers).
    """

    holding: bool = False
    held_s: float = 0.0
    count: int = 0


@dataclass(frozen=True, slots=True)
class Trigger:
    """A condition and how long it must hold.

    Attributes:
        condition: What must hold.
        kind: Simple, duration or repeating.
        duration_s: Seconds it must hold (duration triggers).
        repeat_count: Readings in a row (repeating triggers).
        severity: Alarm severity it raises (create triggers; ``None`` for clear).
    """

    condition: Condition
    kind: TriggerKind = TriggerKind.SIMPLE
    duration_s: float | None = None
    repeat_count: int | None = None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        duration, count = self.duration_s, self.repeat_count
        if self.kind is TriggerKind.DURATION:
            if duration is None or not duration > 0 or count is not None:
                raise ValueError("a duration trigger needs duration_s > 0 only")
        elif self.kind is TriggerKind.REPEATING:
            if count is None or count < 2 or duration is not None:
                raise ValueError("a repeating trigger needs repeat_count >= 2 only")
        elif duration is not None or count is not None:
            raise ValueError("a simple trigger takes no duration_s or repeat_count")

    def advance(
        self, state: TriggerState, holds: bool, elapsed_s: float
    ) -> TriggerState:
        """The state after one evaluated reading.

        Args:
            state: State after the previous evaluated reading.
            holds: The condition holds at this reading.
            elapsed_s: Seconds since the previous evaluated reading.
        """
        if not holds:
            return TriggerState()
        if not state.holding:
            return TriggerState(holding=True, held_s=0.0, count=1)
        return TriggerState(True, state.held_s + max(elapsed_s, 0.0), state.count + 1)

    def fired(self, state: TriggerState) -> bool:
        """The trigger fires in ``state``."""
        if not state.holding:
            return False
        match self.kind:
            case TriggerKind.SIMPLE:
                return True
            case TriggerKind.DURATION:
                assert self.duration_s is not None  # noqa: S101 - checked at init
                return state.held_s + DURATION_TOLERANCE_S >= self.duration_s
            case TriggerKind.REPEATING:
                assert self.repeat_count is not None  # noqa: S101 - checked at init
                return state.count >= self.repeat_count
