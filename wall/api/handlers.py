"""Exception → HTTP mapping, in one place (house style HS10)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def install_handlers(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, err: ServiceError) -> JSONResponse:
        body = {"error": err.code, "message": err.message, "details": err.details}
        return JSONResponse(body, status_code=http_status(err))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(err.status_code, "http_error")
        body = {"error": code, "message": str(err.detail), "details": None}
        return JSONResponse(body, status_code=err.status_code, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")}
            for e in err.errors()
        ]
        summary = "; ".join(
            f"{'.'.join(str(p) for p in d['loc'])}: {d['message']}" for d in details
        )
        body = {"error": "invalid_request", "message": summary, "details": details}
        return JSONResponse(body, status_code=422)
