"""Where detection event records are kept: a repository protocol and its SQLite rows.

The SQLite implementation keeps one key-value row per record in the platform
store. :class:`EventKey` owns that namespace (``detection.event.<id>``): it
builds and parses every key, so no other module spells the prefix. Snapshot
metadata (whether a record has a picture, and its URL) lives in the record;
the JPEGs themselves are :class:`~wall.detection.snapshots.EventSnapshots`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from pydantic import ValidationError

from wall.detection.records import CrowdingRecord, HazardRecord, parse_record
from wall.platform.store.protocols import KeyValueRows
from wall.platform.wire import JsonValue

__all__ = [
    "DetectionRepository",
    "EventKey",
    "SqliteDetectionRepository",
    "StoredEvents",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredEvents:
    """What the repository holds at start-up.

    Attributes:
        records: The newest records, oldest first.
        last_number: The highest event number ever stored (0 if none).
    """

    records: list[CrowdingRecord | HazardRecord]
    last_number: int


class DetectionRepository(Protocol):
    """Persistence of detection event records."""

    async def load(self, limit: int) -> StoredEvents:
        """The newest ``limit`` records and the last event number."""
        ...

    async def add(self, record: CrowdingRecord | HazardRecord) -> None:
        """Keep a new record."""
        ...

    async def remove(self, event_id: str) -> None:
        """Forget a pruned record (idempotent)."""
        ...


@dataclass(frozen=True, slots=True)
class EventKey:
    """The store key of one event record: ``detection.event.det-<number>``.

    Examples:
        >>> str(EventKey("det-00000042"))
        'detection.event.det-00000042'
        >>> EventKey.parse("detection.event.det-00000042").number
        42
    """

    PREFIX: ClassVar[str] = "detection.event."
    event_id: str

    def __str__(self) -> str:
        return self.PREFIX + self.event_id

    @property
    def number(self) -> int:
        """The event's sequence number (the id's last part)."""
        return int(self.event_id.rsplit("-", 1)[-1])

    @classmethod
    def parse(cls, key: str) -> EventKey:
        """The key of a stored row.

        Raises:
            ValueError: A key outside the namespace or without a number.
        """
        if not key.startswith(cls.PREFIX):
            raise ValueError(f"{key!r} is not a detection event key")
        parsed = cls(key.removeprefix(cls.PREFIX))
        parsed.number  # noqa: B018 -- raises ValueError for an id without a number
        return parsed


class SqliteDetectionRepository:
    """Records as key-value rows of the platform store.

    Args:
        rows: The platform store's key-value rows.
    """

    def __init__(self, rows: KeyValueRows) -> None:
        self.rows = rows

    async def load(self, limit: int) -> StoredEvents:
        """The newest ``limit`` readable records; unreadable rows are logged."""
        keyed: dict[EventKey, JsonValue] = {}
        for text, value in (await self.rows.list_kv(EventKey.PREFIX)).items():
            try:
                keyed[EventKey.parse(text)] = value
            except ValueError as err:
                log.warning("detection row %s ignored: %s", text, err)
        last = max((k.number for k in keyed), default=0)
        records = []
        newest = sorted(keyed, key=lambda k: k.number)[-limit:] if limit else []
        for key in newest:
            try:
                records.append(parse_record(keyed[key]))
            except ValidationError as err:
                log.warning("detection row %s unreadable: %s", key, err)
        return StoredEvents(records, last)

    async def add(self, record: CrowdingRecord | HazardRecord) -> None:
        """Write the record's row."""
        await self.rows.put_kv(str(EventKey(record.id)), record.model_dump(mode="json"))

    async def remove(self, event_id: str) -> None:
        """Delete the record's row."""
        await self.rows.delete_kv(str(EventKey(event_id)))
