"""Issuing and revoking tokens (audited), and ending what a revoked token holds (O1)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.support.clocks import SettableClock
from tests.wall.platform.token_fixtures import TOKENS_T0
from wall.platform.audit import AuditEntry
from wall.platform.auth import Role
from wall.platform.auth_settings import AuthSettings
from wall.platform.connections import ConnectionRegistry, TokenWatch, ended_tokens
from wall.platform.errors import Conflict, Invalid, NotFound
from wall.platform.store.sqlite import SqliteStore
from wall.platform.token_service import TokenService
from wall.platform.tokens import TokenRecord

T0 = TOKENS_T0


class Ended:
    """Records what the service asked to end."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, token_id: int, reason: str) -> None:
        self.calls.append((token_id, reason))


def service(store: SqliteStore, clock: SettableClock, ended: Ended) -> TokenService:
    return TokenService(
        store.tokens,
        AuthSettings(token_lifetime_days=90),
        walls=["main", "duty"],
        now=clock,
        on_revoked=ended,
    )


async def test_issue_applies_the_lifetime_rule_and_is_audited(
    store: SqliteStore, clock: SettableClock
) -> None:
    tokens = service(store, clock, Ended())
    person = await tokens.issue("root", "ops desk", Role.OPERATOR)
    display = await tokens.issue("root", "main wall", Role.VIEWER, "main")
    short = await tokens.issue("root", "visitor", Role.VIEWER, expires_in="12h")
    assert person.record.expires_at == T0 + timedelta(days=90)
    assert display.record.expires_at is None
    assert short.record.expires_at == T0 + timedelta(hours=12)
    entries = await store.list_audit()
    assert [(e.actor, e.action, e.target) for e in reversed(entries)] == [
        ("root", "token.create", f"token:{person.record.id}"),
        ("root", "token.create", f"token:{display.record.id}"),
        ("root", "token.create", f"token:{short.record.id}"),
    ]
    assert entries[-1].detail == {
        "name": "ops desk",
        "role": "operator",
        "wall_id": None,
        "expires_at": "2025-08-30T00:00:00.000Z",
    }
    assert all(person.secret not in str(e) for e in entries)


@pytest.mark.parametrize(
    ("wall_id", "expires_in", "error", "match"),
    [
        (None, "never", Invalid, "only a wall display token may never expire"),
        (None, "tomorrow", Invalid, "not like 12h"),
        ("annex", None, NotFound, "no wall with id 'annex'"),
    ],
)
async def test_issue_refusals(
    store: SqliteStore,
    clock: SettableClock,
    wall_id: str | None,
    expires_in: str | None,
    error: type[Exception],
    match: str,
) -> None:
    tokens = service(store, clock, Ended())
    with pytest.raises(error, match=match):
        await tokens.issue("root", "x", Role.VIEWER, wall_id, expires_in)
    assert await store.list_tokens() == ()
    assert await store.list_audit() == ()


async def test_revoke_is_audited_and_ends_what_the_token_holds(
    store: SqliteStore, clock: SettableClock
) -> None:
    ended = Ended()
    tokens = service(store, clock, ended)
    issued = await tokens.issue("root", "ops", Role.OPERATOR)
    clock.advance(5)
    record = await tokens.revoke("root", issued.record.id)
    assert record.revoked_at == T0 + timedelta(seconds=5)
    assert ended.calls == [(issued.record.id, "token revoked")]
    [last, *_] = await store.list_audit()
    assert (last.actor, last.action, last.target) == (
        "root",
        "token.revoke",
        f"token:{issued.record.id}",
    )
    with pytest.raises(Conflict, match="already revoked"):
        await tokens.revoke("root", issued.record.id)
    with pytest.raises(NotFound, match="no token with id 999"):
        await tokens.revoke("root", 999)
    assert len(ended.calls) == 1


# --- the registry and the watch ---------------------------------------------------


def test_registry_ends_every_connection_of_one_token_only() -> None:
    registry = ConnectionRegistry()
    a1 = registry.register(1, lambda: False)
    a2 = registry.register(1, lambda: False)
    b = registry.register(2, lambda: False)
    assert registry.end_token(1, "token revoked") == 2
    assert a1.ended.is_set() and a2.ended.is_set() and not b.ended.is_set()
    assert a1.reason == "token revoked"
    a1.end("token expired")
    assert a1.reason == "token revoked"  # the first reason wins
    registry.deregister(a1)
    registry.deregister(a1)  # idempotent
    assert len(registry) == 2 and registry.token_ids == {1, 2}


def test_registry_sweeps_connections_closed_elsewhere() -> None:
    registry = ConnectionRegistry()
    closed = [False]
    registry.register(7, lambda: closed[0])
    assert registry.sweep() == 0
    closed[0] = True
    assert registry.sweep() == 1
    assert len(registry) == 0 and registry.token_ids == frozenset()


def test_ended_tokens() -> None:
    later = T0 + timedelta(days=1)
    records = [
        TokenRecord(1, "a", "viewer", None, T0, None, None, None),
        TokenRecord(2, "b", "viewer", None, T0, None, T0, None),
        TokenRecord(3, "c", "viewer", None, T0, None, None, later),
        TokenRecord(4, "d", "viewer", None, T0, None, T0, later),
    ]
    assert ended_tokens(records, T0) == {2: "token revoked", 4: "token revoked"}
    assert ended_tokens(records, later) == {
        2: "token revoked",
        3: "token expired",
        4: "token revoked",
    }


class Hook:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, token_id: int) -> None:
        self.calls.append(token_id)


async def test_watch_notices_a_revocation_it_did_not_make(
    store: SqliteStore, clock: SettableClock
) -> None:
    old = await store.create_token("revoked long ago", "viewer")
    await store.revoke_token(old.record.id)
    victim = await store.create_token("ops", "operator")
    bystander = await store.create_token("duty", "duty_officer")
    registry = ConnectionRegistry()
    hook = Hook()
    watch = TokenWatch(store.tokens, registry, check_s=0.05, hooks=[hook], now=clock)
    async with watch:
        mine = registry.register(victim.record.id, lambda: False)
        theirs = registry.register(bystander.record.id, lambda: False)
        await store.revoke_token(victim.record.id)  # as the CLI does: the database
        async with asyncio.timeout(5):
            await mine.ended.wait()
        assert mine.reason == "token revoked" and not theirs.ended.is_set()
        assert hook.calls == [victim.record.id]  # not the one revoked before start
        # a socket that slipped in after the revocation is ended on the next check
        late = registry.register(victim.record.id, lambda: False)
        async with asyncio.timeout(5):
            await late.ended.wait()
        await watch.check()
        assert hook.calls == [victim.record.id]  # once per token


async def test_watch_ends_connections_of_expired_tokens(
    store: SqliteStore, clock: SettableClock
) -> None:
    issued = await store.tokens.create_token(
        "visitor", "viewer", expires_at=T0 + timedelta(minutes=5)
    )
    registry = ConnectionRegistry()
    watch = TokenWatch(store.tokens, registry, check_s=3600, now=clock)
    async with watch:
        connection = registry.register(issued.record.id, lambda: False)
        await watch.check()
        assert not connection.ended.is_set()
        clock.advance(300)
        await watch.check()
        assert connection.reason == "token expired"


async def test_a_failing_hook_does_not_stop_the_others(
    store: SqliteStore, clock: SettableClock
) -> None:
    def broken(token_id: int) -> None:
        raise RuntimeError("relay gone")

    hook = Hook()
    registry = ConnectionRegistry()
    watch = TokenWatch(store.tokens, registry, check_s=3600, hooks=[broken, hook])
    async with watch:
        connection = registry.register(3, lambda: False)
        await watch.end(3, "token revoked")
    assert connection.ended.is_set() and hook.calls == [3]


async def test_a_token_and_its_audit_entry_commit_together(store: SqliteStore) -> None:
    # an audit entry that cannot be written takes the token with it
    def unwritable(record: TokenRecord) -> AuditEntry:
        return AuditEntry(
            actor="t", action="token.create", target="x", detail={"bad": float("nan")}
        )

    with pytest.raises(ValueError, match="JSON"):
        await store.tokens.create_token("lost", "viewer", audit=unwritable)
    assert await store.list_tokens() == ()
    issued = await store.create_token("kept", "viewer")
    entry = AuditEntry(
        actor="t", action="token.revoke", target="y", detail={"b": float("nan")}
    )
    with pytest.raises(ValueError, match="JSON"):
        await store.tokens.revoke_token(issued.record.id, entry)
    (record,) = await store.list_tokens()
    assert record.revoked_at is None
    assert await store.list_audit() == ()
