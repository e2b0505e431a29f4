"""Where conditions are kept: a repository protocol and its SQLite implementation.

The SQLite implementation keeps one key-value row per condition in the
platform store under :class:`ConditionKey`'s namespace, and writes the audit
line of each change (O2) in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from wall.conditions.core import ConditionState, check_name
from wall.platform.audit import AuditEntry
from wall.platform.store.protocols import AuditedRows
from wall.platform.wire import JsonValue

__all__ = ["ConditionKey", "ConditionRepository", "SqliteConditionRepository"]

log = logging.getLogger(__name__)


class ConditionRepository(Protocol):
    """Persistence of condition states."""

    async def load(self) -> list[ConditionState]:
        """Every stored condition."""
        ...

    async def save(self, state: ConditionState) -> None:
        """Keep a changed condition and its audit line, both or neither.

        Raises:
            StoreError: nothing was kept.
        """
        ...


@dataclass(frozen=True, slots=True)
class ConditionKey:
    """The store key of one condition: ``detection.condition.<name>``.

    Examples:
        >>> str(ConditionKey("flood_warning"))
        'detection.condition.flood_warning'
        >>> ConditionKey.parse("detection.condition.flood_warning").name
        'flood_warning'
    """

    PREFIX: ClassVar[str] = "detection.condition."
    name: str

    def __str__(self) -> str:
        return self.PREFIX + self.name

    @classmethod
    def parse(cls, key: str) -> ConditionKey:
        """The key of a stored row.

        Raises:
            ValueError: A key outside the namespace or with a malformed name.
        """
        if not key.startswith(cls.PREFIX):
            raise ValueError(f"{key!r} is not a condition key")
        return cls(check_name(key.removeprefix(cls.PREFIX)))


class SqliteConditionRepository:
    """Conditions as key-value rows of the platform store.

    Args:
        store: The platform store (rows and the audit log).
    """

    def __init__(self, store: AuditedRows) -> None:
        self.store = store

    async def load(self) -> list[ConditionState]:
        """Every stored condition (unreadable rows are logged and skipped)."""
        states = []
        for key, value in (await self.store.list_kv(ConditionKey.PREFIX)).items():
            try:
                states.append(_state(ConditionKey.parse(key).name, value))
            except (ValueError, TypeError) as err:
                log.warning("condition row %s unreadable: %s", key, err)
        return states

    async def save(self, state: ConditionState) -> None:
        """Write the row and append the audit line in one transaction."""
        value: dict[str, JsonValue] = {
            "active": state.active,
            "changed_at": None
            if state.changed_at is None
            else state.changed_at.isoformat(timespec="milliseconds"),
            "changed_by": state.changed_by,
        }
        entry = AuditEntry(
            state.changed_by or "system",
            "detection.condition.set",
            f"condition:{state.name}",
            detail={"active": state.active},
        )
        await self.store.write_audited(
            entry, put={str(ConditionKey(state.name)): value}
        )


def _state(name: str, value: JsonValue) -> ConditionState:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    at, by = value.get("changed_at"), value.get("changed_by")
    return ConditionState(
        name,
        value.get("active") is True,
        datetime.fromisoformat(at) if isinstance(at, str) else None,
        by if isinstance(by, str) else None,
    )
