"""Token lifetimes, expiry in the store, batched last-used times, the throttle (O1)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.clocks import SettableClock
from tests.wall.platform.token_fixtures import TOKENS_T0
from wall.platform.errors import Unavailable
from wall.platform.store.migrations import MIGRATIONS
from wall.platform.store.sqlite import SqliteStore
from wall.platform.throttle import FailureThrottle
from wall.platform.token_service import TABLE_COLUMNS, token_table
from wall.platform.token_usage import TokenUsage
from wall.platform.tokens import (
    TokenRecord,
    hash_secret,
    parse_lifetime,
    token_expiry,
)

T0 = TOKENS_T0
DAY = timedelta(days=1)


# --- lifetimes ------------------------------------------------------------------------

# fmt: off
LIFETIMES: list[tuple[str, timedelta | None, str | None]] = [
    ("30d",    30 * DAY,              None),
    ("12h",    timedelta(hours=12),   None),
    ("8w",     timedelta(weeks=8),    None),
    (" 30D ",  30 * DAY,              None),
    ("never",  None,                  None),
    ("NEVER",  None,                  None),
    ("3650d",  3650 * DAY,            None),
    ("3651d",  None,                  "longer than 3650 days"),
    ("0d",     None,                  "not like 12h"),
    ("30",     None,                  "not like 12h"),
    ("-1d",    None,                  "not like 12h"),
    ("1.5d",   None,                  "not like 12h"),
    ("30 d",   None,                  "not like 12h"),
    ("",       None,                  "not like 12h"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected", "error"), LIFETIMES)
def test_parse_lifetime(
    text: str, expected: timedelta | None, error: str | None
) -> None:
    expectation: AbstractContextManager[object] = (
        DoesNotRaise() if error is None else pytest.raises(ValueError, match=error)
    )
    with expectation:
        assert parse_lifetime(text) == expected


# fmt: off
EXPIRY: list[tuple[str | None, bool, int | None, datetime | None, str | None]] = [
    # requested, wall-bound, default days -> expires at, error
    (None,    False, 90,   T0 + 90 * DAY, None),
    (None,    True,  90,   None,          None),   # displays: none unless asked
    (None,    False, None, None,          None),   # expiry disabled by config
    ("30d",   False, 90,   T0 + 30 * DAY, None),
    ("30d",   True,  90,   T0 + 30 * DAY, None),
    ("never", True,  90,   None,          None),
    ("never", False, None, None,          None),
    ("never", False, 90,   None,          "only a wall display token may never expire"),
    ("soon",  True,  90,   None,          "not like 12h"),
]
# fmt: on


@pytest.mark.parametrize(
    ("requested", "wall_bound", "default_days", "expected", "error"), EXPIRY
)
def test_token_expiry(
    requested: str | None,
    wall_bound: bool,
    default_days: int | None,
    expected: datetime | None,
    error: str | None,
) -> None:
    expectation: AbstractContextManager[object] = (
        DoesNotRaise() if error is None else pytest.raises(ValueError, match=error)
    )
    with expectation:
        got = token_expiry(
            T0, requested, wall_bound=wall_bound, default_days=default_days
        )
        assert got == expected


# --- the store keeps expires_at ------------------------------------------------------


async def test_expires_at_round_trips_and_expired_tokens_are_still_found(
    store: SqliteStore, clock: SettableClock
) -> None:
    issued = await store.tokens.create_token(
        "ops", "operator", expires_at=T0 + timedelta(hours=1)
    )
    forever = await store.tokens.create_token("wall", "viewer", "main")
    assert issued.record.expires_at == T0 + timedelta(hours=1)
    assert forever.record.expires_at is None
    clock.advance(7200)
    found = await store.find_token(issued.secret)
    assert found == issued.record  # the authenticator says "token expired"
    assert found.expired(clock.now) and found.ended(clock.now) == "token expired"
    assert [r.expires_at for r in await store.list_tokens()] == [
        T0 + timedelta(hours=1),
        None,
    ]


async def test_migration_4_keeps_existing_tokens_without_expiry(
    tmp_path: Path, clock: SettableClock
) -> None:
    path = tmp_path / "old.sqlite3"
    before = tuple(m for m in MIGRATIONS if m.version < 4)
    secret = "cw_legacy-token-issued-before-expiry-existed"
    async with SqliteStore(path, now=clock, migrations=before) as old:
        await old.run(
            lambda conn: conn.execute(
                "INSERT INTO api_tokens (name, role, token_hash, created_at)"
                " VALUES ('legacy', 'operator', ?, ?)",
                (hash_secret(secret), old.now_text()),
            )
        )
    async with SqliteStore(path, now=clock) as upgraded:
        assert await upgraded.schema_version() >= 4
        found = await upgraded.find_token(secret)
    assert found is not None and found.expires_at is None and found.name == "legacy"


# --- the list table -------------------------------------------------------------------


def test_token_table_lists_every_column_aligned() -> None:
    records = [
        TokenRecord(1, "ops desk", "operator", None, T0, T0 + DAY, None, T0 + 90 * DAY),
        TokenRecord(12, "main wall", "viewer", "main", T0, None, T0 + DAY, None),
    ]
    assert [line.rstrip() for line in token_table(records)] == [
        "id  name       role      wall  created           last used         expires"
        "           revoked",
        "1   ops desk   operator  -     2025-06-01 00:00  2025-06-02 00:00  2025-08-30"
        " 00:00  -",
        "12  main wall  viewer    main  2025-06-01 00:00  -                 never"
        "             2025-06-02 00:00",
    ]
    assert (
        *("id", "name", "role", "wall", "created", "last used", "expires", "revoked"),
    ) == TABLE_COLUMNS


# --- batched last-used times ------------------------------------------------------


class Sink:
    """Records batches; fails while ``failing`` is set (an injected fault)."""

    def __init__(self) -> None:
        self.batches: list[dict[int, datetime]] = []
        self.failing = False

    async def touch_tokens(self, used: Mapping[int, datetime]) -> None:
        if self.failing:
            raise Unavailable("store_unavailable", "database is locked")
        self.batches.append(dict(used))


async def test_usage_keeps_the_latest_time_and_writes_one_batch() -> None:
    sink = Sink()
    usage = TokenUsage(sink, flush_s=3600)
    usage.used(1, T0 + DAY)
    usage.used(1, T0)  # older: ignored
    usage.used(2, T0)
    await usage.flush()
    await usage.flush()  # nothing pending: no write
    assert sink.batches == [{1: T0 + DAY, 2: T0}]


async def test_usage_keeps_times_when_the_write_fails() -> None:
    sink = Sink()
    usage = TokenUsage(sink, flush_s=3600)
    usage.used(1, T0)
    sink.failing = True
    await usage.flush()
    assert usage.pending == 1 and sink.batches == []
    sink.failing = False
    await usage.flush()
    assert sink.batches == [{1: T0}] and usage.pending == 0


async def test_usage_flushes_periodically_and_once_more_on_exit() -> None:
    sink = Sink()
    async with TokenUsage(sink, flush_s=0.05) as usage:
        usage.used(1, T0)
        async with asyncio.timeout(5):
            while not sink.batches:
                await asyncio.sleep(0.01)
        usage.used(2, T0 + DAY)
    assert sink.batches == [{1: T0}, {2: T0 + DAY}]
    await usage.aclose()  # idempotent


async def test_usage_final_flush_reaches_the_real_store(
    store: SqliteStore, clock: SettableClock
) -> None:
    issued = await store.create_token("ops", "operator")
    async with TokenUsage(store.tokens, flush_s=3600) as usage:
        usage.used(issued.record.id, T0 + DAY)
    [record] = await store.list_tokens()
    assert record.last_used_at == T0 + DAY


# --- the throttle's memory is bounded ---------------------------------------------


def test_throttle_forgets_the_longest_quiet_address() -> None:
    now = [0.0]
    throttle = FailureThrottle(2, 60, 30, monotonic=lambda: now[0], max_addresses=3)
    for address in ("a", "b", "c", "d"):
        throttle.fail(address)
    assert throttle.tracked == 3
    assert throttle.fail("a") is False  # "a" was forgotten: its first failure again
    assert throttle.fail("d") is True
    assert throttle.blocked_total == 1


@pytest.mark.parametrize(
    ("limit", "window_s", "block_s"), [(0, 60, 30), (10, 0, 30), (10, 60, 0)]
)
def test_throttle_refuses_nonsense_settings(
    limit: int, window_s: float, block_s: float
) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        FailureThrottle(limit, window_s, block_s)
