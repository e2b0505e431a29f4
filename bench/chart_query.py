"""Chart query: a 30-day water-level chart, downsampled to 1,000 buckets.

Issue 11: "30 days of 1-minute data for one station, downsampled to 1,000
buckets, in <= 50 ms; report it against a plain SQLite ``GROUP BY`` over the
same rows in the same run."

Method (one run, one temporary database file):

1. The store: the service's own ``SqliteEngine`` and ``SqliteObservations``.
   30 days of 1-minute water levels for the charted station (43,200 rows),
   interleaved with the same for ``OTHER_STATIONS`` other gauges and the
   station's own 5-minute rainfall, written through ``add_many`` in batches of
   ``BATCH`` as ingestion would (the write rate is reported too).
2. ``REPEATS`` rounds, each timing, one right after the other:
   (a) **repository**: ``range(station, "water_level", 30 days,
       bucket_s=2592)``, exactly 1,000 buckets, on the store's reader thread,
       awaited from the event loop, rows turned into ``Bucket`` records;
   (b) **plain**: a bare ``sqlite3`` connection to the same file running the
       obvious query, ``GROUP BY unixepoch(observed_at) / 2592`` over the same
       rows with min, max, avg and count, rows fetched as tuples.
   The first round warms the page cache and is not counted. Both answers are
   checked to hold the same buckets.
3. Also timed: ``range(..., max_points=1000)``, what a chart asks for (it
   picks 1-hour buckets: 720), and ``latest(station)``.

RATIO = repository median / plain median. PASS when the repository's median
is <= 50 ms (the issue's target); the p95 is reported beside it.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import BenchResult, percentile, run_main
from wall.platform.store.sqlite.engine import SqliteEngine, time_text
from wall.sensors.observation_store import SqliteObservations
from wall.sensors.observations import Observation, Series

DAYS = 30
BUCKETS = 1_000
TARGET_MS = 50.0
OTHER_STATIONS = 4
BATCH = 5_000
REPEATS = 21
STATION = "ba-gauge-1"
ELEMENT = "water_level"
WIDTH_S = DAYS * 86_400 // BUCKETS  # 2592 s
# Buckets are aligned to the epoch: a start on an edge makes exactly 1,000.
START = datetime.fromtimestamp(1_748_736_000 // WIDTH_S * WIDTH_S, UTC)
END = START + timedelta(days=DAYS)
PLAIN = (
    "SELECT unixepoch(observed_at) / :width AS b, min(value), max(value),"
    " avg(value), count(*) FROM observations"
    " WHERE station = :station AND element = :element"
    " AND observed_at >= :start AND observed_at < :end AND value IS NOT NULL"
    " GROUP BY b ORDER BY b"
)


def _level(station_no: int, minute: int) -> float:
    """A slow weekly rise with an hourly ripple (deterministic)."""
    day = minute / 1440
    return round(8.0 + station_no * 0.1 + 2.0 * (day % 7) / 7 + 0.01 * (minute % 60), 4)


def _minute(minute: int) -> list[Observation]:
    at = START + timedelta(minutes=minute)
    stations = [STATION] + [f"gauge-{n}" for n in range(1, OTHER_STATIONS + 1)]
    out = [
        Observation(name, ELEMENT, at, at, _level(n, minute), "m")
        for n, name in enumerate(stations)
    ]
    if minute % 5 == 0:
        out.append(Observation(STATION, "rain_5min", at, at, minute % 7 * 0.5, "mm"))
    return out


async def _fill(repo: SqliteObservations) -> dict[str, Any]:
    """Write the 30 days through the repository; returns the write figures."""
    rows = 0
    batch: list[Observation] = []
    started = time.perf_counter()
    for minute in range(DAYS * 1440):
        batch.extend(_minute(minute))
        if len(batch) >= BATCH:
            rows += await repo.add_many(batch)
            batch = []
    rows += await repo.add_many(batch)
    took_s = time.perf_counter() - started
    return {"rows_total": rows, "write_s": took_s, "write_rows_per_s": rows / took_s}


def _plain(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    params = {
        "width": WIDTH_S,
        "station": STATION,
        "element": ELEMENT,
        "start": time_text(START),
        "end": time_text(END),
    }
    return conn.execute(PLAIN, params).fetchall()


def _same(series: Series, plain: list[tuple[Any, ...]]) -> bool:
    ours = [(b.count, b.min, b.max) for b in series.buckets]
    theirs = [(row[4], row[1], row[2]) for row in plain]
    means = all(
        abs(b.mean - row[3]) <= 1e-9 * abs(row[3])
        for b, row in zip(series.buckets, plain, strict=True)
    )
    return ours == theirs and means


async def _timed(repo: SqliteObservations, conn: sqlite3.Connection) -> dict[str, Any]:
    """The interleaved rounds; returns the timings in ms and the check."""
    repo_ms: list[float] = []
    plain_ms: list[float] = []
    chart_ms: list[float] = []
    latest_ms: list[float] = []
    series, chart, plain = None, None, []
    for round_no in range(REPEATS + 1):
        t0 = time.perf_counter()
        series = await repo.range(STATION, ELEMENT, START, END, bucket_s=WIDTH_S)
        t1 = time.perf_counter()
        plain = _plain(conn)
        t2 = time.perf_counter()
        chart = await repo.range(STATION, ELEMENT, START, END, max_points=BUCKETS)
        t3 = time.perf_counter()
        await repo.latest(STATION)
        t4 = time.perf_counter()
        if round_no == 0:
            continue  # the warm-up round
        repo_ms.append((t1 - t0) * 1000)
        plain_ms.append((t2 - t1) * 1000)
        chart_ms.append((t3 - t2) * 1000)
        latest_ms.append((t4 - t3) * 1000)
    assert series is not None
    assert chart is not None
    return {
        "repo_ms": repo_ms,
        "plain_ms": plain_ms,
        "chart_ms": chart_ms,
        "latest_ms": latest_ms,
        "buckets": len(series.buckets),
        "chart_buckets": len(chart.buckets),
        "chart_bucket_s": chart.bucket_s,
        "same": _same(series, plain),
        "rows_charted": sum(b.count for b in series.buckets),
    }


def _result(written: dict[str, Any], timed: dict[str, Any]) -> BenchResult:
    repo_med = statistics.median(timed["repo_ms"])
    plain_med = statistics.median(timed["plain_ms"])
    figures: dict[str, Any] = {
        **written,
        "rows_charted": timed["rows_charted"],
        "buckets": timed["buckets"],
        "repository_median_ms": repo_med,
        "repository_p95_ms": percentile(timed["repo_ms"], 95),
        "plain_group_by_median_ms": plain_med,
        "plain_group_by_p95_ms": percentile(timed["plain_ms"], 95),
        "chart_max_points_1000_median_ms": statistics.median(timed["chart_ms"]),
        "chart_max_points_1000_buckets": timed["chart_buckets"],
        "chart_max_points_1000_bucket_s": timed["chart_bucket_s"],
        "latest_median_ms": statistics.median(timed["latest_ms"]),
        "answers_agree": timed["same"],
        "repeats": REPEATS,
    }
    notes = [
        "repository: reader thread, bucket edges as text over the covering index;"
        " plain: unixepoch() per row on a bare connection, same file and rows",
    ]
    return BenchResult(
        name="chart_query",
        ratio=repo_med / plain_med,
        ratio_label="repository median ms / plain SQLite GROUP BY median ms",
        target_label=f"30-day chart, {BUCKETS} buckets, median <= {TARGET_MS:.0f} ms",
        passed=repo_med <= TARGET_MS and timed["same"] and timed["buckets"] == BUCKETS,
        figures=figures,
        notes=notes,
    )


async def run() -> BenchResult:
    """The whole benchmark."""
    with tempfile.TemporaryDirectory(prefix="bench-chart-") as tmp:
        path = Path(tmp) / "chart.sqlite3"
        async with SqliteEngine(path) as engine:
            repo = SqliteObservations(engine)
            written = await _fill(repo)
            with closing(sqlite3.connect(path)) as conn:
                timed = await _timed(repo, conn)
    return _result(written, timed)


if __name__ == "__main__":
    run_main(run())
