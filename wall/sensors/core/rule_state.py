"""The state of one rule on one station, and its JSON form (R3).

Persisting it after each step and restoring it at start-up keeps a
duration or repeat count across a restart: a 10-minute rule interrupted at
minute 7 still raises at minute 10. The monotonic time of the previous reading
is not persisted, because the monotonic clock restarts with the process.

Examples:
    >>> s = RuleState(creates=(TriggerState(True, 420.0, 8),))
    >>> RuleState.from_json(s.to_json()) == s
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from wall.alarms.core import Severity
from wall.platform.wire import JsonValue, parse_wire_time
from wall.sensors.core.triggers import TriggerState

__all__ = ["RuleState"]


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where a rule stands on one station.

    Attributes:
        raised: Severity of the alarm the rule holds raised, ``None`` if none.
        creates: Progress of each create trigger, in the rule's order.
        clear: Progress of the clear trigger.
        last_observed_at: Observed time of the last evaluated reading, UTC.
        last_monotonic_s: Its monotonic time in this process (not persisted).
    """

    raised: Severity | None = None
    creates: tuple[TriggerState, ...] = ()
    clear: TriggerState = field(default_factory=TriggerState)
    last_observed_at: datetime | None = None
    last_monotonic_s: float | None = None

    def without_alarm(self) -> RuleState:
        """The state after the alarm was cleared elsewhere (an operator)."""
        return replace(self, raised=None, clear=TriggerState())

    def to_json(self) -> dict[str, JsonValue]:
        """The persisted form (no monotonic time)."""
        last = self.last_observed_at
        return {
            "raised": None if self.raised is None else self.raised.value,
            "creates": [_trigger_json(t) for t in self.creates],
            "clear": _trigger_json(self.clear),
            # isoformat, not wire_time: the exact microseconds, so a restored
            # "last reading" compares equal to the one it saw
            "last_observed_at": None if last is None else last.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RuleState:
        """Read :meth:`to_json` output back.

        Raises:
            ValueError: a malformed document (the caller starts afresh).
        """
        try:
            raised, creates = data["raised"], data["creates"]
            last = data["last_observed_at"]
            if not isinstance(creates, list) or (
                last is not None and not isinstance(last, str)
            ):
                raise TypeError("creates must be a list, last_observed_at text")
            return cls(
                raised=None if raised is None else Severity(str(raised)),
                creates=tuple(_trigger(t) for t in creates),
                clear=_trigger(data["clear"]),
                last_observed_at=None if last is None else parse_wire_time(last),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"malformed rule state: {err}") from err


def _trigger_json(state: TriggerState) -> dict[str, JsonValue]:
    return {"holding": state.holding, "held_s": state.held_s, "count": state.count}


def _trigger(data: object) -> TriggerState:
    if not isinstance(data, Mapping):
        raise TypeError("a trigger state must be a mapping")
    holding, held_s, count = data["holding"], data["held_s"], data["count"]
    if (
        not isinstance(holding, bool)
        or not isinstance(held_s, int | float)
        or not isinstance(count, int)
        or isinstance(count, bool)
    ):
        raise TypeError("holding must be a bool, held_s a number, count an integer")
    return TriggerState(holding, float(held_s), count)
