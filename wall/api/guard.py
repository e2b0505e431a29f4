"""The HTTP guard: auth before body, body caps and deadlines, security headers.

A pure ASGI middleware in front of every HTTP route. For a request with a
body it

1. refuses a declared ``Content-Length`` over the route's cap (413) without
   reading a byte;
2. authenticates API requests from the ``Authorization`` header *before* any
   body byte is read, so an anonymous client cannot make the service buffer
   or parse anything (401, even when the JSON is malformed);
3. reads the body itself, counting bytes as they stream in (413 past the cap,
   chunked bodies included) and within ``http.body_timeout_s`` (408).

Refusals close the connection, so an unread body is never drained. Every
response gets the security headers (CSP, ``nosniff``, no referrer, framing
rules) and JSON ``Cache-Control: no-store``; an exception that escapes a
route still answers a JSON 500. WebSockets pass untouched (their handshake
has no body; their frames are capped by the server).
"""

from __future__ import annotations

import asyncio
import logging

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wall.api.access import throttled
from wall.api.handlers import (
    error_response,
    internal_error_response,
    service_error_response,
    unauthorized_response,
)
from wall.api.settings import HttpSettings
from wall.platform.auth import Authenticator, AuthError, TooManyFailures
from wall.platform.errors import ServiceError

log = logging.getLogger(__name__)

AUTHENTICATED_PREFIX = "/api/"
"""Every route with a body lives here, and every one needs a token."""

DOCS_PATHS = frozenset({"/docs", "/redoc"})
"""Pages whose vendored renderers need inline styles and a blob: worker."""

_CLOSE = {"connection": "close"}

RawHeaders = list[tuple[bytes, bytes]]


def content_security_policy(settings: HttpSettings, *, docs: bool = False) -> str:
    """The CSP of the service's pages: only its own origin, nothing inline.

    ``docs`` relaxes styles and workers for the Swagger UI and ReDoc bundles
    (they inject ``<style>`` elements and start a worker from a blob); scripts
    stay same-origin.

    Examples:
        >>> "frame-ancestors 'none'" in content_security_policy(HttpSettings())
        True
    """
    style = "'self' 'unsafe-inline'" if docs else "'self'"
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style}",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors " + " ".join(settings.frame_ancestors),
    ]
    return "; ".join(directives)


def security_headers(settings: HttpSettings, *, docs: bool = False) -> RawHeaders:
    """Headers every response carries (unless the route set its own)."""
    headers = [
        (b"content-security-policy", content_security_policy(settings, docs=docs)),
        (b"x-content-type-options", "nosniff"),
        (b"referrer-policy", "no-referrer"),
    ]
    if settings.frame_ancestors == ("'none'",):
        headers.append((b"x-frame-options", "DENY"))
    return [(name, value.encode("latin-1")) for name, value in headers]


class HttpGuard:
    """ASGI middleware enforcing :class:`HttpSettings` on every HTTP request."""

    def __init__(self, app: ASGIApp, settings: HttpSettings) -> None:
        self.app = app
        self.settings = settings
        self._page_headers = security_headers(settings)
        self._docs_headers = security_headers(settings, docs=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Guard one HTTP request; other scopes pass through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in DOCS_PATHS
        reply = _Reply(send, self._docs_headers if docs else self._page_headers)
        try:
            await self._serve(scope, receive, reply)
        except Exception:
            if not reply.started:
                await internal_error_response()(scope, receive, reply.send)
            raise

    async def _serve(self, scope: Scope, receive: Receive, reply: _Reply) -> None:
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        if declared == 0:
            await self.app(scope, receive, reply.send)
            return
        cap = self.settings.body_cap(scope["path"])
        refusal = _too_large(cap) if declared is not None and declared > cap else None
        if refusal is None and scope["path"].startswith(AUTHENTICATED_PREFIX):
            refusal = await _authenticate(scope, headers.get("authorization"))
        if refusal is not None:
            await refusal(scope, receive, reply.send)
            return
        body = await self._read_body(receive, cap)
        if body is None:
            return  # the client went away
        if isinstance(body, Response):
            await body(scope, receive, reply.send)
            return
        await self.app(scope, _replay(body, receive), reply.send)

    async def _read_body(self, receive: Receive, cap: int) -> bytes | Response | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.settings.body_timeout_s):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > cap:
                        return _too_large(cap)
                    chunks.append(chunk)
                    more = bool(message.get("more_body", False))
        except TimeoutError:
            log.debug("http: a request body was slower than the deadline")
            return error_response(
                408,
                "body_timeout",
                "request body did not arrive within"
                f" {self.settings.body_timeout_s:g} s",
                _CLOSE,
            )
        return b"".join(chunks)


def _declared_length(headers: Headers) -> int | None:
    """Declared body size: 0 for none, ``None`` when chunked (unknown)."""
    if "transfer-encoding" in headers:
        return None
    # h11 has refused a malformed Content-Length before the app runs.
    return int(headers.get("content-length", "0") or 0)


def _too_large(cap: int) -> Response:
    return error_response(
        413,
        "body_too_large",
        f"request body is larger than this route's limit of {cap} bytes",
        _CLOSE,
    )


async def _authenticate(scope: Scope, authorization: str | None) -> Response | None:
    authenticator: Authenticator | None = getattr(
        scope["app"].state, "authenticator", None
    )
    if authenticator is None:  # not started yet: the route answers for itself
        return None
    client = scope.get("client")
    try:
        await authenticator.authenticate(
            authorization, None, client=client[0] if client else None
        )
    except TooManyFailures as err:
        refusal = throttled(err)
        headers = {**(refusal.headers or {}), **_CLOSE}
        return error_response(429, "too_many_requests", refusal.detail, headers)
    except AuthError as err:
        response = unauthorized_response(err.message)
        response.headers.update(_CLOSE)
        return response
    except ServiceError as err:  # e.g. the store cannot answer: 503, retry
        response = service_error_response(err)
        response.headers.update(_CLOSE)
        return response
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then waits on."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # http.disconnect, when it comes
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class _Reply:
    """The ``send`` side: adds the headers and remembers whether it started."""

    def __init__(self, send: Send, extra: RawHeaders) -> None:
        self._send = send
        self._extra = extra
        self.started = False

    async def send(self, message: Message) -> None:
        """Forward ``message``; a response start gets the guard's headers."""
        if message["type"] == "http.response.start":
            self.started = True
            message = {**message, "headers": _merged(message["headers"], self._extra)}
        await self._send(message)


def _merged(headers: RawHeaders, extra: RawHeaders) -> RawHeaders:
    present = {name.lower() for name, _ in headers}
    merged = list(headers)
    merged.extend((name, value) for name, value in extra if name not in present)
    json = any(
        name.lower() == b"content-type" and value.startswith(b"application/json")
        for name, value in headers
    )
    if json and b"cache-control" not in present:
        merged.append((b"cache-control", b"no-store"))
    return merged
