"""The FastAPI application: routers, pages and the runtime lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from wall.api import alarms, cameras, detections, layouts, system, walls
from wall.api.handlers import install_handlers
from wall.config.settings import Settings
from wall.live.snapshots import SnapshotService
from wall.platform import log_redaction
from wall.runtime import Runtime

WEB_DIR = Path(__file__).parent / "web"


def create_app(settings: Settings) -> FastAPI:
    """Build the application for ``settings``; the runtime starts with it."""
    log_redaction.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Runtime(settings) as runtime:
            app.state.runtime = runtime
            app.state.authenticator = runtime.authenticator
            app.state.snapshots = SnapshotService()
            app.state.detection = runtime.detection
            yield

    app = FastAPI(
        title="citywall",
        summary="City command centre: cameras, live wall video, sensors, grid cases.",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_handlers(app)
    app.include_router(system.router)
    app.include_router(cameras.router)
    app.include_router(walls.router)
    app.include_router(layouts.router)
    app.include_router(alarms.router)
    app.include_router(detections.router)
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
