"""The engine under faults: owner-only files, domain errors, reads beside a
held write lock, write health (O5), batched token touches, audited writes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.clocks import SettableClock
from tests.wall.platform.store_lock import locked_by_backup
from wall.platform.audit import AuditEntry
from wall.platform.errors import Unavailable
from wall.platform.health import Status
from wall.platform.store.migrations import StoreError
from wall.platform.store.sqlite import SqliteStore
from wall.platform.store.sqlite.health import WRITE_WAIT_BOUND_S, WriteWatch

START = datetime(2025, 6, 1, 0, 30, tzinfo=UTC)
BUSY_S = 2.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "citywall.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(db_path, busy_timeout_s=BUSY_S) as opened:
        yield opened


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- the file ---------------------------------------------------------------------


async def test_database_and_its_wal_files_are_owner_only(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.put_kv("k", 1)  # the -wal and -shm files exist now
        files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


async def test_an_existing_world_readable_database_is_narrowed(db_path: Path) -> None:
    async with SqliteStore(db_path):
        pass
    os.chmod(db_path, 0o644)
    async with SqliteStore(db_path):
        assert mode(db_path) == 0o600


# --- failures are domain errors ---------------------------------------------------


async def test_a_locked_database_is_a_retryable_domain_error(
    store: SqliteStore, db_path: Path
) -> None:
    with locked_by_backup(db_path), pytest.raises(StoreError) as caught:
        await store.put_kv("k", 1)
    err = caught.value
    assert isinstance(err, Unavailable)
    assert err.code == "store_unavailable"
    assert "busy or unavailable" in err.message and "retry" in err.message
    assert str(db_path) not in err.message
    await store.put_kv("k", 2)  # nothing was left half-open
    assert await store.get_kv("k") == 2


async def test_the_reader_refuses_writes(store: SqliteStore) -> None:
    with pytest.raises(StoreError, match="readonly"):
        await store.read(lambda conn: conn.execute("DELETE FROM kv"))


async def test_every_connection_fires_delete_triggers_on_replace(
    store: SqliteStore,
) -> None:
    def flag(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA recursive_triggers").fetchone()[0])

    assert (await store.run(flag), await store.read(flag)) == (1, 1)


# --- reads do not queue behind writes -----------------------------------------------


async def test_a_token_lookup_completes_while_a_write_waits_for_the_lock(
    store: SqliteStore, db_path: Path
) -> None:
    issued = await store.create_token("ops", "operator")
    with locked_by_backup(db_path):
        started = time.monotonic()
        write = asyncio.create_task(store.put_kv("k", 1))
        await asyncio.sleep(0.05)  # the write is on its thread, waiting
        read_started = time.monotonic()
        assert await store.find_token(issued.secret) == issued.record
        assert await store.get_kv("k") is None
        read_s = time.monotonic() - read_started
        with pytest.raises(StoreError):
            await write
        write_s = time.monotonic() - started
    assert write_s >= BUSY_S * 0.9  # it did wait its busy timeout
    assert read_s < write_s / 10, (read_s, write_s)


# --- health -----------------------------------------------------------------------


async def test_health_degrades_while_a_write_waits_and_after_it_fails(
    db_path: Path,
) -> None:
    busy_s = WRITE_WAIT_BOUND_S * 3
    async with SqliteStore(db_path, busy_timeout_s=busy_s) as store:
        await store.put_kv("k", 0)
        assert store.health().status is Status.OK
        seen: list[str] = []
        with locked_by_backup(db_path):
            write = asyncio.create_task(store.put_kv("k", 1))
            while not write.done():
                health = store.health()
                seen.append(f"{health.status}:{health.detail.get('reason', '')}")
                await asyncio.sleep(0.05)
            with pytest.raises(StoreError):
                await write
        waiting = [s for s in seen if s.startswith("degraded:a write has waited")]
        assert waiting, seen
        assert seen[0] == "ok:"  # not before the bound
        failed = store.health()
        assert failed.status is Status.DEGRADED
        assert "failed" in failed.detail["reason"]
        assert failed.detail["write_failures"] == 1
        await store.put_kv("k", 2)  # a fast write clears it
        assert store.health().status is Status.OK
    assert store.health().status is Status.DOWN


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("wait_s", "error", "then_s", "status", "reason"),
    [
        (0.1, None, 0.0, Status.OK, None),
        (0.1, "database is locked", 0.0, Status.DEGRADED, "the last write failed"),
        (0.1, "database is locked", 31.0, Status.OK, None),  # old news
        (WRITE_WAIT_BOUND_S + 0.5, None, 0.0, Status.DEGRADED, "the last write took"),
    ],
)
def test_write_watch_verdicts(
    wait_s: float, error: str | None, then_s: float, status: Status, reason: str | None
) -> None:
    ticks = Ticks()
    watch = WriteWatch(ticks)
    ticket = watch.started()
    ticks.now += wait_s
    watch.finished(ticket, error)
    ticks.now += then_s
    health = watch.health(is_open=True)
    assert health.status is status
    assert health.detail.get("reason", "").startswith(reason or "")
    assert ("reason" in health.detail) is (reason is not None)


def test_write_watch_counts_a_write_in_flight() -> None:
    ticks = Ticks()
    watch = WriteWatch(ticks)
    watch.started()
    ticks.now += WRITE_WAIT_BOUND_S / 2
    assert watch.health(is_open=True).status is Status.OK
    ticks.now += WRITE_WAIT_BOUND_S
    health = watch.health(is_open=True)
    assert health.status is Status.DEGRADED
    assert health.detail["writes_waiting"] == 1


# --- batched token touches ------------------------------------------------------------


async def test_touch_tokens_writes_many_in_one_transaction(db_path: Path) -> None:
    clock = SettableClock(START)
    async with SqliteStore(db_path, now=clock) as store:
        a = await store.create_token("a", "viewer")
        b = await store.create_token("b", "viewer")
        later = START + timedelta(minutes=5)
        await store.tokens.touch_tokens(
            {a.record.id: later, b.record.id: START, 999: START}
        )
        await store.tokens.touch_tokens({a.record.id: START})  # never moves back
        used = {t.name: t.last_used_at for t in await store.list_tokens()}
        assert used == {"a": later, "b": START}
        with pytest.raises(ValueError, match="timezone-aware"):
            await store.tokens.touch_tokens({a.record.id: datetime(2025, 1, 1)})


# --- audited writes -----------------------------------------------------------------


async def test_write_audited_commits_rows_and_entry_together_or_not_at_all(
    store: SqliteStore, db_path: Path
) -> None:
    await store.put_kv("gone", 1)
    entry = AuditEntry(actor="duty-1", action="thing.change", target="thing:a")
    entry_id = await store.write_audited(entry, put={"a": {"v": 1}}, delete=["gone"])
    assert (await store.get_kv("a"), await store.get_kv("gone")) == ({"v": 1}, None)
    [stored] = await store.list_audit()
    assert stored.id == entry_id and stored.action == "thing.change"

    with locked_by_backup(db_path), pytest.raises(StoreError):
        await store.write_audited(entry, put={"a": {"v": 2}}, delete=["a"])
    assert await store.get_kv("a") == {"v": 1}
    assert len(await store.list_audit()) == 1
    with pytest.raises(ValueError, match="JSON"):
        await store.write_audited(entry, put={"a": float("nan")})
    assert len(await store.list_audit()) == 1
