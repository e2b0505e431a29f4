"""An activation waiting on the revert stack, and when it gives the wall back (A1-A3).

Pure (HS1): deadlines are monotonic seconds the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic

from wall.walls.core.commands import C, Cause, Instant, RevertEvent, RevertPolicy
from wall.walls.core.screen import Screen


@dataclass(frozen=True, slots=True)
class StackEntry(Generic[C]):
    """A revertable activation on the wall's revert stack (A2, A3)."""

    cause_ref: str
    cause: Cause
    actor: str
    priority: int
    seq: int
    screen: Screen[C]
    activated_at: datetime
    activated_monotonic_s: float
    revert_policy: RevertPolicy
    revert_after_s: float | None = None
    exclusive_group: str | None = None
    acked: bool = False
    cleared: bool = False

    @property
    def rank(self) -> tuple[int, int]:
        """Higher priority first, then the newer activation (A1)."""
        return self.priority, self.seq

    @property
    def revert_at_monotonic_s(self) -> float | None:
        """When an ``after_s`` entry is due, in monotonic seconds."""
        if self.revert_after_s is None:
            return None
        return self.activated_monotonic_s + self.revert_after_s

    def revert_due(self, event: RevertEvent, now: Instant) -> bool:
        """Whether the policy is satisfied, given the flags and this event."""
        if event is RevertEvent.FORCED:
            return True
        match self.revert_policy:
            case RevertPolicy.ON_CLEAR:
                return self.cleared
            case RevertPolicy.ON_ACK:
                return self.acked
            case RevertPolicy.ON_ACK_AND_CLEAR:
                return self.acked and self.cleared
            case RevertPolicy.AFTER_S:
                due = self.revert_at_monotonic_s
                expired = event is RevertEvent.EXPIRED
                return expired and due is not None and now.monotonic_s >= due
        return False
