"""``/docs`` (Swagger UI) and ``/redoc`` with assets served by the service itself.

FastAPI's own pages load their scripts and fonts from public CDNs, which a
command-centre network cannot reach. ``scripts/setup.sh`` installs the pinned
npm packages into ``wall/web/vendor/``; these routes serve pages that use
only them (and ``/openapi.json``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from wall.platform.errors import Unavailable

WEB_DIR = Path(__file__).parent.parent / "web"

VENDORED = {
    "docs": WEB_DIR / "vendor" / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "redoc": WEB_DIR / "vendor" / "redoc" / "redoc.standalone.js",
}
"""The asset each page cannot work without."""

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    if not VENDORED[name].is_file():
        raise Unavailable(
            "docs_assets_missing",
            f"the /{name} assets are not installed; run scripts/setup.sh"
            " (the OpenAPI document is at /openapi.json)",
        )
    return FileResponse(WEB_DIR / f"{name}.html", media_type="text/html")


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    """The interactive API reference (Swagger UI)."""
    return _page("docs")


@router.get("/redoc")
async def redoc() -> FileResponse:
    """The API reference (ReDoc)."""
    return _page("redoc")
