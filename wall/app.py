"""The FastAPI application: routers, pages and the runtime lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from wall.api import (
    alarms,
    audit,
    cameras,
    detections,
    layouts,
    panels,
    stations,
    system,
    tokens,
    walls,
)
from wall.api import docs as api_docs
from wall.api.guard import HttpGuard
from wall.api.handlers import ERROR_RESPONSES, install_handlers
from wall.config.settings import Settings
from wall.platform import log_redaction
from wall.runtime import Runtime, Seams

WEB_DIR = Path(__file__).parent / "web"


ROUTERS = (
    *(system, cameras, walls, panels, layouts, audit, alarms, detections, tokens),
    stations,
)
"""One router per capability, included in this order."""


def create_app(settings: Settings, seams: Seams | None = None) -> FastAPI:
    """Build the application for ``settings``; the runtime starts with it.

    Args:
        settings: the validated configuration.
        seams: what tests swap in the runtime (see :class:`~wall.runtime.Seams`).
    """
    log_redaction.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime(settings, seams) as runtime:
            app.state.runtime = runtime
            app.state.authenticator = runtime.authenticator
            yield

    app = FastAPI(
        title="citywall",
        summary="City command centre: cameras, live wall video, sensors, grid cases.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load CDN assets: see wall.api.docs
        redoc_url=None,
    )
    app.add_middleware(HttpGuard, settings=settings.http)
    install_handlers(app)
    app.include_router(api_docs.router)
    for module in ROUTERS:
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/live")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/wall/{wall_id}", include_in_schema=False)
    async def wall_page(wall_id: str) -> FileResponse:
        return FileResponse(WEB_DIR / "wall.html", media_type="text/html")

    @app.get("/console", include_in_schema=False)
    async def console_page() -> FileResponse:
        return FileResponse(WEB_DIR / "console.html", media_type="text/html")

    @app.get("/live", include_in_schema=False)
    async def live_page() -> FileResponse:
        return FileResponse(WEB_DIR / "live.html", media_type="text/html")

    return app
