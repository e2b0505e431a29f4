"""Dead letters (M4) on a real SQLite file: caps, raw bytes, pages, counts, purges."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from tests.wall.platform.store_lock import locked_by_backup, raw_rows
from tests.wall.sensors.observation_fixtures import BUSY_S, T0
from wall.platform.errors import Invalid
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite.engine import SqliteEngine
from wall.sensors.dead_letter_store import SqliteDeadLetters
from wall.sensors.dead_letters import (
    MESSAGE_CAP_CHARS,
    RAW_CAP_BYTES,
    TOPIC_CAP_CHARS,
    DeadLetter,
)

TOPIC = "citywall/stations/ba-gauge-1/senml"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dead.sqlite3"


@pytest.fixture
async def letters(db_path: Path) -> AsyncIterator[SqliteDeadLetters]:
    async with SqliteEngine(db_path, busy_timeout_s=BUSY_S) as engine:
        yield SqliteDeadLetters(engine, purge_batch=3)


def letter(
    minute: float, reason: str = "malformed_json", payload: bytes = b"{"
) -> DeadLetter:
    at = T0 + timedelta(minutes=minute)
    return DeadLetter.capture(at, TOPIC, reason, "payload is not JSON", payload)


# --- M4: what is kept --------------------------------------------------------------


async def test_m4_an_oversize_payload_keeps_its_first_4_kib_and_its_size(
    letters: SqliteDeadLetters,
) -> None:
    payload = bytes(range(256)) * 1024  # 256 KiB, not UTF-8
    letter_id = await letters.add_dead_letter(letter(0, "oversize", payload))
    (back,) = await letters.dead_letters()
    assert back.id == letter_id
    assert back.raw == payload[:RAW_CAP_BYTES] and back.size == len(payload)
    assert back.truncated and back.reason == "oversize"
    assert back.received_at == T0 and back.topic == TOPIC


def test_m4_capture_caps_topic_and_message() -> None:
    long = DeadLetter.capture(T0, "t" * 70_000, "bad_type", "m" * 9_000, b"[]")
    assert (len(long.topic), len(long.message)) == (TOPIC_CAP_CHARS, MESSAGE_CAP_CHARS)
    assert not long.truncated


@pytest.mark.parametrize("reason", ["", "Bad JSON", "1st", "x" * 65])
def test_m4_a_reason_is_a_snake_case_code(reason: str) -> None:
    with pytest.raises(ValueError, match="snake_case"):
        DeadLetter.capture(T0, TOPIC, reason, "m", b"")


def test_m4_raw_bytes_beyond_the_cap_are_refused_unless_captured() -> None:
    with pytest.raises(ValueError, match="at most 4096 bytes"):
        DeadLetter(T0, TOPIC, "oversize", "m", b"x" * (RAW_CAP_BYTES + 1), 9_000)


async def test_m4_the_table_refuses_uncapped_rows_from_any_writer(
    letters: SqliteDeadLetters, db_path: Path
) -> None:
    with (
        closing(sqlite3.connect(db_path)) as conn,
        pytest.raises(sqlite3.IntegrityError, match="CHECK"),
    ):
        conn.execute(
            "INSERT INTO dead_letters (received_at, topic, reason, message, raw, size)"
            " VALUES ('t', 't', 'oversize', 'm', zeroblob(5000), 5000)"
        )


# --- pages and counts ----------------------------------------------------------------


async def test_pages_run_newest_first(letters: SqliteDeadLetters) -> None:
    ids = await letters.add_dead_letters([letter(m) for m in range(7)])
    assert list(ids) == sorted(ids) and len(set(ids)) == 7
    first = await letters.dead_letters(limit=3)
    second = await letters.dead_letters(limit=3, before_id=first[-1].id)
    assert [d.id for d in first + second] == list(reversed(ids))[:6]
    assert await letters.add_dead_letters([]) == ()


@pytest.mark.parametrize("limit", [0, 1001])
async def test_a_page_limit_out_of_range_is_refused(
    letters: SqliteDeadLetters, limit: int
) -> None:
    with pytest.raises(Invalid, match="between 1 and 1000"):
        await letters.dead_letters(limit=limit)


async def test_counts_by_reason(letters: SqliteDeadLetters) -> None:
    await letters.add_dead_letters(
        [letter(0), letter(1, "non_finite"), letter(2), letter(3, "unknown_station")]
    )
    assert dict(await letters.dead_letter_counts()) == {
        "malformed_json": 2,
        "non_finite": 1,
        "unknown_station": 1,
    }


# --- failures and retention ------------------------------------------------------------


async def test_a_locked_store_raises_store_error_and_stores_nothing(
    letters: SqliteDeadLetters, db_path: Path
) -> None:
    with locked_by_backup(db_path), pytest.raises(StoreError):
        await letters.add_dead_letters([letter(m) for m in range(5)])
    assert raw_rows(db_path, "SELECT count(*) FROM dead_letters") == [(0,)]


async def test_purge_by_age_and_by_count(letters: SqliteDeadLetters) -> None:
    ids = await letters.add_dead_letters([letter(m) for m in range(10)])
    # received before minute 4: four rows, in batches of 3
    assert await letters.purge_dead_letters(before=T0 + timedelta(minutes=4)) == 4
    assert await letters.purge_dead_letters(keep_newest=5) == 1
    kept = await letters.dead_letters()
    assert [d.id for d in kept] == list(reversed(ids))[:5]
    assert await letters.purge_dead_letters(keep_newest=5) == 0
    assert await letters.purge_dead_letters(keep_newest=0) == 5
    # ids are never reused, so an old page cursor stays meaningful
    (new_id,) = await letters.add_dead_letters([letter(11)])
    assert new_id > ids[-1]


async def test_a_negative_keep_is_refused(letters: SqliteDeadLetters) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        await letters.purge_dead_letters(keep_newest=-1)
