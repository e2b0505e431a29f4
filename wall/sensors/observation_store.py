"""Observations in SQLite: the ``observations`` table.

Implements :class:`~wall.sensors.observations.ObservationRepository` on the platform's
:class:`~wall.platform.store.sqlite.engine.SqliteEngine`: writes on its
writer thread in one transaction per batch, queries on its reader connection
(WAL), so a chart never waits behind ingestion.

A QoS-1 redelivery carries the same (station, element, observed time,
value); its 16-byte digest is the table's unique ``dedup_key`` and the insert
is ``INSERT OR IGNORE``, so it is stored once (M3). Buckets are computed in
SQL: the bucket edges are generated as stored time text, and each bucket is
an index range of the covering ``observations_series`` index, so no row's
time is parsed. Retention deletes in short batches, series by series, so
the writer is never held for long (:mod:`wall.sensors.retention`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

from wall.platform.errors import Invalid
from wall.platform.store.sqlite.engine import (
    SqliteEngine,
    json_text,
    text_time,
    time_text,
)
from wall.sensors.observations import (
    DEFAULT_MAX_POINTS,
    Bucket,
    BucketPlan,
    Observation,
    ObservationValue,
    Quality,
    Series,
    check_max_points,
    plan_buckets,
)
from wall.sensors.retention import PURGE_BATCH, delete_in_batches

__all__ = ["SqliteObservations", "dedup_key"]

_COLUMNS = (
    "station, element, observed_at, received_at, value, value_json, unit, quality,"
    " source"
)
_INSERT = (
    f"INSERT OR IGNORE INTO observations ({_COLUMNS}, dedup_key)"  # noqa: S608 - constant text
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_IN_RANGE = (
    "station = :station AND element = :element"
    " AND observed_at >= :start AND observed_at < :end"
)
_RAW = (
    f"SELECT {_COLUMNS} FROM observations WHERE {_IN_RANGE}"  # noqa: S608 - constant text
    " ORDER BY observed_at, id LIMIT :limit"
)
_RAW_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM observations"  # noqa: S608 - constant text
    f" WHERE {_IN_RANGE} LIMIT :limit)"
)
# The loose index scan walks the distinct elements of a station in
# O(elements * log n), then takes each one's newest row by observed time.
_LATEST = f"""
    WITH RECURSIVE elements(element) AS (
        SELECT min(element) FROM observations WHERE station = :station
        UNION ALL
        SELECT (SELECT min(element) FROM observations
                WHERE station = :station AND element > elements.element)
        FROM elements WHERE elements.element IS NOT NULL
    )
    SELECT {", ".join("o." + name.strip() for name in _COLUMNS.split(","))}
    FROM elements JOIN observations o ON o.id = (
        SELECT id FROM observations
        WHERE station = :station AND element = elements.element
        ORDER BY observed_at DESC, id DESC LIMIT 1)
    ORDER BY o.element
"""  # noqa: S608 - constant text
# Integer-second edges, written in time_text's fixed-width form.
_EDGE = "strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', {} * :width, 'unixepoch')"
_BUCKETS = f"""
    WITH RECURSIVE k(i) AS (
        SELECT :first UNION ALL SELECT i + 1 FROM k WHERE i < :last
    ),
    edges(i, lo, hi) AS (
        SELECT i, {_EDGE.format("i")}, {_EDGE.format("(i + 1)")} FROM k
    )
    SELECT edges.i AS i, count(*) AS n, min(o.value) AS low, max(o.value) AS high,
        avg(o.value) AS mean, sum(o.quality != 'good') AS flagged
    FROM edges JOIN observations o
        ON o.station = :station AND o.element = :element
        AND o.observed_at >= max(edges.lo, :start)
        AND o.observed_at < min(edges.hi, :end)
        AND o.value IS NOT NULL
    GROUP BY edges.i ORDER BY edges.i
"""  # noqa: S608 - constant text
_FIRST_SERIES = (
    "SELECT station, element FROM observations ORDER BY station, element LIMIT 1"
)
_NEXT_SERIES = (
    "SELECT station, element FROM observations WHERE (station, element) > (?, ?)"
    " ORDER BY station, element LIMIT 1"
)
_PURGE_SERIES = (
    "DELETE FROM observations WHERE id IN (SELECT id FROM observations"
    " WHERE station = ? AND element = ? AND observed_at < ? LIMIT ?)"
)


def _key_value(value: ObservationValue) -> ObservationValue:
    # 3 and 3.0 are one stored REAL, so one key; True stays a boolean.
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def dedup_key(observation: Observation) -> bytes:
    """The 16-byte digest of (station, element, observed time, value) (M3).

    A redelivery, whenever it arrives, has the same key; ``received_at``,
    quality and source are not part of it.
    """
    canonical = json_text(
        [
            observation.station,
            observation.element,
            time_text(observation.observed_at),
            _key_value(observation.value),
        ]
    )
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()


def _row(observation: Observation) -> tuple[object, ...]:
    number, value = observation.number, observation.value
    as_json = None if number is not None or value is None else json_text(value)
    return (
        observation.station,
        observation.element,
        time_text(observation.observed_at),
        time_text(observation.received_at),
        number,
        as_json,
        observation.unit,
        observation.quality.value,
        json_text(dict(observation.source)),
        dedup_key(observation),
    )


def _moment(text: str) -> datetime:
    moment = text_time(text)
    assert moment is not None  # noqa: S101 - a NOT NULL column
    return moment


def _observation(row: sqlite3.Row) -> Observation:
    value: ObservationValue = row["value"]
    if value is None and row["value_json"] is not None:
        value = json.loads(row["value_json"])
    return Observation(
        station=row["station"],
        element=row["element"],
        observed_at=_moment(row["observed_at"]),
        received_at=_moment(row["received_at"]),
        value=value,
        unit=row["unit"],
        quality=Quality(row["quality"]),
        source=MappingProxyType(json.loads(row["source"])),
    )


def _bucket(plan: BucketPlan, row: sqlite3.Row) -> Bucket:
    start = plan.start_of(row["i"])
    return Bucket(
        start=start,
        end=plan.start_of(row["i"] + 1),
        count=row["n"],
        min=row["low"],
        max=row["high"],
        mean=row["mean"],
        flagged=row["flagged"],
    )


def _series_keys(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every (station, element) stored, by a loose scan of the series index."""
    keys: list[tuple[str, str]] = []
    row = conn.execute(_FIRST_SERIES).fetchone()
    while row is not None:
        keys.append((row[0], row[1]))
        row = conn.execute(_NEXT_SERIES, keys[-1]).fetchone()
    return keys


class SqliteObservations:
    """:class:`~wall.sensors.observations.ObservationRepository` in SQLite.

    Args:
        engine: An open engine (the runtime's store).
        purge_batch: Rows per retention transaction.
    """

    def __init__(self, engine: SqliteEngine, *, purge_batch: int = PURGE_BATCH) -> None:
        self._engine = engine
        self._purge_batch = purge_batch

    async def add_many(self, observations: Sequence[Observation]) -> int:
        """Store a batch in one transaction, in observed order; ignore redeliveries.

        Returns:
            How many observations were new (M3).

        Raises:
            StoreError: The database is busy, locked or closed; nothing of the
                batch is stored.
        """
        if not observations:
            return 0
        rows = [_row(o) for o in sorted(observations, key=lambda o: o.observed_at)]

        def work(conn: sqlite3.Connection) -> int:
            return conn.executemany(_INSERT, rows).rowcount

        return await self._engine.transaction(work)

    async def latest(self, station: str) -> tuple[Observation, ...]:
        """The newest observation of each element by observed time (M2), by element.

        Of two with the same observed time, the one stored last wins.
        """

        def work(conn: sqlite3.Connection) -> tuple[Observation, ...]:
            rows = conn.execute(_LATEST, {"station": station})
            return tuple(_observation(row) for row in rows)

        return await self._engine.read(work)

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

        See :meth:`~wall.sensors.observations.ObservationRepository.range`.

        Raises:
            Invalid: An empty range, both ``bucket_s`` and ``max_points``, or
                too many buckets.
            StoreError: The database fails.
        """
        if bucket_s is not None and max_points is not None:
            raise Invalid(
                "bucket_invalid", "give a bucket width or max_points, not both"
            )
        limit: int | None = None
        if bucket_s is None:
            limit = check_max_points(
                DEFAULT_MAX_POINTS if max_points is None else max_points
            )
            plan = plan_buckets(start, end, max_points=limit)  # checks the range too
        else:
            plan = plan_buckets(start, end, bucket_s=bucket_s)
        params = {
            "station": station,
            "element": element,
            "start": time_text(start),
            "end": time_text(end),
        }

        def work(conn: sqlite3.Connection) -> Series:
            if limit is not None:
                many = conn.execute(_RAW_COUNT, {**params, "limit": limit + 1})
                if many.fetchone()[0] <= limit:
                    raw = conn.execute(_RAW, {**params, "limit": limit})
                    points = tuple(_observation(row) for row in raw)
                    return Series(station, element, start, end, points=points)
            edges = {"first": plan.first, "last": plan.last, "width": plan.width_s}
            rows = conn.execute(_BUCKETS, {**params, **edges})
            buckets = tuple(_bucket(plan, row) for row in rows)
            return Series(station, element, start, end, plan.width_s, buckets=buckets)

        return await self._engine.read(work)

    async def purge_before(self, moment: datetime) -> int:
        """Delete observations observed before ``moment`` (retention).

        Each series is purged in batches of ``purge_batch`` rows, one short
        transaction each, so ingestion interleaves with the purge.

        Returns:
            How many were deleted.
        """
        cutoff = time_text(moment)
        total = 0
        for station, element in await self._engine.read(_series_keys):
            total += await delete_in_batches(
                self._engine,
                _PURGE_SERIES,
                (station, element, cutoff),
                self._purge_batch,
            )
        return total
