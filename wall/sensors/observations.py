"""Observations: the stored time series of every station element, and its queries.

An :class:`Observation` is one value of one station element at one observed
time (domain §2.3). The repository keeps them (:class:`ObservationRepository`;
SQLite in :mod:`wall.sensors.store`), de-duplicates QoS-1 redeliveries by
(station, element, observed time, value) (M3), answers "the newest value of
each element" by observed time, not arrival (M2), and serves chart ranges
either as raw points or as min/max/mean per time bucket, so that a 30-day
chart is at most :data:`DEFAULT_MAX_POINTS` points.

Buckets are aligned to multiples of their width since the Unix epoch (UTC),
so a live chart whose window slides keeps the same bucket edges. This module
does no I/O: it holds the record types, the repository protocol and the
bucket arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Protocol, TypeAlias

from wall.platform.errors import Invalid
from wall.platform.wire import JsonValue
from wall.sensors.core.quality import Quality

__all__ = [
    "DEFAULT_MAX_POINTS",
    "MAX_BUCKETS",
    "NICE_WIDTHS_S",
    "Bucket",
    "BucketPlan",
    "Observation",
    "ObservationRepository",
    "ObservationValue",
    "Quality",
    "Series",
    "plan_buckets",
]

ObservationValue: TypeAlias = float | int | bool | str | None
"""What an element reports: a number, a flag, a text, or nothing (a marker)."""

DEFAULT_MAX_POINTS = 1_000
"""Points a chart range returns when the caller names no limit."""
MAX_BUCKETS = 10_000
"""The most buckets (or raw points) one range query may return."""
NICE_WIDTHS_S = (
    *(1, 2, 5, 10, 15, 30),
    *(60, 120, 300, 600, 900, 1800),
    *(3600, 7200, 10800, 21600, 43200, 86400),
)
"""Bucket widths chosen for ``max_points``, in seconds; beyond a day, whole days."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_DAY_S = 86_400


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one station element (domain §2.3).

    Flagged values (late, spike, out of range…) are kept with their quality,
    never dropped (M2, R10). Integers are stored as SQLite ``REAL``: they come
    back as floats that compare equal.

    Attributes:
        station: Station id.
        element: Canonical element name (``water_level``, ``rain_5min``…).
        observed_at: When it was measured (UTC after construction).
        received_at: When the service received it (UTC after construction).
        value: The value in ``unit``; never NaN or infinity.
        unit: Its unit (``m``, ``mm``, ``%``…), if any.
        quality: Its quality flag.
        source: Where it came from (``protocol``, ``topic``, ``seq``…), JSON.
    """

    station: str
    element: str
    observed_at: datetime
    received_at: datetime
    value: ObservationValue
    unit: str | None = None
    quality: Quality = Quality.GOOD
    source: Mapping[str, JsonValue] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if not self.station or not self.element:
            raise ValueError("an observation needs a station and an element")
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("an observation value must be finite (no NaN or inf)")
        object.__setattr__(self, "observed_at", _utc(self.observed_at, "observed_at"))
        object.__setattr__(self, "received_at", _utc(self.received_at, "received_at"))
        object.__setattr__(self, "quality", Quality(self.quality))
        if not isinstance(self.source, MappingProxyType):
            object.__setattr__(self, "source", MappingProxyType(dict(self.source)))

    @property
    def number(self) -> float | None:
        """The value as a float if it is a number (booleans are not)."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The numeric values of one element within one time bucket.

    Attributes:
        start: The bucket's first instant (aligned to its width since the epoch).
        end: The instant after its last (``start`` + width).
        count: Numeric observations in it (there is at least one).
        min: Their smallest value.
        max: Their largest value.
        mean: Their arithmetic mean.
        flagged: How many of them are not ``good`` (a chart may mark them).
    """

    start: datetime
    end: datetime
    count: int
    min: float
    max: float
    mean: float
    flagged: int


@dataclass(frozen=True, slots=True)
class Series:
    """The answer to a range query: raw points, or buckets when there are many.

    Attributes:
        station: Station id.
        element: Element name.
        start: First instant asked for (inclusive).
        end: Last instant asked for (exclusive).
        bucket_s: Bucket width in seconds, ``None`` for raw points.
        points: Raw observations by observed time (empty when bucketed).
        buckets: Non-empty buckets by time (empty when raw); an empty bucket
            is a gap in the data.
    """

    station: str
    element: str
    start: datetime
    end: datetime
    bucket_s: int | None = None
    points: tuple[Observation, ...] = ()
    buckets: tuple[Bucket, ...] = ()


def _floor_s(moment: datetime) -> int:
    return (moment - _EPOCH) // _SECOND


def _ceil_s(moment: datetime) -> int:
    return -((_EPOCH - moment) // _SECOND)


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """Which aligned buckets cover ``[start, end)``.

    Bucket ``i`` spans ``[i * width_s, (i + 1) * width_s)`` seconds after the
    Unix epoch; the buckets ``first`` to ``last`` (inclusive) cover the range.

    Examples:
        >>> t0 = datetime(2025, 6, 1, tzinfo=UTC)
        >>> plan = plan_buckets(t0, t0 + timedelta(days=30), max_points=1000)
        >>> plan.width_s, plan.count
        (3600, 720)
    """

    width_s: int
    first: int
    last: int

    @property
    def count(self) -> int:
        """How many buckets the plan spans."""
        return self.last - self.first + 1

    def start_of(self, index: int) -> datetime:
        """The first instant of bucket ``index``."""
        return _EPOCH + timedelta(seconds=index * self.width_s)


def _checked_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(start, "start"), _utc(end, "end")
    if not start < end:
        raise Invalid("range_invalid", "the range must end after it starts")
    return start, end


def _plan(start: datetime, end: datetime, width_s: int) -> BucketPlan:
    return BucketPlan(
        width_s, _floor_s(start) // width_s, (_ceil_s(end) - 1) // width_s
    )


def check_max_points(max_points: int) -> int:
    """``max_points`` if it lies in 2..:data:`MAX_BUCKETS`, else :class:`Invalid`."""
    if not 2 <= max_points <= MAX_BUCKETS:
        raise Invalid(
            "max_points_invalid", f"max_points must be between 2 and {MAX_BUCKETS}"
        )
    return max_points


def plan_buckets(
    start: datetime,
    end: datetime,
    *,
    bucket_s: int | None = None,
    max_points: int | None = None,
) -> BucketPlan:
    """Plan the buckets of a range: a given width, or the finest that fits.

    Args:
        start: First instant (inclusive, aware).
        end: Last instant (exclusive, aware).
        bucket_s: The bucket width in seconds, if the caller chose one.
        max_points: Otherwise, the most buckets wanted (2 to
            :data:`MAX_BUCKETS`): the narrowest of :data:`NICE_WIDTHS_S`, or
            of whole days, that gives no more.

    Raises:
        Invalid: The range is empty, both or neither of ``bucket_s`` and
            ``max_points`` are given, or the plan would exceed
            :data:`MAX_BUCKETS`.
        ValueError: A naive datetime.

    Examples:
        >>> t0 = datetime(2025, 6, 1, 0, 0, 30, tzinfo=UTC)
        >>> plan_buckets(t0, t0 + timedelta(minutes=2), bucket_s=60)
        BucketPlan(width_s=60, first=29145600, last=29145602)
    """
    start, end = _checked_range(start, end)
    if (bucket_s is None) == (max_points is None):
        raise Invalid("bucket_invalid", "give either a bucket width or max_points")
    if bucket_s is not None:
        if bucket_s < 1:
            raise Invalid("bucket_invalid", "the bucket width must be >= 1 s")
        plan = _plan(start, end, bucket_s)
        if plan.count > MAX_BUCKETS:
            raise Invalid(
                "bucket_invalid",
                f"{plan.count} buckets of {bucket_s} s; at most {MAX_BUCKETS} "
                "per query: widen the bucket or shorten the range",
            )
        return plan
    assert max_points is not None  # noqa: S101 - exactly one is set
    limit = check_max_points(max_points)
    for width in NICE_WIDTHS_S:
        plan = _plan(start, end, width)
        if plan.count <= limit:
            return plan
    # n aligned buckets of width w cover at most ceil(span / w) + 1 of them
    span_s = _ceil_s(end) - _floor_s(start)
    days = max(1, -(-span_s // (_DAY_S * (limit - 1))))
    return _plan(start, end, days * _DAY_S)


class ObservationRepository(Protocol):
    """Where observations persist (SQLite now, PostgreSQL later)."""

    async def add_many(self, observations: Sequence[Observation]) -> int:
        """Store a batch in one transaction; redeliveries are ignored (M3).

        Returns:
            How many observations were new.
        """
        ...

    async def latest(self, station: str) -> tuple[Observation, ...]:
        """The newest observation of each element by observed time (M2), by element."""
        ...

    async def range(
        self,
        station: str,
        element: str,
        start: datetime,
        end: datetime,
        *,
        bucket_s: int | None = None,
        max_points: int | None = None,
    ) -> Series:
        """Observations of one element in ``[start, end)``: raw or bucketed.

        With ``bucket_s`` the answer is always bucketed. Otherwise it is raw
        when at most ``max_points`` (default :data:`DEFAULT_MAX_POINTS`)
        observations lie in the range, and bucketed to no more than that
        otherwise.
        """
        ...

    async def purge_before(self, moment: datetime) -> int:
        """Delete observations observed before ``moment`` (retention); their count."""
        ...
