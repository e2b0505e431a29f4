"""Chart ranges: raw points or buckets computed in SQL, checked against a Python
reference; the bucket plan keeps a 30-day chart within 1,000 points."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.wall.sensors.observation_fixtures import BUSY_S, T0, obs
from wall.platform.errors import Invalid
from wall.platform.store.sqlite.engine import SqliteEngine
from wall.sensors.observation_store import SqliteObservations
from wall.sensors.observations import (
    MAX_BUCKETS,
    NICE_WIDTHS_S,
    Bucket,
    Observation,
    Quality,
    plan_buckets,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATION, ELEMENT = "ba-gauge-1", "water_level"


def sample(seed: int, days: int = 3) -> list[Observation]:
    """Readings about once a minute, jittered to the microsecond, with gaps,
    text values, flagged values, and other series around them."""
    rng = random.Random(seed)
    out: list[Observation] = []
    for minute in range(days * 24 * 60):
        if 600 <= minute % 2000 < 700:
            continue  # an outage: empty buckets
        jitter_s = rng.uniform(-20, 20)
        value: float | str = round(rng.uniform(8.0, 11.0), 3)
        if rng.random() < 0.01:
            value = "sensor_fault"
        quality = Quality.SPIKE if rng.random() < 0.05 else Quality.GOOD
        out.append(obs(minute + jitter_s / 60, value, quality=quality))
        if minute % 3 == 0:
            out.append(obs(minute, 99.0, station="ba-gauge-2"))
            out.append(obs(minute, 99.0, element="rain_5min"))
    return out


def reference(
    data: Sequence[Observation], start: datetime, end: datetime, width_s: int
) -> list[Bucket]:
    """The buckets, computed one observation at a time in Python."""
    groups: dict[int, list[Observation]] = defaultdict(list)
    for o in data:
        number = o.number
        if (o.station, o.element) != (STATION, ELEMENT) or number is None:
            continue
        if start <= o.observed_at < end:
            groups[(o.observed_at - EPOCH) // timedelta(seconds=width_s)].append(o)
    buckets = []
    for index in sorted(groups):
        values = [o.number for o in groups[index] if o.number is not None]
        buckets.append(
            Bucket(
                start=EPOCH + timedelta(seconds=index * width_s),
                end=EPOCH + timedelta(seconds=(index + 1) * width_s),
                count=len(values),
                min=min(values),
                max=max(values),
                mean=statistics.fmean(values),
                flagged=sum(o.quality != Quality.GOOD for o in groups[index]),
            )
        )
    return buckets


def same_buckets(got: Sequence[Bucket], want: Sequence[Bucket]) -> bool:
    """Equal, the mean up to float summation order."""
    exact = [(b.start, b.end, b.count, b.min, b.max, b.flagged) for b in got]
    wanted = [(b.start, b.end, b.count, b.min, b.max, b.flagged) for b in want]
    means = [b.mean for b in got] == pytest.approx([b.mean for b in want], rel=1e-12)
    return exact == wanted and bool(means)


@pytest.fixture(scope="module")
def data() -> list[Observation]:
    return sample(seed=651)


@pytest.fixture
async def repo(
    tmp_path: Path, data: list[Observation]
) -> AsyncIterator[SqliteObservations]:
    async with SqliteEngine(tmp_path / "ranges.sqlite3", busy_timeout_s=BUSY_S) as eng:
        observations = SqliteObservations(eng)
        assert await observations.add_many(data) == len(data)
        yield observations


# --- buckets against the reference -------------------------------------------------

START = T0 + timedelta(hours=5, minutes=7, seconds=13, microseconds=500_000)
END = T0 + timedelta(days=2, hours=19, seconds=1.25)


@pytest.mark.parametrize("width_s", [97, 60, 600, 3600, 86_400])
async def test_buckets_match_a_python_reference(
    repo: SqliteObservations, data: list[Observation], width_s: int
) -> None:
    series = await repo.range(STATION, ELEMENT, START, END, bucket_s=width_s)
    assert series.bucket_s == width_s and series.points == ()
    want = reference(data, START, END, width_s)
    assert len(series.buckets) == len(want) > 0
    assert same_buckets(series.buckets, want)


async def test_max_points_buckets_a_long_range_within_the_limit(
    repo: SqliteObservations, data: list[Observation]
) -> None:
    series = await repo.range(STATION, ELEMENT, START, END, max_points=100)
    assert series.bucket_s in NICE_WIDTHS_S
    assert 0 < len(series.buckets) <= 100
    assert same_buckets(series.buckets, reference(data, START, END, series.bucket_s))
    # the outages are gaps, not zero-valued buckets
    assert all(b.count > 0 for b in series.buckets)


async def test_a_short_range_comes_back_raw_with_every_kind_of_value(
    repo: SqliteObservations, data: list[Observation]
) -> None:
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    series = await repo.range(STATION, ELEMENT, start, end, max_points=1000)
    want = sorted(
        (
            o
            for o in data
            if (o.station, o.element) == (STATION, ELEMENT)
            and start <= o.observed_at < end
        ),
        key=lambda o: o.observed_at,
    )
    assert series.bucket_s is None and series.buckets == ()
    assert series.points == tuple(want)


async def test_range_edges_are_half_open(tmp_path: Path) -> None:
    async with SqliteEngine(tmp_path / "edges.sqlite3") as eng:
        repo = SqliteObservations(eng)
        await repo.add_many([obs(0, 1.0), obs(10, 2.0), obs(20, 3.0)])
        start, end = T0, T0 + timedelta(minutes=20)
        raw = await repo.range(STATION, ELEMENT, start, end)
        assert [p.value for p in raw.points] == [1.0, 2.0]
        cut = await repo.range(STATION, ELEMENT, start, end, bucket_s=600)
        # an observation on an edge belongs to the bucket that starts there
        assert [(b.start, b.count) for b in cut.buckets] == [
            (T0, 1),
            (T0 + timedelta(minutes=10), 1),
        ]


@pytest.mark.parametrize(
    ("kwargs", "expectation"),
    [
        ({"bucket_s": 60, "max_points": 10}, pytest.raises(Invalid, match="not both")),
        ({"bucket_s": 0}, pytest.raises(Invalid, match=">= 1")),
        ({"bucket_s": 1}, pytest.raises(Invalid, match="at most 10000")),
        ({"max_points": 1}, pytest.raises(Invalid, match="between 2 and")),
        ({}, DoesNotRaise()),
    ],
)
async def test_range_arguments_are_checked(
    repo: SqliteObservations,
    kwargs: dict[str, int],
    expectation: AbstractContextManager[object],
) -> None:
    with expectation:
        await repo.range(STATION, ELEMENT, START, END, **kwargs)


async def test_an_empty_range_is_refused(repo: SqliteObservations) -> None:
    with pytest.raises(Invalid, match="end after it starts"):
        await repo.range(STATION, ELEMENT, END, START)


# --- the bucket plan ------------------------------------------------------------------

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("span", "max_points", "width_s", "count"),
    [
        (30 * DAY, 1000, 3600, 720),  # the 30-day chart
        (DAY, 1000, 120, 720),
        (365 * DAY, 1000, 43_200, 730),
        (3650 * DAY, 1000, 4 * 86_400, 913),  # whole days beyond the ladder
    ],
)
def test_plan_picks_the_narrowest_nice_width_that_fits(
    span: timedelta, max_points: int, width_s: int, count: int
) -> None:
    plan = plan_buckets(T0, T0 + span, max_points=max_points)
    assert (plan.width_s, plan.count) == (width_s, count)
    assert plan.count <= max_points


@given(
    start_s=st.integers(0, 4_000_000_000),
    micro=st.integers(0, 999_999),
    span_s=st.floats(0.001, 20 * 365 * 86_400),
    max_points=st.integers(2, MAX_BUCKETS),
)
def test_plan_never_exceeds_max_points_and_covers_the_range(
    start_s: int, micro: int, span_s: float, max_points: int
) -> None:
    start = EPOCH + timedelta(seconds=start_s, microseconds=micro)
    end = start + timedelta(seconds=span_s)
    if end <= start:
        return
    plan = plan_buckets(start, end, max_points=max_points)
    assert plan.count <= max_points
    assert plan.start_of(plan.first) <= start
    assert plan.start_of(plan.last + 1) >= end
    assert plan.start_of(plan.last) < end
