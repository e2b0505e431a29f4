"""Masking secrets in every log record (house style rule 8).

Browsers cannot set headers on a WebSocket, so pages pass their token as
``?access_token=``; uvicorn logs WebSocket request lines with the full URL,
and library messages may quote a camera URL with its password. Logger
filters are not inherited by child loggers, so the masking sits in the
record factory: every record of every logger is masked as it is created,
before any handler formats it.
"""

from __future__ import annotations

import logging
from typing import Any

from devices.redaction import mask_text


class SecretRedactingFactory:
    """Wraps a log-record factory; masks tokens and URL credentials."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """Create the record, then mask its message if it holds a secret."""
        record: logging.LogRecord = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: leave it to logging
            return record
        masked = mask_text(message)
        if masked != message and not _mask_arguments(record):
            record.msg, record.args = masked, None
        return record


def _mask_arguments(record: logging.LogRecord) -> bool:
    """Mask each argument in place; ``False`` if that leaves a secret.

    Formatters that read ``record.args`` (uvicorn's access log unpacks its
    five) keep working when the arguments keep their shape.
    """
    if not isinstance(record.args, tuple) or not isinstance(record.msg, str):
        return False
    masked_args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
    masked_msg = mask_text(record.msg)
    try:
        candidate = masked_msg % masked_args if masked_args else masked_msg
    except (TypeError, ValueError):
        return False
    if mask_text(candidate) != candidate:  # a secret split across arguments
        return False
    record.msg, record.args = masked_msg, masked_args
    return True


def install() -> None:
    """Mask secrets in every record from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, SecretRedactingFactory):
        logging.setLogRecordFactory(SecretRedactingFactory(current))
