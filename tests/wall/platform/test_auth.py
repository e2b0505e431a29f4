"""Roles, permissions and bearer tokens (O1), down to the FastAPI dependency."""

from __future__ import annotations

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
    Permission,
    Principal,
    Role,
    Unauthorized,
    authorize,
    bootstrap_secret_from_env,
    permissions_for,
)
from wall.platform.store.sqlite import SqliteStore

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


async def test_last_used_is_throttled(
    store: SqliteStore, authenticator: Authenticator, clock: SettableClock
) -> None:
    issued = await store.create_token("ops", Role.OPERATOR)
    start = clock.now

    async def last_used() -> datetime | None:
        [record] = await store.list_tokens()
        return record.last_used_at

    await authenticator.authenticate(f"Bearer {issued.secret}")
    assert await last_used() == start
    clock.advance(30)
    await authenticator.authenticate(f"Bearer {issued.secret}")
    assert await last_used() == start  # within 60 s: no write
    clock.advance(30)
    await authenticator.authenticate(f"Bearer {issued.secret}")
    assert await last_used() == start + timedelta(seconds=60)


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
