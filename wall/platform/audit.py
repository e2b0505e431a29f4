"""The append-only audit log (O2): its entries and its repository protocol.

The SQLite implementation is :class:`wall.platform.store.sqlite.audit.SqliteAuditLog`;
triggers in the schema refuse any update, delete or replace of a written
entry, and each entry carries the hash of the one before it
(:mod:`wall.platform.store.audit_chain`; ``citywall audit verify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wall.platform.wire import JsonValue


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit-log line (O2).

    Attributes:
        actor: Who did it (principal name, ``"rule:<id>"``, ``"schedule"``…).
        action: What was done, dotted, e.g. ``"layout.switch"``.
        target: What it was done to, e.g. ``"wall:main"``.
        cause: Why (alarm id, operator note…).
        detail: Extra JSON-serialisable facts; no secrets or citizen data.
        at: When, timezone-aware; ``None`` means "now" from the store's clock.
            Always set on entries read back.
        id: Database id; ``None`` until stored.
    """

    actor: str
    action: str
    target: str | None = None
    cause: str | None = None
    detail: Mapping[str, JsonValue] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None


class AuditLog(Protocol):
    """The audit log: append and page back, never rewrite."""

    async def append_audit(self, entry: AuditEntry) -> int:
        """Append an audit entry and return its id."""
        ...

    async def list_audit(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[AuditEntry, ...]:
        """Return up to ``limit`` entries, newest first, older than ``before_id``."""
        ...
