"""Exception → HTTP mapping, in one place (house style HS10)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wall.errors import ApiError
from wall.streaming import LiveViewError

_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
}


def install_handlers(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        body = {"error": err.code, "message": err.message, "details": err.details}
        return JSONResponse(body, status_code=err.status)

    @app.exception_handler(LiveViewError)
    async def _live_error(request: Request, err: LiveViewError) -> JSONResponse:
        body = {"error": err.state, "message": err.message, "details": None}
        return JSONResponse(body, status_code=err.status)

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
