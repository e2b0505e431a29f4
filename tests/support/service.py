"""Run the real service (uvicorn + the app) inside a test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast

import uvicorn
from fastapi import FastAPI

from wall.api.server import build_server
from wall.app import create_app
from wall.config.settings import Settings
from wall.platform.auth import Role
from wall.platform.store.sqlite import SqliteStore
from wall.runtime import Runtime, Seams


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningService:
    """A service under test: its base URL and a token per role."""

    base_url: str
    tokens: dict[Role, str]
    server: uvicorn.Server

    def auth(self, role: Role = Role.ADMIN) -> dict[str, str]:
        """Authorization header for ``role``."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def runtime(self) -> Runtime:
        """The service's runtime, for looking at its parts (never for faking)."""
        return cast(Runtime, cast(FastAPI, self.server.config.app).state.runtime)


async def mint_tokens(settings: Settings) -> dict[Role, str]:
    """A token for every role, written to the service's database."""
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    async with SqliteStore(settings.storage.sqlite_path) as store:
        return {
            role: (await store.create_token(f"test-{role}", role)).secret
            for role in Role
        }


@asynccontextmanager
async def running_service(
    settings: Settings, seams: Seams | None = None
) -> AsyncIterator[RunningService]:
    """Start the whole service on a free port; stop it on exit.

    ``seams`` swaps what the runtime allows tests to swap (injected faults).
    """
    tokens = await mint_tokens(settings)
    port = free_port()  # never the configured port: tests run beside other services
    app = create_app(settings, seams)
    server = build_server(
        app,
        settings,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        graceful_shutdown_s=2,
    )
    task = asyncio.create_task(server.serve(), name="uvicorn under test")
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped during start-up")
                await asyncio.sleep(0.02)
        yield RunningService(f"http://127.0.0.1:{port}", tokens, server)
    finally:
        server.should_exit = True
        await task
