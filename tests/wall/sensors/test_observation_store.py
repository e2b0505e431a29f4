"""The observation store on a real SQLite file: dedup (M3), order and latest (M2),
value round trips, atomic batches under faults, retention in batches."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from tests.wall.platform.store_lock import locked_by_backup, raw_rows
from tests.wall.sensors.observation_fixtures import BUSY_S, T0, obs
from wall.platform.store.migrations import MIGRATIONS, StoreError, StoreRefused
from wall.platform.store.sqlite.engine import SqliteEngine
from wall.sensors.observation_store import SqliteObservations, dedup_key
from wall.sensors.observations import Observation, Quality


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sensors.sqlite3"


@pytest.fixture
async def engine(db_path: Path) -> AsyncIterator[SqliteEngine]:
    async with SqliteEngine(db_path, busy_timeout_s=BUSY_S) as opened:
        yield opened


@pytest.fixture
def repo(engine: SqliteEngine) -> SqliteObservations:
    return SqliteObservations(engine, purge_batch=7)


def stored(db_path: Path) -> int:
    (row,) = raw_rows(db_path, "SELECT count(*) FROM observations")
    return int(str(row[0]))


def inject(db_path: Path, sql: str) -> None:
    """An injected fault: a trigger added on a second connection."""
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute(sql)
        conn.commit()


# --- M3: QoS-1 redeliveries -------------------------------------------------------


async def test_m3_a_redelivered_batch_is_stored_once(
    repo: SqliteObservations, db_path: Path
) -> None:
    batch = [obs(m, 10.0 + m / 100) for m in range(50)]
    assert await repo.add_many(batch) == 50
    # the broker redelivers: received later, graded differently, same readings
    again = [
        Observation(
            o.station,
            o.element,
            o.observed_at,
            o.received_at + timedelta(minutes=3),
            o.value,
            o.unit,
            Quality.LATE,
            {"protocol": "senml", "dup": True},
        )
        for o in batch
    ]
    assert await repo.add_many(again) == 0
    assert stored(db_path) == 50


async def test_m3_only_the_new_part_of_an_overlapping_batch_counts(
    repo: SqliteObservations, db_path: Path
) -> None:
    await repo.add_many([obs(m) for m in range(10)])
    overlapping = [obs(m) for m in range(5, 15)] + [obs(14)]  # 14 twice in one batch
    assert await repo.add_many(overlapping) == 5
    assert stored(db_path) == 15


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (3, 3.0, True),  # one stored REAL
        (1, True, False),  # a flag is not a number
        ("3", 3.0, False),
        (None, None, True),
        (2.5, 2.5000001, False),  # a corrected value is a new observation
    ],
)
def test_m3_the_dedup_key_follows_the_stored_value(
    first: float | str | None, second: float | str | None, same: bool
) -> None:
    assert (dedup_key(obs(0, first)) == dedup_key(obs(0, second))) is same


def test_m3_the_dedup_key_ignores_the_zone_the_time_was_given_in() -> None:
    utc = obs(0)
    shanghai = Observation(
        utc.station,
        utc.element,
        T0.astimezone(timezone(timedelta(hours=8))),
        T0,
        utc.value,
    )
    assert dedup_key(utc) == dedup_key(shanghai)


# --- M2: out-of-order batches and the current value --------------------------------


async def test_m2_an_out_of_order_batch_is_stored_in_time_order(
    repo: SqliteObservations, db_path: Path
) -> None:
    minutes = list(range(30))
    random.Random(11).shuffle(minutes)
    await repo.add_many([obs(m, float(m)) for m in minutes])
    ids_by_time = raw_rows(db_path, "SELECT value FROM observations ORDER BY id")
    assert [row[0] for row in ids_by_time] == [float(m) for m in range(30)]
    series = await repo.range("ba-gauge-1", "water_level", T0, T0 + timedelta(hours=1))
    assert [p.value for p in series.points] == [float(m) for m in range(30)]


async def test_m2_latest_is_newest_by_observed_time_not_by_arrival(
    repo: SqliteObservations,
) -> None:
    await repo.add_many([obs(20, 10.2), obs(5, 9.9, element="rain_5min")])
    # a gateway flushes its offline buffer: older readings arrive last
    backlog = [obs(m, 9.0, received_minute=60, quality=Quality.LATE) for m in range(20)]
    await repo.add_many([*backlog, obs(1, 0.5, element="rain_5min")])
    latest = await repo.latest("ba-gauge-1")
    assert [(o.element, o.value, o.observed_at) for o in latest] == [
        ("rain_5min", 9.9, T0 + timedelta(minutes=5)),
        ("water_level", 10.2, T0 + timedelta(minutes=20)),
    ]
    assert await repo.latest("nowhere") == ()


async def test_m2_of_two_values_at_one_time_the_last_stored_is_current(
    repo: SqliteObservations,
) -> None:
    await repo.add_many([obs(7, 10.00)])
    await repo.add_many([obs(7, 10.04)])  # the station resends a corrected value
    (current,) = await repo.latest("ba-gauge-1")
    assert current.value == 10.04


async def test_latest_is_per_station(repo: SqliteObservations) -> None:
    await repo.add_many([obs(1, 1.0, station="a"), obs(2, 2.0, station="b")])
    assert [o.value for o in await repo.latest("a")] == [1.0]


# --- values round-trip -------------------------------------------------------------


@pytest.mark.parametrize("value", [10.01, -0.25, 7, True, False, "open", "", None])
async def test_every_kind_of_value_round_trips(
    repo: SqliteObservations, value: float | str | None
) -> None:
    original = obs(3, value, element="gate_state")
    await repo.add_many([original])
    (back,) = await repo.latest("ba-gauge-1")
    assert back == original
    assert type(back.value) is (float if type(value) is int else type(value))


def test_an_observation_refuses_nan_and_naive_times() -> None:
    with pytest.raises(ValueError, match="finite"):
        obs(0, float("nan"))
    with pytest.raises(ValueError, match="timezone-aware"):
        Observation("s", "e", T0.replace(tzinfo=None), T0, 1.0)


async def test_the_table_refuses_times_that_would_not_sort(
    engine: SqliteEngine, db_path: Path
) -> None:
    with (
        closing(sqlite3.connect(db_path)) as conn,
        pytest.raises(sqlite3.IntegrityError, match="CHECK"),
    ):
        conn.execute(
            "INSERT INTO observations (station, element, observed_at, received_at,"
            " quality, dedup_key) VALUES ('s', 'e', '2025-07-08 00:00:00', 'x',"
            " 'good', randomblob(16))"
        )


# --- failures: the batch is one transaction -----------------------------------------


async def test_a_locked_store_raises_store_error_and_stores_nothing(
    repo: SqliteObservations, db_path: Path
) -> None:
    batch = [obs(m) for m in range(20)]
    with locked_by_backup(db_path), pytest.raises(StoreError) as caught:
        await repo.add_many(batch)
    assert caught.value.code == "store_unavailable"
    assert stored(db_path) == 0
    assert await repo.add_many(batch) == 20  # nothing half-written blocks the retry


async def test_a_row_refused_mid_batch_leaves_the_whole_batch_unstored(
    repo: SqliteObservations, db_path: Path
) -> None:
    inject(
        db_path,
        "CREATE TRIGGER refuse_13 BEFORE INSERT ON observations WHEN NEW.value = 13"
        " BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    )
    with pytest.raises(StoreRefused, match="injected fault"):
        await repo.add_many([obs(m, float(m)) for m in range(20)])
    assert stored(db_path) == 0


# --- retention ----------------------------------------------------------------------


async def test_purge_before_deletes_old_rows_of_every_series_in_batches(
    repo: SqliteObservations, db_path: Path
) -> None:
    for station in ("a", "b"):
        for element in ("water_level", "rain_5min"):
            await repo.add_many(
                [obs(m, 1.0, station=station, element=element) for m in range(40)]
            )
    cutoff = T0 + timedelta(minutes=25)
    # 4 series x 25 old rows, 7 per transaction
    assert await repo.purge_before(cutoff) == 100
    oldest = raw_rows(db_path, "SELECT min(observed_at), count(*) FROM observations")
    assert oldest == [("2025-07-08T00:25:00.000000+00:00", 60)]
    assert await repo.purge_before(cutoff) == 0


async def test_purge_batches_are_separate_transactions(
    repo: SqliteObservations, db_path: Path
) -> None:
    await repo.add_many([obs(m, float(m)) for m in range(30)])
    inject(
        db_path,
        "CREATE TRIGGER keep_20 BEFORE DELETE ON observations WHEN OLD.value = 20"
        " BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    )
    with pytest.raises(StoreRefused):
        await repo.purge_before(T0 + timedelta(hours=1))
    # the batches of 7 before the failing one (0-6, 7-13) were committed
    assert stored(db_path) == 16


# --- the schema ---------------------------------------------------------------------


async def test_an_older_database_gains_the_sensor_tables(db_path: Path) -> None:
    async with SqliteEngine(db_path, migrations=MIGRATIONS[:4]) as old:
        assert await old.schema_version() == 4
    async with SqliteEngine(db_path) as upgraded:
        assert await upgraded.schema_version() == MIGRATIONS[-1].version >= 5
        assert await SqliteObservations(upgraded).add_many([obs(0)]) == 1
