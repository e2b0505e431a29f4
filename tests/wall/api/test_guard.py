"""The guard and the error mapping on a small app (issue 10).

These pin what the running-service tests cannot provoke on demand: a route
that raises a bug, a domain ``Unavailable``, and the settings' own checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from wall.api.guard import HttpGuard, content_security_policy
from wall.api.handlers import MAX_LISTED, install_handlers
from wall.api.settings import HttpSettings
from wall.platform.errors import Invalid, Unavailable


class Many(BaseModel):
    """A body with a list whose every item can be wrong."""

    values: list[int]


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(HttpGuard, settings=HttpSettings())
    install_handlers(app)

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug with a secret: hunter2")

    @app.get("/busy-store")
    async def busy_store() -> None:
        raise Unavailable("store_unavailable", "the database is busy; retry")

    @app.get("/many-findings")
    async def many_findings() -> None:
        findings = [{"n": i} for i in range(500)]
        raise Invalid("layout_invalid", "500 error(s)", findings)

    @app.post("/many")
    async def many(body: Many) -> int:
        return len(body.values)

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_a_bug_answers_json_500_with_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/bug")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "internal_error"
    assert "hunter2" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


async def test_unavailable_is_503_json_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/busy-store")
    assert r.status_code == 503
    assert r.json()["error"] == "store_unavailable"
    assert int(r.headers["retry-after"]) >= 1


async def test_long_error_lists_are_cut_with_a_count(client: httpx.AsyncClient) -> None:
    r = await client.get("/many-findings")
    assert r.status_code == 422
    assert len(r.json()["details"]) == MAX_LISTED and r.json()["total"] == 500
    r = await client.post("/many", json={"values": ["x"] * 10_000})
    body = r.json()
    assert r.status_code == 422 and body["error"] == "invalid_request"
    assert len(body["details"]) == MAX_LISTED and body["total"] == 10_000
    assert len(r.content) < 8_192
    assert "(and 9995 more)" in body["message"]


def test_body_caps_take_the_longest_prefix() -> None:
    http = HttpSettings(
        max_body_bytes=2048,
        route_body_bytes={"/api/v1/layouts": 4096, "/api/v1/layouts/big": 8192},
    )
    assert http.body_cap("/api/v1/alarms/1/ack") == 2048
    assert http.body_cap("/api/v1/layouts") == 4096
    assert http.body_cap("/api/v1/layouts/big/one") == 8192


@pytest.mark.parametrize(
    "sources",
    [
        ("https://a.example; script-src *",),
        ("'none'", "'self'"),
        ("https://a.example\r\nSet-Cookie: x",),
        ("'unsafe-inline'",),
    ],
)
def test_frame_ancestors_refuse_what_is_not_a_plain_source(
    sources: tuple[str, ...],
) -> None:
    with pytest.raises(ValidationError, match="frame_ancestors"):
        HttpSettings(frame_ancestors=sources)


def test_the_page_policy_allows_nothing_inline_or_foreign() -> None:
    csp = content_security_policy(HttpSettings())
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "http" not in csp  # no foreign origin at all
    docs = content_security_policy(HttpSettings(), docs=True)
    assert "script-src 'self';" in docs  # even the docs run only our scripts
