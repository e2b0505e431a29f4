"""SqliteStore: migrations, hashed tokens, append-only audit (O2), UTC (O3)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.clocks import SettableClock
from wall.platform.audit import AuditEntry, AuditLog
from wall.platform.store.migrations import (
    MIGRATIONS,
    Migration,
    StoreError,
    split_statements,
)
from wall.platform.store.protocols import Store
from wall.platform.store.sqlite import SqliteStore
from wall.platform.store.sqlite.audit import AuditRow, audit_row, insert_audit
from wall.platform.tokens import TOKEN_PREFIX, TokenRepository, hash_secret

START = datetime(2025, 6, 1, 0, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A missing parent folder is created by the store.
    return tmp_path / "data" / "citywall.sqlite3"


@pytest.fixture
async def store(db_path: Path, clock: SettableClock) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(db_path, now=clock) as opened:
        yield opened


@contextmanager
def raw(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second, plain connection to the same file (what an intruder would use)."""
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        yield conn


def store_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sqlite-store")]


def migration_rows(db_path: Path) -> list[tuple[int, str, str]]:
    with raw(db_path) as conn:
        rows = conn.execute(
            "SELECT version, description, applied_at FROM schema_migrations"
            " ORDER BY version"
        ).fetchall()
    return [(int(v), str(d), str(a)) for v, d, a in rows]


def test_store_protocol_is_satisfied(db_path: Path) -> None:
    store: Store = SqliteStore(db_path)  # checked by mypy
    assert isinstance(store, SqliteStore)


# --- migrations -------------------------------------------------------------


async def test_migrations_apply_once_and_reopen_is_noop(
    db_path: Path, clock: SettableClock
) -> None:
    async with SqliteStore(db_path, now=clock) as store:
        assert await store.schema_version() == MIGRATIONS[-1].version
    first = migration_rows(db_path)
    assert [row[0] for row in first] == [m.version for m in MIGRATIONS]

    clock.advance(3600)
    async with SqliteStore(db_path, now=clock) as store:
        assert await store.schema_version() == MIGRATIONS[-1].version
    assert migration_rows(db_path) == first  # same rows, same applied_at


async def test_connection_pragmas_and_worker_thread(store: SqliteStore) -> None:
    def probe(conn: sqlite3.Connection) -> tuple[str, int, int, str]:
        return (
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA synchronous").fetchone()[0],
            conn.execute("PRAGMA foreign_keys").fetchone()[0],
            threading.current_thread().name,
        )

    mode, synchronous, foreign_keys, thread_name = await store.run(probe)
    assert mode == "wal"
    assert synchronous == 1  # NORMAL
    assert foreign_keys == 1
    assert thread_name.startswith("sqlite-store")
    assert thread_name != threading.current_thread().name


async def test_newer_schema_is_refused(db_path: Path) -> None:
    async with SqliteStore(db_path):
        pass
    future = MIGRATIONS[-1].version + 1
    with raw(db_path) as conn:
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, 'from the future', '2099')",
            (future,),
        )
    with pytest.raises(StoreError, match=f"version {future} is newer"):
        async with SqliteStore(db_path):
            pass
    assert store_threads() == []


async def test_failed_migration_rolls_back(db_path: Path) -> None:
    good = Migration(1, "good", "CREATE TABLE a (x INTEGER);")
    bad = Migration(
        2, "bad", "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);"
    )
    with pytest.raises(StoreError, match="no such table: missing"):
        async with SqliteStore(db_path, migrations=(good, bad)):
            pass
    with raw(db_path) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert "a" in tables
    assert "b" not in tables  # step 2 was one transaction
    assert [row[0] for row in migration_rows(db_path)] == [1]
    assert store_threads() == []


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param((1, 1), id="duplicate"),
        pytest.param((2, 1), id="descending"),
        pytest.param((0,), id="zero"),
    ],
)
def test_migration_versions_must_increase(versions: tuple[int, ...]) -> None:
    migrations = [Migration(v, "m", "SELECT 1;") for v in versions]
    with pytest.raises(ValueError, match="strictly increasing"):
        SqliteStore(":memory:", migrations=migrations)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "CREATE TABLE a(x); CREATE TABLE b(y);",
            ["CREATE TABLE a(x);", "CREATE TABLE b(y);"],
        ),
        ("CREATE TABLE a(x)", ["CREATE TABLE a(x);"]),
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;",
            ["CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;"],
        ),
        ("-- just a note; nothing else\n", []),
    ],
)
def test_split_statements(script: str, expected: list[str]) -> None:
    assert split_statements(script) == expected


def test_split_statements_rejects_unterminated_trigger() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;")


# --- lifecycle ---------------------------------------------------------------


async def test_close_is_idempotent_and_stops_the_thread(db_path: Path) -> None:
    store = SqliteStore(db_path)
    await store.close()  # never opened: fine
    store = SqliteStore(db_path)
    async with store:
        assert len(store_threads()) == 1
        with pytest.raises(StoreError, match="open"):
            await store.open()
    await store.close()
    await store.close()
    assert store_threads() == []
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


async def test_concurrent_calls_are_serialised(store: SqliteStore) -> None:
    ids = await asyncio.gather(
        *(store.append_audit(AuditEntry(actor="t", action=f"a{i}")) for i in range(50))
    )
    assert sorted(ids) == list(range(1, 51))


async def test_data_survives_close_and_reopen(
    db_path: Path, clock: SettableClock
) -> None:
    async with SqliteStore(db_path, now=clock) as store:
        issued = await store.create_token("ops desk", "operator")
        await store.append_audit(AuditEntry(actor="ops desk", action="layout.switch"))
        await store.put_kv("wall:main:layout", {"name": "flood", "rev": 3})
    async with SqliteStore(db_path, now=clock) as store:
        found = await store.find_token(issued.secret)
        assert found == issued.record
        [entry] = await store.list_audit()
        assert entry.action == "layout.switch"
        assert await store.get_kv("wall:main:layout") == {"name": "flood", "rev": 3}


# --- tokens ---------------------------------------------------------------------


async def test_token_secret_is_never_stored(
    db_path: Path, clock: SettableClock
) -> None:
    async with SqliteStore(db_path, now=clock) as store:
        issued = await store.create_token("wall-1 display", "viewer", wall_id="wall-1")
        await store.touch_token(issued.record.id)
    assert issued.secret.startswith(TOKEN_PREFIX)
    assert len(issued.secret) == len(TOKEN_PREFIX) + 43
    assert issued.secret not in repr(issued)

    files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    content = b"".join(p.read_bytes() for p in files)
    assert issued.secret.encode() not in content
    assert hash_secret(issued.secret).encode() in content  # the grep does see data


async def test_token_record_fields(store: SqliteStore, clock: SettableClock) -> None:
    issued = await store.create_token("wall-1 display", "viewer", wall_id="wall-1")
    record = issued.record
    assert (record.name, record.role, record.wall_id) == (
        "wall-1 display",
        "viewer",
        "wall-1",
    )
    assert record.created_at == START
    assert record.created_at.utcoffset() == timedelta(0)
    assert record.last_used_at is None
    assert record.active

    clock.advance(90)
    await store.touch_token(record.id)
    found = await store.find_token(issued.secret)
    assert found is not None
    assert found.last_used_at == START + timedelta(seconds=90)


async def test_revoked_token_is_not_found(
    store: SqliteStore, clock: SettableClock
) -> None:
    keep = await store.create_token("keep", "admin")
    drop = await store.create_token("drop", "operator")
    clock.advance(5)
    assert await store.revoke_token(drop.record.id) is True
    assert await store.revoke_token(drop.record.id) is False  # already revoked
    assert await store.revoke_token(9999) is False

    assert await store.find_token(drop.secret) is None
    assert await store.find_token(keep.secret) == keep.record
    assert await store.find_token("cw_not-a-token") is None

    all_tokens = await store.list_tokens()
    assert [t.name for t in all_tokens] == ["keep", "drop"]
    assert all_tokens[1].revoked_at == START + timedelta(seconds=5)
    assert not all_tokens[1].active
    active = await store.list_tokens(include_revoked=False)
    assert [t.name for t in active] == ["keep"]


@pytest.mark.parametrize(("name", "role"), [("", "admin"), ("x", " ")])
async def test_token_needs_name_and_role(
    store: SqliteStore, name: str, role: str
) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        await store.create_token(name, role)


async def test_naive_clock_is_rejected(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        naive = SqliteStore(db_path, now=lambda: datetime(2025, 1, 1))
        with pytest.raises(ValueError, match="timezone-aware"):
            await naive.open()
        assert await store.schema_version() == MIGRATIONS[-1].version
    assert store_threads() == []


# --- audit log (O2) -----------------------------------------------------------


async def test_audit_append_and_page(store: SqliteStore, clock: SettableClock) -> None:
    shanghai = timezone(timedelta(hours=8))
    first = await store.append_audit(
        AuditEntry(
            actor="duty-1",
            action="layout.switch",
            target="wall:main",
            cause="alarm:42",
            detail={"from": "grid", "to": "flood", "tiles": [1, 2]},
        )
    )
    second = await store.append_audit(
        AuditEntry(
            actor="duty-1",
            action="alarm.ack",
            at=datetime(2025, 6, 1, 9, 0, tzinfo=shanghai),
        )
    )
    third = await store.append_audit(AuditEntry(actor="rule:7", action="alarm.raise"))
    assert first < second < third

    newest = await store.list_audit(limit=2)
    assert [e.id for e in newest] == [third, second]
    # Stored as UTC, whatever offset the caller used (O3).
    assert newest[1].at == datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
    assert newest[1].at is not None
    assert newest[1].at.utcoffset() == timedelta(0)

    [oldest] = await store.list_audit(limit=2, before_id=second)
    assert oldest == AuditEntry(
        id=first,
        at=START,
        actor="duty-1",
        action="layout.switch",
        target="wall:main",
        cause="alarm:42",
        detail={"from": "grid", "to": "flood", "tiles": [1, 2]},
    )


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            AuditEntry(actor="a", action="b", at=datetime(2025, 1, 1)),
            id="naive-at",
        ),
        pytest.param(
            AuditEntry(actor="a", action="b", detail={"x": float("nan")}), id="nan"
        ),
        pytest.param(AuditEntry(actor="a", action="b", detail={"x": {1, 2}}), id="set"),  # type: ignore[dict-item]
    ],
)
async def test_audit_rejects_bad_entries(store: SqliteStore, entry: AuditEntry) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
        await store.append_audit(entry)
    assert await store.list_audit() == ()


@pytest.mark.parametrize("limit", [0, 1001])
async def test_audit_limit_is_bounded(store: SqliteStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.list_audit(limit=limit)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ],
)
async def test_audit_log_is_append_only(
    store: SqliteStore, db_path: Path, statement: str
) -> None:
    await store.append_audit(AuditEntry(actor="duty-1", action="alarm.ack"))
    with (
        raw(db_path) as conn,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        conn.execute(statement)
    [entry] = await store.list_audit()
    assert entry.actor == "duty-1"


# --- key-value state ----------------------------------------------------------


async def test_kv_round_trip(store: SqliteStore, clock: SettableClock) -> None:
    assert await store.get_kv("missing") is None
    await store.put_kv("tour:main", {"index": 2, "names": ["东城", "西城"], "on": True})
    assert await store.get_kv("tour:main") == {
        "index": 2,
        "names": ["东城", "西城"],
        "on": True,
    }
    clock.advance(1)
    await store.put_kv("tour:main", 7)
    assert await store.get_kv("tour:main") == 7


async def test_kv_rejects_non_json(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="JSON"):
        await store.put_kv("k", float("inf"))
    with pytest.raises(ValueError, match="JSON-serialisable"):
        await store.put_kv("k", {"when": START})  # type: ignore[dict-item]
    assert await store.get_kv("k") is None


async def test_list_and_delete_kv_by_prefix(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "s.db") as store:
        await store.put_kv("layout:a", {"n": 1})
        await store.put_kv("layout:b*", {"n": 2})
        await store.put_kv("layoutx", {"n": 3})
        await store.put_kv("wall_state:main", {"r": 1})
        assert set(await store.list_kv("layout:")) == {"layout:a", "layout:b*"}
        assert await store.list_kv("layout:b*") == {"layout:b*": {"n": 2}}
        assert await store.delete_kv("layout:a") is True
        assert await store.delete_kv("layout:a") is False
    async with SqliteStore(tmp_path / "s.db") as store:
        assert set(await store.list_kv("layout")) == {"layout:b*", "layoutx"}


# --- transactions: what other repositories build on ---------------------------


def write_kv_and_audit(
    conn: sqlite3.Connection, row: AuditRow, *, then_fail: bool
) -> int:
    """A change and its audit line; optionally a duplicate key after both."""
    conn.execute("INSERT INTO kv (key, value, updated_at) VALUES ('t', '1', '')")
    entry_id = insert_audit(conn, row)
    if then_fail:
        conn.execute("INSERT INTO kv (key, value, updated_at) VALUES ('t', '2', '')")
    return entry_id


async def test_a_transaction_commits_a_change_and_its_audit_line_together(
    store: SqliteStore,
) -> None:
    row = audit_row(AuditEntry(actor="duty-1", action="kv.write"), store.now_text())
    entry_id = await store.transaction(
        lambda conn: write_kv_and_audit(conn, row, then_fail=False)
    )
    [entry] = await store.list_audit()
    assert entry.id == entry_id and entry.action == "kv.write"
    assert await store.get_kv("t") == 1


async def test_a_failed_transaction_leaves_neither_change_nor_audit_line(
    store: SqliteStore,
) -> None:
    row = audit_row(AuditEntry(actor="duty-1", action="kv.write"), store.now_text())
    with pytest.raises(StoreError, match="UNIQUE"):
        await store.transaction(
            lambda conn: write_kv_and_audit(conn, row, then_fail=True)
        )
    assert await store.list_audit() == ()
    assert await store.get_kv("t") is None
    # the connection is usable again: no transaction was left open
    await store.put_kv("t", 3)
    assert await store.get_kv("t") == 3


async def test_narrow_repositories_share_the_store(store: SqliteStore) -> None:
    tokens: TokenRepository = store.tokens
    audit: AuditLog = store.audit
    issued = await tokens.create_token("ops", "operator")
    await audit.append_audit(AuditEntry(actor="ops", action="token.use"))
    assert await store.find_token(issued.secret) == issued.record
    assert [e.action for e in await store.list_audit()] == ["token.use"]
