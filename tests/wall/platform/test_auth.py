"""Roles, permissions and bearer tokens (O1), down to the FastAPI dependency."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from tests.support.clocks import SettableClock
from wall.api.access import requires
from wall.platform.auth import (
    BOOTSTRAP_ADMIN_NAME,
    ROLE_PERMISSIONS,
    AccessDenied,
    Authenticator,
    AuthSettings,
    MissingCredentials,
    Permission,
    Principal,
    Role,
    TooManyFailures,
    Unauthorized,
    authorize,
    bootstrap_secret_from_env,
    permissions_for,
)
from wall.platform.store.sqlite import SqliteStore
from wall.platform.store.sqlite.engine import BUSY_TIMEOUT_S
from wall.platform.throttle import FailureThrottle
from wall.platform.token_usage import TokenUsage

BOOTSTRAP = "bootstrap-secret-0123456789"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
async def store(tmp_path: Path, clock: SettableClock) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "auth.sqlite3", now=clock) as opened:
        yield opened


@pytest.fixture
def authenticator(store: SqliteStore, clock: SettableClock) -> Authenticator:
    return Authenticator(store, BOOTSTRAP, now=clock)


# --- the role x permission table (O1) -------------------------------------------

P = Permission
COLUMNS = (
    P.VIEW_CAMERAS,
    P.VIEW_LIVE,
    P.SWITCH_LAYOUTS,
    P.PUSH_TILES,
    P.EDIT_LAYOUTS,
    P.MANAGE_TOKENS,
    P.VIEW_AUDIT,
    P.REPORT_CASES,
    P.ACK_ALARMS,
)
# fmt: off
TABLE: dict[Role, tuple[int, ...]] = {
    #                  cams live switch push edit tokens audit cases ack
    Role.ADMIN:        (1,   1,   1,     1,   1,   1,     1,    1,    1),
    Role.DUTY_OFFICER: (1,   1,   1,     1,   0,   0,     1,    0,    1),
    Role.OPERATOR:     (1,   1,   0,     1,   0,   0,     0,    0,    0),
    Role.GRID_WORKER:  (1,   0,   0,     0,   0,   0,     0,    1,    0),
    Role.VIEWER:       (1,   1,   0,     0,   0,   0,     0,    0,    0),
}
# fmt: on
CASES = [
    pytest.param(role, permission, bool(allowed), id=f"{role}-{permission}")
    for role, row in TABLE.items()
    for permission, allowed in zip(COLUMNS, row, strict=True)
]


def test_table_covers_every_role_and_permission() -> None:
    assert set(TABLE) == set(Role) == set(ROLE_PERMISSIONS)
    assert set(COLUMNS) == set(Permission)


@pytest.mark.parametrize(("role", "permission", "allowed"), CASES)
def test_role_permission_table(
    role: Role, permission: Permission, allowed: bool
) -> None:
    principal = Principal(token_id=1, name="someone", role=role)
    expectation: AbstractContextManager[object] = (
        DoesNotRaise()
        if allowed
        else pytest.raises(AccessDenied, match="lacks permission")
    )
    with expectation:
        authorize(principal, permission)
    assert (permission in permissions_for(principal)) is allowed


# --- wall-bound display tokens -------------------------------------------------


@pytest.mark.parametrize(
    ("role", "permission", "wall_id", "match"),
    [
        (Role.VIEWER, P.VIEW_LIVE, "wall-1", None),
        (Role.VIEWER, P.VIEW_CAMERAS, None, None),
        (Role.VIEWER, P.VIEW_LIVE, "wall-2", "bound to wall 'wall-1'"),
        (Role.ADMIN, P.VIEW_LIVE, "wall-2", "bound to wall 'wall-1'"),
        (Role.ADMIN, P.SWITCH_LAYOUTS, "wall-1", "may only view"),
        (Role.DUTY_OFFICER, P.PUSH_TILES, "wall-1", "may only view"),
        (Role.ADMIN, P.MANAGE_TOKENS, None, "may only view"),
    ],
)
def test_wall_bound_token(
    role: Role, permission: Permission, wall_id: str | None, match: str | None
) -> None:
    display = Principal(token_id=3, name="wall-1 display", role=role, wall_id="wall-1")
    expectation: AbstractContextManager[object] = (
        DoesNotRaise() if match is None else pytest.raises(AccessDenied, match=match)
    )
    with expectation:
        authorize(display, permission, wall_id)


def test_unbound_token_may_act_on_any_wall() -> None:
    duty = Principal(token_id=4, name="duty", role=Role.DUTY_OFFICER)
    authorize(duty, P.SWITCH_LAYOUTS, "wall-2")
    Authenticator.authorize(duty, P.SWITCH_LAYOUTS, "wall-9")


def test_forbidden_carries_data() -> None:
    viewer = Principal(token_id=5, name="v", role=Role.VIEWER)
    with pytest.raises(AccessDenied) as caught:
        authorize(viewer, P.EDIT_LAYOUTS, "wall-1")
    assert caught.value.permission is P.EDIT_LAYOUTS
    assert caught.value.wall_id == "wall-1"


# --- authentication -------------------------------------------------------------


async def test_bearer_header_and_query_token(
    store: SqliteStore, authenticator: Authenticator
) -> None:
    issued = await store.create_token("wall-1 display", Role.VIEWER, wall_id="wall-1")
    expected = Principal(
        token_id=issued.record.id,
        name="wall-1 display",
        role=Role.VIEWER,
        wall_id="wall-1",
    )
    assert await authenticator.authenticate(f"Bearer {issued.secret}") == expected
    assert await authenticator.authenticate(f"bearer  {issued.secret} ") == expected
    assert await authenticator.authenticate(None, issued.secret) == expected


async def test_header_wins_over_query_token(
    store: SqliteStore, authenticator: Authenticator
) -> None:
    issued = await store.create_token("ops", Role.OPERATOR)
    with pytest.raises(Unauthorized, match="invalid or revoked"):
        await authenticator.authenticate("Bearer cw_wrong", issued.secret)


@pytest.mark.parametrize(
    ("header", "query", "match"),
    [
        pytest.param(None, None, "missing credentials", id="nothing"),
        pytest.param(None, "", "missing credentials", id="empty-query"),
        pytest.param(None, "   ", "missing credentials", id="blank-query"),
        pytest.param("", None, "header is empty", id="empty-header"),
        pytest.param(
            "Basic dXNlcjpwYXNz", None, "unsupported Authorization scheme", id="basic"
        ),
        pytest.param(
            "cw_secretvalue", None, "unsupported Authorization scheme", id="no-scheme"
        ),
        pytest.param("Bearer", None, "no token after 'Bearer'", id="bearer-only"),
        pytest.param("Bearer    ", None, "no token after 'Bearer'", id="bearer-blank"),
        pytest.param(
            "Bearer cw_a cw_b", None, "malformed bearer token", id="two-words"
        ),
        pytest.param(
            "Bearer " + "x" * 600, None, "malformed bearer token", id="too-long"
        ),
        pytest.param("Bearer cw_secretvalue", None, "invalid or revoked", id="unknown"),
        pytest.param(None, "cw_secretvalue", "invalid or revoked", id="unknown-query"),
    ],
)
async def test_bad_credentials_are_401(
    authenticator: Authenticator, header: str | None, query: str | None, match: str
) -> None:
    with pytest.raises(Unauthorized, match=match) as caught:
        await authenticator.authenticate(header, query)
    assert "secretvalue" not in str(caught.value)
    assert "dXNlcjpwYXNz" not in str(caught.value)


async def test_revoked_token_is_rejected(
    store: SqliteStore, authenticator: Authenticator
) -> None:
    issued = await store.create_token("ops", Role.OPERATOR)
    await authenticator.authenticate(f"Bearer {issued.secret}")
    assert await store.revoke_token(issued.record.id)
    with pytest.raises(Unauthorized, match="invalid or revoked"):
        await authenticator.authenticate(f"Bearer {issued.secret}")


async def test_unknown_role_fails_closed(
    store: SqliteStore, authenticator: Authenticator
) -> None:
    issued = await store.create_token("legacy", "superuser")
    with pytest.raises(Unauthorized, match="unknown role"):
        await authenticator.authenticate(f"Bearer {issued.secret}")


async def test_last_used_is_noted_in_memory_and_written_in_one_batch(
    store: SqliteStore, clock: SettableClock
) -> None:
    # finding: touch_token per request was a write on the single store thread
    usage = TokenUsage(store.tokens, flush_s=3600)
    authenticator = Authenticator(store, now=clock, usage=usage)
    first = await store.create_token("ops", Role.OPERATOR)
    second = await store.create_token("duty", Role.DUTY_OFFICER)
    start = clock.now

    async def last_used() -> list[datetime | None]:
        return [r.last_used_at for r in await store.list_tokens()]

    await authenticator.authenticate(f"Bearer {first.secret}")
    clock.advance(30)
    await authenticator.authenticate(f"Bearer {first.secret}")
    await authenticator.authenticate(f"Bearer {second.secret}")
    assert await last_used() == [None, None]  # no write per request
    assert usage.pending == 2
    await usage.flush()
    later = start + timedelta(seconds=30)
    assert await last_used() == [later, later]
    assert (usage.pending, usage.flushes) == (0, 1)


async def test_authentication_does_not_wait_for_a_busy_writer(
    tmp_path: Path, clock: SettableClock
) -> None:
    # another process holds the write lock (a backup, the CLI): the old
    # touch_token waited the whole busy timeout (5 s) on every first use
    path = tmp_path / "busy.sqlite3"
    async with SqliteStore(path, now=clock) as store:
        issued = await store.create_token("ops", Role.OPERATOR)
        authenticator = Authenticator(
            store, now=clock, usage=TokenUsage(store.tokens, flush_s=3600)
        )
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            principal = await authenticator.authenticate(f"Bearer {issued.secret}")
            elapsed_s = time.monotonic() - started
            writer.execute("ROLLBACK")
        finally:
            writer.close()
    assert principal.name == "ops"
    assert elapsed_s < BUSY_TIMEOUT_S / 2, elapsed_s


# --- expiry -----------------------------------------------------------------------


async def test_expired_token_is_401_token_expired(
    store: SqliteStore, authenticator: Authenticator, clock: SettableClock
) -> None:
    issued = await store.tokens.create_token(
        "ops", Role.OPERATOR, expires_at=clock.now + timedelta(hours=1)
    )
    bearer = f"Bearer {issued.secret}"
    assert (await authenticator.authenticate(bearer)).name == "ops"
    clock.advance(3599)
    assert (await authenticator.authenticate(bearer)).name == "ops"
    clock.advance(1)
    with pytest.raises(Unauthorized, match=r"^token expired$"):
        await authenticator.authenticate(bearer)


# --- failed authentications: throttled per address and logged ----------------------


class Ticks:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def throttled(store: SqliteStore, clock: SettableClock, ticks: Ticks) -> Authenticator:
    throttle = FailureThrottle(10, 60, 30, monotonic=ticks)
    return Authenticator(store, now=clock, throttle=throttle)


async def test_burst_of_bad_tokens_blocks_that_address_only(
    store: SqliteStore, throttled: Authenticator, ticks: Ticks
) -> None:
    good = await store.create_token("ops", Role.OPERATOR)
    for i in range(10):
        with pytest.raises(Unauthorized, match="invalid or revoked"):
            await throttled.authenticate(f"Bearer cw_guess{i}", client="10.0.0.9")
        ticks.now_s += 1
    # refused unchecked, even with a valid token: a guesser learns nothing
    with pytest.raises(TooManyFailures) as caught:
        await throttled.authenticate(f"Bearer {good.secret}", client="10.0.0.9")
    assert 0 < caught.value.retry_after_s <= 30
    assert "cw_" not in caught.value.message
    other = await throttled.authenticate(f"Bearer {good.secret}", client="10.0.0.8")
    assert other.name == "ops"
    ticks.now_s += 30
    again = await throttled.authenticate(f"Bearer {good.secret}", client="10.0.0.9")
    assert again.name == "ops"


async def test_failures_outside_the_window_do_not_add_up(
    throttled: Authenticator, ticks: Ticks
) -> None:
    for i in range(30):
        with pytest.raises(Unauthorized) as caught:
            await throttled.authenticate(f"Bearer cw_guess{i}", client="10.0.0.9")
        assert not isinstance(caught.value, TooManyFailures)
        ticks.now_s += 7  # 9 failures per 60 s


async def test_missing_credentials_are_not_counted(throttled: Authenticator) -> None:
    for _ in range(20):  # a page that has no token yet is not a guesser
        with pytest.raises(MissingCredentials):
            await throttled.authenticate(None, client="10.0.0.9")


async def test_failure_is_logged_with_the_address_never_the_token(
    throttled: Authenticator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wall.platform.auth")
    with pytest.raises(Unauthorized):
        await throttled.authenticate("Bearer cw_LEAKME123", client="192.0.2.77")
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert "192.0.2.77" in record.getMessage()
    assert "invalid or revoked token" in record.getMessage()
    assert "LEAKME" not in caplog.text


# --- bootstrap admin --------------------------------------------------------------


async def test_bootstrap_admin(authenticator: Authenticator) -> None:
    principal = await authenticator.authenticate(f"Bearer {BOOTSTRAP}")
    assert principal == Principal(
        token_id=None, name=BOOTSTRAP_ADMIN_NAME, role=Role.ADMIN
    )
    authorize(principal, P.MANAGE_TOKENS)


async def test_no_bootstrap_by_default(store: SqliteStore) -> None:
    with pytest.raises(Unauthorized, match="invalid or revoked"):
        await Authenticator(store).authenticate(f"Bearer {BOOTSTRAP}")


def test_short_bootstrap_secret_is_refused(store: SqliteStore) -> None:
    with pytest.raises(ValueError, match="at least 16") as caught:
        Authenticator(store, "admin")
    assert "'admin'" not in str(caught.value)


@pytest.mark.parametrize(
    ("env_name", "environ", "expected"),
    [
        ("CITYWALL_ADMIN_TOKEN", {"CITYWALL_ADMIN_TOKEN": BOOTSTRAP}, BOOTSTRAP),
        ("CITYWALL_ADMIN_TOKEN", {"CITYWALL_ADMIN_TOKEN": ""}, None),
        ("CITYWALL_ADMIN_TOKEN", {}, None),
        (None, {"CITYWALL_ADMIN_TOKEN": BOOTSTRAP}, None),
    ],
)
def test_bootstrap_secret_from_env(
    env_name: str | None, environ: dict[str, str], expected: str | None
) -> None:
    settings = AuthSettings(admin_token_env=env_name)
    assert bootstrap_secret_from_env(settings, environ) == expected


# --- FastAPI glue ------------------------------------------------------------------


def make_app(authenticator: Authenticator) -> FastAPI:
    app = FastAPI()
    app.state.authenticator = authenticator

    @app.get("/cameras")
    async def cameras(
        principal: Annotated[Principal, Depends(requires(P.VIEW_CAMERAS))],
    ) -> dict[str, str]:
        return {"name": principal.name}

    @app.get("/walls/{wall_id}/live")
    async def live(
        wall_id: str,
        principal: Annotated[Principal, Depends(requires(P.VIEW_LIVE))],
    ) -> dict[str, str]:
        return {"name": principal.name, "wall": wall_id}

    @app.post("/walls/{wall_id}/layout")
    async def switch(
        wall_id: str,
        principal: Annotated[Principal, Depends(requires(P.SWITCH_LAYOUTS))],
    ) -> dict[str, str]:
        return {"name": principal.name, "wall": wall_id}

    return app


@pytest.fixture
async def client(authenticator: Authenticator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(authenticator))
    async with httpx.AsyncClient(transport=transport, base_url="http://wall.test") as c:
        yield c


async def test_http_401_without_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/cameras")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "missing credentials" in response.json()["detail"]


async def test_http_401_with_garbled_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/cameras", headers={"Authorization": "Token cw_abc"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "cw_abc" not in response.text


async def test_http_403_and_200_by_role(
    store: SqliteStore, client: httpx.AsyncClient
) -> None:
    viewer = await store.create_token("viewer", Role.VIEWER)
    duty = await store.create_token("duty", Role.DUTY_OFFICER)

    response = await client.post(
        "/walls/main/layout", headers={"Authorization": f"Bearer {viewer.secret}"}
    )
    assert response.status_code == 403
    assert "lacks permission switch_layouts" in response.json()["detail"]
    assert "www-authenticate" not in response.headers

    response = await client.post(
        "/walls/main/layout", headers={"Authorization": f"Bearer {duty.secret}"}
    )
    assert response.status_code == 200
    assert response.json() == {"name": "duty", "wall": "main"}


async def test_http_wall_bound_display(
    store: SqliteStore, client: httpx.AsyncClient
) -> None:
    display = await store.create_token("main display", Role.VIEWER, wall_id="main")
    bearer = {"Authorization": f"Bearer {display.secret}"}

    response = await client.get("/walls/main/live", headers=bearer)
    assert response.status_code == 200
    assert response.json() == {"name": "main display", "wall": "main"}

    response = await client.get("/walls/annex/live", headers=bearer)
    assert response.status_code == 403
    assert "bound to wall 'main'" in response.json()["detail"]

    response = await client.post("/walls/main/layout", headers=bearer)
    assert response.status_code == 403


async def test_http_rest_route_ignores_a_query_token(
    store: SqliteStore, client: httpx.AsyncClient
) -> None:
    viewer = await store.create_token("viewer", Role.VIEWER)
    response = await client.get("/cameras", params={"access_token": viewer.secret})
    assert response.status_code == 401
    assert "missing credentials" in response.json()["detail"]
    response = await client.get(
        "/cameras", headers={"Authorization": f"Bearer {viewer.secret}"}
    )
    assert response.status_code == 200


async def test_http_429_with_retry_after_for_a_throttled_address(
    store: SqliteStore, throttled: Authenticator
) -> None:
    viewer = await store.create_token("viewer", Role.VIEWER)
    app = make_app(throttled)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://wall.test") as c:
        for i in range(10):
            bad = {"Authorization": f"Bearer cw_guess{i}"}
            assert (await c.get("/cameras", headers=bad)).status_code == 401
        good = {"Authorization": f"Bearer {viewer.secret}"}
        response = await c.get("/cameras", headers=good)
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert "too many failed authentications" in response.json()["detail"]
