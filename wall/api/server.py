"""The uvicorn server of the service, with its limits (one builder for CLI and tests).

uvicorn bounds idle keep-alive connections, header size and concurrency, but
a client that sends its request headers one byte at a time is held open
forever: every byte cancels the keep-alive timer and nothing else runs. The
protocol below adds a header deadline: the whole head of a request must
arrive within ``http.header_timeout_s`` of the connection opening (or of the
previous response), or the connection is answered 408 and closed. Body
deadlines and sizes are :mod:`wall.api.guard`'s.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from wall.api.handlers import error_bytes
from wall.api.settings import HttpSettings
from wall.config.settings import Settings

log = logging.getLogger(__name__)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    header_timeout_s: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the first request's header deadline."""
        super().connection_made(transport)
        self._follow_state()

    def data_received(self, data: bytes) -> None:
        """Parse as uvicorn does; the deadline ends once the headers are in."""
        super().data_received(data)
        self._follow_state()

    def on_response_complete(self) -> None:
        """The next request's headers get a fresh deadline."""
        super().on_response_complete()
        self._follow_state()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """The socket now belongs to the WebSocket protocol and its pings."""
        self._disarm()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        """Nothing left to time out."""
        self._disarm()
        super().connection_lost(exc)

    def _follow_state(self) -> None:
        # IDLE: h11 is still waiting for (the rest of) a request head. Arm once
        # per request, never re-arm on data, or a byte a second would last forever.
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            self._disarm()
        elif self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout_s, self._headers_too_slow
            )

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        log.debug("http: %s sent no complete request head in time", self.client)
        self.transport.write(
            error_bytes(
                408,
                "header_timeout",
                f"request headers did not arrive within {self.header_timeout_s:g} s",
            )
        )
        self.transport.close()


def protocol_for(http: HttpSettings) -> type[HeaderDeadlineProtocol]:
    """The protocol class with ``http``'s header deadline."""
    return type(
        "CitywallHttpProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout_s": http.header_timeout_s},
    )


def build_server(
    app: Any,
    settings: Settings,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    access_log: bool = True,
    graceful_shutdown_s: int = 3,
) -> uvicorn.Server:
    """The uvicorn server for ``app`` with the limits of ``settings.http``.

    Args:
        app: the ASGI application (from :func:`wall.app.create_app`).
        settings: the validated configuration.
        host: bind address.
        port: TCP port (0 picks one).
        log_level: uvicorn's log level.
        access_log: log each request (uvicorn's access log, masked).
        graceful_shutdown_s: how long open requests may finish at shutdown.
    """
    http = settings.http
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=protocol_for(http),
        ws_max_size=http.ws_max_message_bytes,
        limit_concurrency=http.max_connections,
        timeout_keep_alive=http.keep_alive_timeout_s,
        h11_max_incomplete_event_size=http.max_header_bytes,
        timeout_graceful_shutdown=graceful_shutdown_s,
    )
    return uvicorn.Server(config)
