"""Exception → HTTP mapping, in one place (house style HS10)."""

from __future__ import annotations

from collections.abc import Mapping
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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorBody,
        "description": "Refused; `error` is a code the pages translate.",
    },
    "5XX": {"model": ErrorBody, "description": "Unavailable now; retry later."},
}
"""Declared on every router, so the OpenAPI document names the error body."""


def _error(
    body: ErrorBody, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json"), status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, err: ServiceError) -> JSONResponse:
        body = ErrorBody(error=err.code, message=err.message, details=err.details)
        return _error(body, http_status(err))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(err.status_code, "http_error")
        body = ErrorBody(error=code, message=str(err.detail))
        return _error(body, err.status_code, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")}
            for e in err.errors()
        ]
        summary = "; ".join(
            f"{'.'.join(str(p) for p in d['loc'])}: {d['message']}" for d in details
        )
        body = ErrorBody(error="invalid_request", message=summary, details=details)
        return _error(body, 422)
