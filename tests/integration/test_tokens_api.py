"""Tokens against the running service: /api/v1/tokens, the CLI, revocation, throttling (O1)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.live_peers import Viewer, client, mint, site, until
from tests.support.rtsp_server import RtspServer
from tests.support.service import RunningService, running_service
from wall.cli import main as cli
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.platform.auth_settings import AuthSettings
from wall.platform.store.sqlite import SqliteStore

REVOCATION_BOUND_S = 1.0
"""The issue's bound: a revoked token's sockets close within a second."""


def settings_for(tmp_path: Path, **auth: float) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        auth=AuthSettings.model_validate(auth),
    )


def ws_url(svc: RunningService, secret: str) -> str:
    return svc.base_url.replace("http", "ws") + f"/api/v1/ws?access_token={secret}"


async def round_trip_s(ws: ClientConnection) -> float:
    """One ping through the events socket: the margin for the load right now."""
    started = time.monotonic()
    await ws.send('{"type": "ping"}')
    assert "pong" in str(await ws.recv())
    return time.monotonic() - started


async def closed_within(ws: ClientConnection, bound_s: float) -> tuple[int, str]:
    """Wait for the server's close frame; return its code and reason."""

    async def drain() -> None:
        while True:
            await ws.recv()

    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(drain(), bound_s)
    assert info.value.rcvd is not None, "the server sent no close frame"
    return info.value.rcvd.code, info.value.rcvd.reason


async def test_tokens_api_is_admin_only_shows_secrets_once_and_is_audited(
    tmp_path: Path,
) -> None:
    async with (
        running_service(settings_for(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        assert (await c.get("/api/v1/tokens")).status_code == 401
        for role in (Role.VIEWER, Role.DUTY_OFFICER):
            r = await c.get("/api/v1/tokens", headers=svc.auth(role))
            assert r.status_code == 403, role
        r = await c.post(
            "/api/v1/tokens",
            json={"name": "visitor", "role": "viewer", "expires_in": "12h"},
            headers=svc.auth(),
        )
        assert r.status_code == 201, r.text
        issued = r.json()
        secret, token = issued["secret"], issued["token"]
        assert secret.startswith("cw_") and token["name"] == "visitor"
        created = datetime.fromisoformat(token["created_at"])
        expires = datetime.fromisoformat(token["expires_at"])
        assert expires - created == timedelta(hours=12)
        bearer = {"Authorization": f"Bearer {secret}"}
        assert (await c.get("/api/v1/me", headers=bearer)).json()["name"] == "visitor"

        listing = await c.get("/api/v1/tokens", headers=svc.auth())
        assert listing.status_code == 200
        names = [t["name"] for t in listing.json()["tokens"]]
        assert names == [*(f"test-{role}" for role in Role), "visitor"]
        assert secret not in listing.text
        assert all(s not in listing.text for s in svc.tokens.values())
        assert "secret" not in listing.text and "hash" not in listing.text

        r = await c.delete(f"/api/v1/tokens/{token['id']}", headers=svc.auth())
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
        r = await c.get("/api/v1/me", headers=bearer)
        assert r.status_code == 401
        r = await c.delete(f"/api/v1/tokens/{token['id']}", headers=svc.auth())
        assert r.status_code == 409 and r.json()["error"] == "token_already_revoked"
        r = await c.delete("/api/v1/tokens/999", headers=svc.auth())
        assert r.status_code == 404 and r.json()["error"] == "token_not_found"
        r = await c.delete("/api/v1/tokens/9223372036854775808", headers=svc.auth())
        assert r.status_code == 422

        audit = (await c.get("/api/v1/audit", headers=svc.auth())).json()["entries"]
        trail = [(e["actor"], e["action"], e["target"]) for e in audit]
        assert trail[:2] == [
            ("test-admin", "token.revoke", f"token:{token['id']}"),
            ("test-admin", "token.create", f"token:{token['id']}"),
        ]
        assert secret not in str(audit)


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        (
            {"name": "forever", "role": "operator", "expires_in": "never"},
            422,
            "only a wall display token may never expire",
        ),
        ({"name": "x", "role": "viewer", "expires_in": "soon"}, 422, "not like 12h"),
        ({"name": "x", "role": "viewer", "wall_id": "annex"}, 404, "no wall"),
        ({"name": "x", "role": "superuser"}, 422, "role"),
        ({"name": "x", "role": "viewer", "secret": "mine"}, 422, "secret"),
    ],
)
async def test_create_refusals_say_what_is_wrong(
    tmp_path: Path, body: dict[str, str], status: int, match: str
) -> None:
    async with (
        running_service(settings_for(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.post("/api/v1/tokens", json=body, headers=svc.auth())
        assert r.status_code == status, r.text
        assert match in r.json()["message"]
        listing = await c.get("/api/v1/tokens", headers=svc.auth())
        assert len(listing.json()["tokens"]) == len(Role)


async def test_revocation_through_the_api_closes_that_tokens_sockets_at_once(
    tmp_path: Path,
) -> None:
    async with (
        running_service(settings_for(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        doomed = await svc.runtime.store.create_token("doomed", "viewer")
        async with (
            connect(ws_url(svc, doomed.secret)) as first,
            connect(ws_url(svc, doomed.secret)) as second,
            connect(ws_url(svc, svc.tokens[Role.VIEWER])) as bystander,
        ):
            margin_s = await round_trip_s(first) + await round_trip_s(second)
            started = time.monotonic()
            r = await c.delete(f"/api/v1/tokens/{doomed.record.id}", headers=svc.auth())
            assert r.status_code == 200
            for ws in (first, second):
                code, reason = await closed_within(ws, REVOCATION_BOUND_S + margin_s)
                assert (code, reason) == (4401, "token revoked")
            elapsed_s = time.monotonic() - started
            assert elapsed_s < REVOCATION_BOUND_S + margin_s
            await round_trip_s(bystander)  # another token's socket stays open
        # every socket deregistered as it ended
        await until(lambda: len(svc.runtime.connections) == 0, 5)


async def test_revocation_written_to_the_database_closes_sockets_within_a_second(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  data_dir: {settings.storage.data_dir}\n")
    async with running_service(settings) as svc:
        by_store = await svc.runtime.store.create_token("by-store", "viewer")
        by_cli = await svc.runtime.store.create_token("by-cli", "viewer")
        async with (
            connect(ws_url(svc, by_store.secret)) as ws_store,
            connect(ws_url(svc, by_cli.secret)) as ws_cli,
        ):
            margin_s = await round_trip_s(ws_store) + await round_trip_s(ws_cli)
            # another process's connection, as the CLI has: the service must notice
            async with SqliteStore(settings.storage.sqlite_path) as other:
                assert await other.revoke_token(by_store.record.id)
            code, reason = await closed_within(ws_store, REVOCATION_BOUND_S + margin_s)
            assert (code, reason) == (4401, "token revoked")

            args = ["token", "revoke", str(by_cli.record.id), "--config", str(config)]
            assert await asyncio.to_thread(cli, args) == 0
            code, reason = await closed_within(ws_cli, REVOCATION_BOUND_S + margin_s)
            assert (code, reason) == (4401, "token revoked")
        [last, *_] = await svc.runtime.store.list_audit()
        assert (last.action, last.target) == (
            "token.revoke",
            f"token:{by_cli.record.id}",
        )
        assert last.actor.startswith("cli")


async def test_expired_token_gets_401_token_expired(tmp_path: Path) -> None:
    async with (
        running_service(settings_for(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        past = datetime.now(UTC) - timedelta(seconds=1)
        expired = await svc.runtime.store.tokens.create_token(
            "old", "viewer", expires_at=past
        )
        r = await c.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {expired.secret}"}
        )
        assert r.status_code == 401 and r.json()["message"] == "token expired"
        with pytest.raises(ConnectionClosed) as info:
            async with connect(ws_url(svc, expired.secret)) as ws:
                await ws.recv()
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4401, "token expired")


async def test_rest_route_with_only_a_query_token_is_401(tmp_path: Path) -> None:
    async with (
        running_service(settings_for(tmp_path)) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        secret = svc.tokens[Role.ADMIN]
        for path in ("/api/v1/me", "/api/v1/tokens", "/api/v1/audit"):
            r = await c.get(path, params={"access_token": secret})
            assert r.status_code == 401, path
            assert r.headers["www-authenticate"] == "Bearer"


async def test_burst_of_bad_tokens_is_throttled_and_logged_without_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wall.platform.auth")
    settings = settings_for(tmp_path, failure_limit=10, failure_block_s=30)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        for i in range(10):
            bad = {"Authorization": f"Bearer cw_GUESS{i:04d}"}
            assert (await c.get("/api/v1/me", headers=bad)).status_code == 401
        r = await c.get("/api/v1/me", headers=svc.auth(Role.VIEWER))
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 30
        assert r.json()["error"] == "too_many_requests"
        with pytest.raises(ConnectionClosed) as info:
            async with connect(ws_url(svc, svc.tokens[Role.VIEWER])) as ws:
                await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4429
        async with client(svc, "127.0.0.2") as elsewhere:  # another address
            r = await elsewhere.get("/api/v1/me", headers=svc.auth(Role.VIEWER))
            assert r.status_code == 200
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 10
    assert all("127.0.0.1" in line for line in refused)
    assert "GUESS" not in caplog.text


async def test_last_used_times_are_flushed_in_batches_and_at_shutdown(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, last_used_flush_s=3600)
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        for role in (Role.VIEWER, Role.OPERATOR):
            assert (
                await c.get("/api/v1/me", headers=svc.auth(role))
            ).status_code == 200
        tokens = await svc.runtime.store.list_tokens()
        assert all(t.last_used_at is None for t in tokens)  # no write per request
    async with SqliteStore(settings.storage.sqlite_path) as store:
        used = {t.name for t in await store.list_tokens() if t.last_used_at}
    assert used == {"test-viewer", "test-operator"}


def test_cli_token_create_list_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  data_dir: {tmp_path / 'data'}\n")
    base = ["--config", str(config)]
    create = ["token", "create", "--role", "operator", "--name", "ops desk"]
    assert cli([*create, "--expires-in", "30d", *base]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("cw_")
    assert cli([*create, "--expires-in", "never", *base]) == 1
    assert "only a wall display token may never expire" in capsys.readouterr().err
    assert cli(["token", "list", *base]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["id", "name", "role", "wall"]
    assert table[1].split()[:4] == ["1", "ops", "desk", "operator"]
    assert secret not in "\n".join(table)
    assert cli(["token", "revoke", "1", *base]) == 0
    assert "revoked token 1" in capsys.readouterr().out
    assert cli(["token", "revoke", "1", *base]) == 1
    assert "already revoked" in capsys.readouterr().err
    assert cli(["token", "list", *base]) == 0
    assert "never" not in capsys.readouterr().out.splitlines()[1]


@pytest.mark.rtsp
async def test_revocation_ends_that_tokens_live_video_sessions(
    tmp_path: Path, rtsp_server: RtspServer
) -> None:
    settings = site(tmp_path, rtsp_server)
    doomed_id, doomed = await mint(settings, "doomed")
    _, keeper = await mint(settings, "keeper")
    gate = "/api/v1/cameras/gate/webrtc"
    async with running_service(settings) as svc, client(svc) as http:
        relay = svc.runtime.relay
        mine, theirs = Viewer(), Viewer()
        try:
            await mine.open(http, gate, doomed)
            await theirs.open(http, gate, keeper)
            sessions = {str(s["session_id"]) for s in relay.sessions()}
            assert {mine.session_id, theirs.session_id} <= sessions
            # written to the database as the CLI does: the watch must notice
            opened = time.monotonic()
            async with SqliteStore(settings.storage.sqlite_path) as other:
                started = time.monotonic()
                assert await other.revoke_token(doomed_id)
                margin_s = (time.monotonic() - opened) * 2  # the load right now
            await until(
                lambda: (
                    mine.session_id
                    not in {str(s["session_id"]) for s in relay.sessions()}
                ),
                10,
            )
            elapsed_s = time.monotonic() - started
            assert theirs.session_id in {str(s["session_id"]) for s in relay.sessions()}
            frames = theirs.frames
            await until(lambda: theirs.frames > frames, 10)  # still gets video
        finally:
            await mine.close()
            await theirs.close()
    # the check runs every 0.5 s; closing a peer is quick: the bound holds
    assert elapsed_s < REVOCATION_BOUND_S + margin_s, (elapsed_s, margin_s)
