"""What the service layer persists through: one protocol per concern.

Each capability depends on the narrowest protocol it needs (tokens, audit
log, key-value rows); :class:`Store` bundles them for the composition root.
SQLite implements them now (:mod:`wall.platform.store.sqlite`); a PostgreSQL
store will be one more implementation, not edits in every service.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from wall.platform.audit import AuditEntry, AuditLog
from wall.platform.tokens import TokenRepository
from wall.platform.wire import JsonValue


class KeyValueRows(Protocol):
    """JSON values under text keys (e.g. ``layout:<id>``)."""

    async def get_kv(self, key: str) -> JsonValue | None:
        """Return the stored value, or ``None`` if the key is absent."""
        ...

    async def put_kv(self, key: str, value: JsonValue) -> None:
        """Insert or replace a value."""
        ...

    async def list_kv(self, prefix: str) -> dict[str, JsonValue]:
        """Every key starting with ``prefix`` with its value."""
        ...

    async def delete_kv(self, key: str) -> bool:
        """Delete a key; True if it existed."""
        ...


class AuditedRows(KeyValueRows, Protocol):
    """Key-value rows whose changes commit together with their audit entry."""

    async def write_audited(
        self,
        entry: AuditEntry,
        *,
        put: Mapping[str, JsonValue] | None = None,
        delete: Collection[str] = (),
    ) -> int:
        """Put and delete rows and append ``entry``, all or nothing; its id."""
        ...


class Store(TokenRepository, AuditLog, AuditedRows, Protocol):
    """Persistence used by the service layer; SQLite now, PostgreSQL later."""

    async def close(self) -> None:
        """Release the connection; idempotent."""
        ...

    async def ping(self) -> None:
        """Round-trip a trivial query; raises :class:`StoreError` if down."""
        ...
