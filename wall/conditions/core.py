"""Arming conditions as values: names, states, changes and the listing (pure).

A condition is a named fact that holds or not (``flood_warning``); rules of
other capabilities are armed while it holds. This module knows no store, bus
or clock: the moment of a change is an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "CONDITION_NAME_PATTERN",
    "Condition",
    "ConditionState",
    "changed",
    "check_name",
    "listing",
]

CONDITION_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Allowed names of arming conditions (e.g. ``flood_warning``)."""
_NAME = re.compile(CONDITION_NAME_PATTERN)


@dataclass(frozen=True, slots=True)
class ConditionState:
    """Whether a condition holds, and its last change.

    Attributes:
        name: The condition's name.
        active: Whether it holds now.
        changed_at: When it last changed (UTC), ``None`` if never.
        changed_by: Who changed it (principal, ``rule:<id>``…), ``None`` if never.
    """

    name: str
    active: bool = False
    changed_at: datetime | None = None
    changed_by: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition as listed: its state and the rules it arms.

    Attributes:
        state: Whether it holds and its last change.
        arms: Originators of the rules it arms, e.g. ``camera:gate/zone:quay``.
    """

    state: ConditionState
    arms: tuple[str, ...]


def check_name(name: str) -> str:
    """The name, if it is a valid condition name.

    Raises:
        ValueError: For a malformed name.

    Examples:
        >>> check_name("flood_warning")
        'flood_warning'
        >>> check_name("no spaces")
        Traceback (most recent call last):
        ...
        ValueError: condition names must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$
    """
    if not _NAME.match(name):
        raise ValueError(f"condition names must match {CONDITION_NAME_PATTERN}")
    return name


def changed(name: str, active: bool, actor: str, at: datetime) -> ConditionState:
    """The state after ``actor`` set condition ``name`` at ``at``.

    Raises:
        ValueError: For a malformed name.
    """
    return ConditionState(check_name(name), active, at, actor)


def listing(
    states: Mapping[str, ConditionState], arms: Mapping[str, Sequence[str]]
) -> list[Condition]:
    """Every known condition, by name: stored ones and those that arm a rule.

    Examples:
        >>> [c.state.name for c in listing({"b": ConditionState("b")}, {"a": ["x"]})]
        ['a', 'b']
    """
    return [
        Condition(states.get(n, ConditionState(n)), tuple(arms.get(n, ())))
        for n in sorted(set(states) | set(arms))
    ]
