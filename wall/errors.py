"""Service-level errors that map to HTTP responses in one place."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with an HTTP status, a code and a message for people."""

    status = 400

    def __init__(
        self, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(ApiError):
    """The resource does not exist."""

    status = 404


class Unavailable(ApiError):
    """The resource exists but cannot serve now."""

    status = 503


class Conflict(ApiError):
    """The request conflicts with the current state (e.g. a layout in use)."""

    status = 409


class Busy(ApiError):
    """Too many commands are waiting; the caller should retry."""

    status = 429
