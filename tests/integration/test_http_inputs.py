"""Out-of-range inputs, capped error lists and security headers (issue 10).

Against the running service over real sockets: every integer or number
parameter of the OpenAPI document gets values no route can hold, and the
answer is a JSON 4xx that names the problem, never a 500.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.camera_helpers import camera
from tests.support.service import RunningService, running_service
from wall.api.settings import HttpSettings
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings

HUGE = [str(2**63), str(-(2**63) - 1), "1" + "0" * 40]
"""Integers past SQLite's INTEGER and any index."""

NUMBERS = [*HUGE, "1e400", "-1e400", "nan", "inf"]
"""Also numbers no float range check lets through."""


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete", "patch"}
    ]


def _numeric_params(op: dict[str, Any]) -> list[dict[str, Any]]:
    def kind(schema: dict[str, Any]) -> set[str]:
        kinds = {schema.get("type", "")}
        for alt in schema.get("anyOf", []):
            kinds.add(alt.get("type", ""))
        return kinds

    return [
        p for p in op.get("parameters", []) if kind(p["schema"]) & {"integer", "number"}
    ]


KNOWN = {"wall_id": "main", "camera_id": "gate", "layout_id": "mixed_2x2"}
"""Ids that exist, so the sweep reaches each route's number, not its 404."""


def _url(path: str, op: dict[str, Any], name: str, value: str) -> tuple[str, str]:
    query = ""
    for p in op.get("parameters", []):
        if p["in"] == "path":
            other = KNOWN.get(p["name"], "x")
            path = path.replace(
                "{" + p["name"] + "}", value if p["name"] == name else other
            )
        elif p["name"] == name:
            query = f"?{name}={value}"
    return path, query


async def _sweep(svc: RunningService, c: httpx.AsyncClient) -> list[str]:
    doc = (await c.get("/openapi.json")).json()
    problems: list[str] = []
    checked = 0
    for method, path, op in _operations(doc):
        for param in _numeric_params(op):
            values = NUMBERS if "number" in json.dumps(param["schema"]) else HUGE
            for value in values:
                url, query = _url(path, op, param["name"], value)
                body: dict[str, object] | None = {} if "requestBody" in op else None
                r = await c.request(
                    method, url + query, json=body, headers=svc.auth(Role.ADMIN)
                )
                checked += 1
                where = f"{method} {path} {param['name']}={value}"
                if r.status_code >= 500:
                    problems.append(f"{where}: {r.status_code} {r.text[:200]}")
                elif not r.headers["content-type"].startswith("application/json"):
                    problems.append(f"{where}: {r.status_code} not JSON")
    assert checked >= 10, "the sweep found too few numeric parameters to mean much"
    return problems


async def test_no_numeric_parameter_out_of_range_answers_500(tmp_path: Path) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        # a camera nothing answers for: the routes exist, no stream is needed
        cameras=(camera("gate", "rtsp://127.0.0.1:9/none"),),
        walls=(WallSettings(id="main", name="main", rows=2, cols=2),),
    )
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url, timeout=30) as c,
    ):
        assert await _sweep(svc, c) == []


async def test_audit_before_id_past_int64_is_a_clear_422(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.get(
            "/api/v1/audit?before_id=9223372036854775808", headers=svc.auth()
        )
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "invalid_request"
        assert body["details"][0]["loc"] == ["query", "before_id"]
        assert "9223372036854775807" in body["message"]
        ok = await c.get(
            "/api/v1/audit?before_id=9223372036854775807", headers=svc.auth()
        )
        assert ok.status_code == 200


def _bad_layout(tiles: int) -> dict[str, Any]:
    return {
        "id": "huge",
        "name": "huge",
        "for_wall": {"rows": 2, "cols": 2},
        "tiles": [{"id": f"t{i}"} for i in range(tiles)],
    }


async def test_a_layout_with_50000_bad_tiles_gets_a_short_list_and_a_count(
    tmp_path: Path,
) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url, timeout=60) as c,
    ):
        for route in ("/api/v1/layouts/validate", "/api/v1/layouts"):
            r = await c.post(route, json=_bad_layout(50_000), headers=svc.auth())
            assert r.status_code == 422, r.text[:300]
            assert len(r.content) < 16_384, len(r.content)  # was 7.6 MB
            body = r.json()
            assert body["error"] == "layout_invalid"
            assert len(body["details"]) == 50
            assert body["total"] > 50_000
            assert body["message"].startswith(f"{body['total']} error(s)")
        # A short list is still given whole, without a count.
        r = await c.post("/api/v1/layouts", json=_bad_layout(3), headers=svc.auth())
        assert r.status_code == 422 and "total" not in r.json()
        assert 0 < len(r.json()["details"]) <= 50


async def test_pages_and_api_carry_security_headers(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        answers = {
            "page": await c.get("/live"),
            "static": await c.get("/static/live.js"),
            "json": await c.get("/api/v1/me", headers=svc.auth(Role.VIEWER)),
            "401": await c.get("/api/v1/me"),
            "404": await c.get("/api/v1/nothing-here"),
            "health": await c.get("/healthz"),
        }
        for name, r in answers.items():
            csp = r.headers.get("content-security-policy", "")
            assert "default-src 'self'" in csp and "script-src 'self'" in csp, name
            assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
            assert r.headers.get("x-content-type-options") == "nosniff", name
            assert r.headers.get("referrer-policy") == "no-referrer", name
            assert r.headers.get("x-frame-options") == "DENY", name
        for name in ("json", "401", "404", "health"):
            assert answers[name].headers.get("cache-control") == "no-store", name
        assert answers["page"].headers.get("cache-control") != "no-store"


async def test_frame_ancestors_can_name_the_embedding_site(tmp_path: Path) -> None:
    http = HttpSettings(frame_ancestors=("'self'", "https://portal.example"))
    settings = Settings(http=http, storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        r = await c.get("/wall/main")
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://portal.example" in csp
        assert "x-frame-options" not in r.headers  # it cannot name a site


async def test_docs_and_redoc_load_only_same_origin_assets(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))
    async with (
        running_service(settings) as svc,
        httpx.AsyncClient(base_url=svc.base_url) as c,
    ):
        for page in ("/docs", "/redoc"):
            r = await c.get(page)
            assert r.status_code == 200, r.text
            urls = _asset_urls(r.text)
            assert urls, f"{page} names no script"
            for url in urls:
                assert url.startswith("/") and not url.startswith("//"), url
                asset = await c.get(url)
                assert asset.status_code == 200, url
                assert asset.content, url
            assert "googleapis" not in r.text and "cdn" not in r.text.lower()
        assert (await c.get("/openapi.json")).status_code == 200


def _asset_urls(html: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Assets(HTMLParser):
        def handle_starttag(
            self, tag: str, attrs: list[tuple[str, str | None]]
        ) -> None:
            named = dict(attrs)
            url = named.get("src") if tag == "script" else None
            if tag == "link" and named.get("rel") == "stylesheet":
                url = named.get("href")
            if url:
                found.append(url)

    Assets().feed(html)
    return found
