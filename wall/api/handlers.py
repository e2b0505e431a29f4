"""Exception → HTTP mapping, in one place (house style HS10)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wall.api.schemas import ErrorBody
from wall.platform.errors import (
    Busy,
    Conflict,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    ServiceError,
    Unavailable,
    Unsupported,
)

_STATUS: dict[type[ServiceError], int] = {
    Malformed: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unsupported: 415,
    Invalid: 422,
    Busy: 429,
    Unavailable: 503,
}
"""The one mapping of domain errors to HTTP statuses (HS10)."""


def http_status(err: ServiceError) -> int:
    """The HTTP status for a domain error (the nearest mapped base class)."""
    for kind in type(err).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 400


_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
}

MAX_LISTED = 50
"""Error lists (validation findings, layout issues) stop here; ``total`` counts all."""

RETRY_AFTER_S = 2
"""What a 503 tells clients to wait, unless the error names its own wait."""


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorBody,
        "description": "Refused; `error` is a code the pages translate.",
    },
    "5XX": {"model": ErrorBody, "description": "Unavailable now; retry later."},
}
"""Declared on every router, so the OpenAPI document names the error body."""


def _body_json(body: ErrorBody) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude=None if body.total else {"total"})


def _error(
    body: ErrorBody, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(_body_json(body), status, headers=headers)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON :class:`ErrorBody` response (for layers below the routers)."""
    return _error(ErrorBody(error=code, message=message), status, headers)


def error_bytes(status: int, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 error response that closes the connection, as bytes.

    For the protocol layer, where no ASGI app runs (a request head too slow).
    """
    payload = json.dumps(_body_json(ErrorBody(error=code, message=message)))
    body = payload.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "cache-control: no-store\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def unauthorized_response(message: str) -> JSONResponse:
    """401 with ``WWW-Authenticate: Bearer`` (the same as :func:`requires`)."""
    return error_response(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def service_error_response(err: ServiceError) -> JSONResponse:
    """The response for a domain error: its status, body and (503) retry hint."""
    status = http_status(err)
    details, total = _capped(err.details, err.total)
    body = ErrorBody(error=err.code, message=err.message, details=details, total=total)
    headers = None
    if status == 503:
        # A subclass may know better (a store busy for a backup says how long).
        wait = getattr(err, "retry_after_s", None) or RETRY_AFTER_S
        headers = {"Retry-After": str(max(1, round(wait)))}
    return _error(body, status, headers)


def internal_error_response() -> JSONResponse:
    """500 for a bug: a JSON body that says where to look, nothing more."""
    return error_response(
        500, "internal_error", "internal error; the service log has the details"
    )


def _capped(
    details: Sequence[dict[str, Any]] | None, total: int | None
) -> tuple[list[dict[str, Any]] | None, int | None]:
    if details is None:
        return None, None
    listed = list(details[:MAX_LISTED])
    total = max(total or 0, len(details))
    return listed, (total if total > len(listed) else None)


def _validation_body(err: RequestValidationError) -> ErrorBody:
    errors = err.errors()
    details = [
        {"loc": list(e.get("loc", ())), "message": e.get("msg", "")}
        for e in errors[:MAX_LISTED]
    ]
    summary = "; ".join(
        f"{'.'.join(str(p) for p in d['loc'])}: {d['message']}" for d in details[:5]
    )
    if len(errors) > 5:
        summary += f" (and {len(errors) - 5} more)"
    total = len(errors) if len(errors) > MAX_LISTED else None
    return ErrorBody(
        error="invalid_request", message=summary, details=details, total=total
    )


def install_handlers(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, err: ServiceError) -> JSONResponse:
        return service_error_response(err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(err.status_code, "http_error")
        body = ErrorBody(error=code, message=str(err.detail))
        return _error(body, err.status_code, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        return _error(_validation_body(err), 422)

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer; the client gets no detail.
        return internal_error_response()
