"""Rule conditions: a comparison with a value or a station attribute (R2, R5).

A condition compares one observed value with a threshold: a literal number,
or a reference to a station attribute (``thresholds.warning_level_m``) plus
an offset, resolved per observation so that an edited threshold applies from
the next one (R5). (These are alarm-rule conditions, not the arming
conditions of :mod:`wall.conditions`.)

Each condition is also a set of real numbers (a union of intervals). A clear
condition that shares any value with a create condition is refused: with
both true at once the alarm would flap (R2).

Examples:
    >>> create = Condition(Op.GT, 10.0)
    >>> create.holds(10.01, {}), create.holds(10.0, {})
    (True, False)
    >>> overlaps(create, Condition(Op.LT, 12.0), {})
    True
    >>> overlaps(create, Condition(Op.LE, 9.95), {})
    False
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Condition",
    "Interval",
    "MissingAttribute",
    "Op",
    "overlaps",
]

_INF = math.inf


class Op(StrEnum):
    """Comparison of a value with the threshold (domain §2.3 ``op``).

    ``between`` and ``outside`` take a pair (low, high), bounds included in
    ``between``; ``delta_gt``, ``rate_gt`` and ``bitset`` are not supported yet.
    """

    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    EQ = "eq"
    NE = "ne"
    BETWEEN = "between"
    OUTSIDE = "outside"

    @property
    def takes_pair(self) -> bool:
        """Compares with a (low, high) pair rather than one number."""
        return self in (Op.BETWEEN, Op.OUTSIDE)


class MissingAttribute(LookupError):
    """A referenced station attribute is absent and the condition has no default."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"attribute {ref} is missing and the condition has no default")
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of reals between two bounds; each bound open or closed."""

    low: float
    high: float
    low_closed: bool = False
    high_closed: bool = False

    def meets(self, other: Interval) -> bool:
        """The two intervals share at least one value."""
        low, high = max(self.low, other.low), min(self.high, other.high)
        if low < high:
            return True
        if low > high or math.isinf(low):
            return False
        return self.contains(low) and other.contains(low)

    def contains(self, value: float) -> bool:
        """``value`` lies in the interval."""
        above = value > self.low or (self.low_closed and value == self.low)
        below = value < self.high or (self.high_closed and value == self.high)
        return above and below


@dataclass(frozen=True, slots=True)
class Condition:
    """One comparison, e.g. ``gt`` ``thresholds.warning_level_m``.

    Attributes:
        op: The comparison.
        value: The literal threshold (one number), or the low bound of a pair.
        high: The high bound of ``between``/``outside``.
        ref: Attribute path used instead of ``value`` (single-number ops only).
        offset: Added to the referenced attribute (``-0.05`` clears 5 cm below).
        default: Used when the attribute is missing; without it the rule is
            disabled rather than compared with 0 (R5).
    """

    op: Op
    value: float | None = None
    high: float | None = None
    ref: str | None = None
    offset: float = 0.0
    default: float | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.ref is None):
            raise ValueError("a condition needs exactly one of value and value_ref")
        if self.op.takes_pair:
            if self.ref is not None or self.value is None or self.high is None:
                raise ValueError(f"op {self.op} needs a literal pair [low, high]")
            if not self.value < self.high:
                raise ValueError(f"op {self.op} needs low < high")
        elif self.high is not None:
            raise ValueError(f"op {self.op} takes one number, not a pair")

    def threshold(self, attributes: Mapping[str, float]) -> float:
        """The number compared with (the low bound for a pair).

        Raises:
            MissingAttribute: the reference is absent and there is no default.
        """
        if self.ref is None:
            assert self.value is not None  # noqa: S101 - __post_init__ checked it
            return self.value
        found = attributes.get(self.ref)
        if found is None:
            if self.default is None:
                raise MissingAttribute(self.ref)
            return self.default
        return found + self.offset

    def intervals(self, attributes: Mapping[str, float]) -> tuple[Interval, ...]:
        """The values that satisfy the condition, as disjoint intervals.

        Raises:
            MissingAttribute: as :meth:`threshold`.
        """
        t = self.threshold(attributes)
        high = _INF if self.high is None else self.high
        match self.op:
            case Op.GT:
                return (Interval(t, _INF),)
            case Op.GE:
                return (Interval(t, _INF, low_closed=True),)
            case Op.LT:
                return (Interval(-_INF, t),)
            case Op.LE:
                return (Interval(-_INF, t, high_closed=True),)
            case Op.EQ:
                return (Interval(t, t, True, True),)
            case Op.NE:
                return (Interval(-_INF, t), Interval(t, _INF))
            case Op.BETWEEN:
                return (Interval(t, high, True, True),)
            case Op.OUTSIDE:
                return (Interval(-_INF, t), Interval(high, _INF))

    def holds(self, value: float, attributes: Mapping[str, float]) -> bool:
        """``value`` satisfies the condition.

        Raises:
            MissingAttribute: as :meth:`threshold`.
        """
        return any(i.contains(value) for i in self.intervals(attributes))

    def describe(self) -> str:
        """Short text for messages, e.g. ``gt thresholds.warning_level_m-0.05``."""
        if self.ref is None:
            pair = f"[{self.value}, {self.high}]" if self.op.takes_pair else ""
            return f"{self.op} {pair or self.value}"
        shift = f"{self.offset:+g}" if self.offset else ""
        return f"{self.op} {self.ref}{shift}"


def overlaps(a: Condition, b: Condition, attributes: Mapping[str, float]) -> bool:
    """Some value satisfies both conditions (a clear overlapping a create: R2).

    Raises:
        MissingAttribute: a reference of either is absent, without a default.
    """
    return any(
        x.meets(y) for x in a.intervals(attributes) for y in b.intervals(attributes)
    )
