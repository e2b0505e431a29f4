"""The audit log and alarm history are append-only against a raw connection,
and the audit log's hash chain shows where someone who dropped the triggers
rewrote it (O2); ``citywall audit verify`` says so."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wall.alarms.core import Alarm, AlarmEvent, AlarmStatus, EventKind, Originator
from wall.alarms.core import Severity as AlarmSeverity
from wall.alarms.store import SqliteAlarmStore
from wall.cli import main
from wall.platform.audit import AuditEntry
from wall.platform.store.audit_chain import GENESIS, ChainRow, entry_hash, verify_chain
from wall.platform.store.migrations import MIGRATIONS, StoreError
from wall.platform.store.sqlite import SqliteStore
from wall.platform.store.sqlite.audit import verify_database

AT = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "citywall.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(db_path) as opened:
        yield opened


@contextmanager
def raw(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection (recursive_triggers off): what an intruder would use."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        yield conn


async def append(store: SqliteStore, n: int) -> list[int]:
    return [
        await store.append_audit(
            AuditEntry(actor=f"duty-{i}", action="wall.switch", detail={"n": i})
        )
        for i in range(n)
    ]


async def add_alarm_with_history(store: SqliteStore) -> None:
    alarm = Alarm(
        id="a-1",
        type="intrusion",
        originator=Originator.parse("camera:gate"),
        severity=AlarmSeverity.MAJOR,
        status=AlarmStatus.ACTIVE_UNACK,
        started_at=AT,
        updated_at=AT,
    )
    event = AlarmEvent(alarm_id="a-1", at=AT, actor="rule:1", kind=EventKind.CREATED)
    await SqliteAlarmStore(store).save(alarm, [event])


# --- append-only, even through REPLACE ------------------------------------------

AUDIT_ATTACKS = [
    "UPDATE audit_log SET actor = 'someone else' WHERE id = 1",
    "DELETE FROM audit_log WHERE id = 1",
    "INSERT OR REPLACE INTO audit_log (id, at, actor, action, detail)"
    " VALUES (1, '2025', 'someone else', 'x', '{}')",
    "REPLACE INTO audit_log (id, at, actor, action, detail)"
    " VALUES (1, '2025', 'someone else', 'x', '{}')",
]
EVENT_ATTACKS = [
    "UPDATE alarm_events SET actor = 'someone else' WHERE id = 1",
    "DELETE FROM alarm_events WHERE id = 1",
    "INSERT OR REPLACE INTO alarm_events (id, alarm_id, at, actor, kind)"
    " VALUES (1, 'a-1', '2025', 'someone else', 'created')",
    "REPLACE INTO alarm_events (id, alarm_id, at, actor, kind)"
    " VALUES (1, 'a-1', '2025', 'someone else', 'created')",
]


@pytest.mark.parametrize("statement", AUDIT_ATTACKS)
async def test_audit_log_refuses_every_rewrite(
    store: SqliteStore, db_path: Path, statement: str
) -> None:
    await append(store, 2)
    with (
        raw(db_path) as conn,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        conn.execute(statement)
    assert [e.actor for e in await store.list_audit()] == ["duty-1", "duty-0"]
    assert (await store.audit.verify_chain()).ok


@pytest.mark.parametrize("statement", EVENT_ATTACKS)
async def test_alarm_history_refuses_every_rewrite(
    store: SqliteStore, db_path: Path, statement: str
) -> None:
    await add_alarm_with_history(store)
    with (
        raw(db_path) as conn,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        conn.execute(statement)
    [event] = await SqliteAlarmStore(store).history("a-1")
    assert event.actor == "rule:1"


async def test_an_insert_that_does_not_extend_the_chain_is_refused(
    store: SqliteStore, db_path: Path
) -> None:
    await append(store, 1)
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="chain"):
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash)"
            " VALUES ('2025', 'forger', 'x', '{}', ?, ?)",
            (GENESIS, "f" * 64),
        )
    assert len(await store.list_audit()) == 1


# --- the hash chain ---------------------------------------------------------------


def tamper(db_path: Path, *statements: str) -> None:
    """Drop the triggers and rewrite rows, as someone with the file could."""
    with raw(db_path) as conn:
        triggers = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            conn.execute(statement)


async def test_entries_are_chained_and_verify_counts_them(store: SqliteStore) -> None:
    await append(store, 3)
    verdict = await store.audit.verify_chain()
    assert (verdict.ok, verdict.count) == (True, 3)
    assert verdict.summary().startswith("audit chain OK: 3 entries")


@pytest.mark.parametrize(
    ("statements", "broken_at", "reason"),
    [
        (["UPDATE audit_log SET actor = 'nobody' WHERE id = 2"], 2, "altered"),
        (["UPDATE audit_log SET detail = '{\"n\":9}' WHERE id = 3"], 3, "altered"),
        (["DELETE FROM audit_log WHERE id = 2"], 3, "entries 2 to 2 are missing"),
        (["DELETE FROM audit_log WHERE id = 4"], 4, "after id 3 are missing"),
        (["UPDATE audit_log SET hash = NULL WHERE id = 1"], 1, "no hash"),
    ],
)
async def test_verify_names_the_first_tampered_entry(
    store: SqliteStore,
    db_path: Path,
    statements: list[str],
    broken_at: int,
    reason: str,
) -> None:
    await append(store, 4)
    tamper(db_path, *statements)
    verdict = verify_database(db_path)
    assert (verdict.ok, verdict.broken_at) == (False, broken_at)
    assert verdict.reason is not None and reason in verdict.reason


async def test_existing_entries_are_chained_by_the_migration(db_path: Path) -> None:
    def write_unchained(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO audit_log (at, actor, action) VALUES (?, ?, 'x')",
            [(f"2025-06-0{i + 1}T00:00:00.000000+00:00", f"old-{i}") for i in range(3)],
        )

    async with SqliteStore(db_path, migrations=MIGRATIONS[:2]) as old:
        await old.run(write_unchained)
    async with SqliteStore(db_path) as store:
        await append(store, 1)
        verdict = await store.audit.verify_chain()
        assert (verdict.ok, verdict.count) == (True, 4)
        assert [e.actor for e in await store.list_audit()][-1] == "old-0"


def test_verify_chain_of_nothing_is_ok() -> None:
    assert verify_chain([]).ok
    row = ChainRow(1, "t", "a", "b", None, None, "{}", GENESIS)
    sealed = ChainRow(
        1, "t", "a", "b", None, None, "{}", GENESIS, entry_hash(row, GENESIS)
    )
    assert verify_chain([sealed]).head_hash == sealed.hash


# --- the command ------------------------------------------------------------------


def write_config(tmp_path: Path, db_path: Path) -> Path:
    config = tmp_path / "citywall.yaml"
    config.write_text(f"storage:\n  data_dir: {db_path.parent}\n", encoding="utf-8")
    return config


async def test_audit_verify_command(
    store: SqliteStore,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await append(store, 5)
    config = write_config(tmp_path, db_path)
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert "audit chain OK: 5 entries" in capsys.readouterr().out

    tamper(db_path, "UPDATE audit_log SET action = 'wall.nothing' WHERE id = 4")
    assert main(["audit", "verify", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "broken at id 4" in err and "altered" in err


def test_audit_verify_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, tmp_path / "nowhere" / "citywall.sqlite3")
    assert main(["audit", "verify", "--config", str(config)]) == 1
    assert "no database" in capsys.readouterr().err
    with pytest.raises(StoreError, match="no database"):
        verify_database(tmp_path / "missing.sqlite3")
