"""Domain errors every capability raises; only the API maps them to HTTP.

A service says *what* went wrong (not found, conflict, busy…) with a
machine-readable ``code`` and a message for people. It never names an HTTP
status: MQTT and queue workers call the same services. The one mapping to
HTTP statuses is :mod:`wall.api.handlers`.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of the domain errors: a ``code``, a message and optional details.

    Attributes:
        code: machine-readable reason (``"layout_in_use"``…); pages translate it.
        message: for people, English; never carries a secret.
        details: a list of structured findings (e.g. every layout issue).
        total: how many findings there were, when ``details`` lists only the
            first ones; ``None`` when it lists them all.
    """

    def __init__(
        self,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        total: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.total = total


class NotFound(ServiceError):
    """The thing does not exist."""


class Malformed(ServiceError):
    """The request cannot be understood (e.g. an SDP offer that does not parse)."""


class Invalid(ServiceError):
    """The request is understood but refused by a rule (a layout with errors)."""


class Forbidden(ServiceError):
    """The caller's role does not allow this (a forced ack without admin)."""


class Conflict(ServiceError):
    """The request conflicts with the current state (e.g. a layout in use)."""


class Unsupported(ServiceError):
    """The resource exists but its media cannot be served (e.g. H.265 only)."""


class Busy(ServiceError):
    """Too many requests are waiting or running; the caller should retry."""


class Unavailable(ServiceError):
    """The resource exists but cannot serve now."""
