"""The conditions service: the one owner of arming conditions' state.

The API raises and clears conditions today; sensors and rules will too.
Consumers (detection's conditional intrusion rules) read which conditions
hold and declare the rules each one arms, through protocols of their own.
Every change is persisted, audited (O2) and published as
``detection.condition``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from wall.conditions.core import Condition, ConditionState, changed, listing
from wall.conditions.repository import ConditionRepository
from wall.conditions.topics import CONDITION_CHANGED, ConditionChanged
from wall.platform.clock import utc_now
from wall.platform.errors import Malformed
from wall.platform.event_bus import EventBus

__all__ = ["ConditionsService"]


class ConditionsService:
    """Named arming conditions: state, changes and the rules they arm.

    Use as ``async with ConditionsService(...) as conditions:`` (loads them).

    Args:
        repository: Where the states are kept.
        bus: The internal event bus (``detection.condition``).
        wall_clock: Current UTC time.
    """

    def __init__(
        self,
        repository: ConditionRepository,
        bus: EventBus,
        *,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.repository, self.bus, self._wall_clock = repository, bus, wall_clock
        self._states: dict[str, ConditionState] = {}
        self._arms: dict[str, list[str]] = {}

    async def __aenter__(self) -> ConditionsService:
        await self.load()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Nothing to stop: every change is saved when it happens."""

    async def load(self) -> None:
        """Read the stored states (at start-up)."""
        self._states |= {s.name: s for s in await self.repository.load()}

    def declare_arms(self, name: str, originators: Sequence[str]) -> None:
        """Record that condition ``name`` arms the rules of ``originators``."""
        arms = self._arms.setdefault(name, [])
        arms.extend(o for o in originators if o not in arms)

    def active(self) -> frozenset[str]:
        """Names of the conditions that hold now."""
        return frozenset(n for n, s in self._states.items() if s.active)

    def conditions(self) -> list[Condition]:
        """Every known condition, by name: state, last change, the rules it arms."""
        return listing(self._states, self._arms)

    def condition(self, name: str) -> Condition:
        """One condition (never set and arming nothing: inactive, no arms)."""
        state = self._states.get(name, ConditionState(name))
        return Condition(state, tuple(self._arms.get(name, ())))

    async def set(self, name: str, active: bool, actor: str) -> Condition:
        """Raise or clear a named condition: persisted, audited (O2), published.

        Args:
            name: Condition name (see ``CONDITION_NAME_PATTERN``).
            active: Whether it holds now.
            actor: Who changed it (principal name) for the audit log.

        Returns:
            The condition as :meth:`conditions` lists it.

        Raises:
            Malformed: For a malformed name.
            StoreError: It could not be stored; the condition is unchanged.
        """
        try:
            state = changed(name, active, actor, self._wall_clock())
        except ValueError as err:
            raise Malformed("condition_name_malformed", str(err)) from err
        await self.repository.save(state)  # kept and published once stored
        self._states[name] = state
        self.bus.emit(
            CONDITION_CHANGED,
            ConditionChanged(
                name=name,
                active=active,
                changed_at=state.changed_at,
                changed_by=state.changed_by,
            ),
        )
        return self.condition(name)
