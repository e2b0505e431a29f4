"""Dead letters in SQLite: the ``dead_letters`` table.

Implements :class:`~wall.sensors.dead_letters.DeadLetterRepository` on the
platform's :class:`~wall.platform.store.sqlite.engine.SqliteEngine`: a batch
is one transaction on the writer thread, pages and counts are read on the
reader connection. Ids never repeat (``AUTOINCREMENT``), so a page cursor
stays valid after a purge.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from wall.platform.errors import Invalid
from wall.platform.store.sqlite.engine import SqliteEngine, text_time, time_text
from wall.sensors.dead_letters import DeadLetter
from wall.sensors.retention import PURGE_BATCH, delete_in_batches

__all__ = ["SqliteDeadLetters"]

_INSERT = (
    "INSERT INTO dead_letters (received_at, topic, reason, message, raw, size)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_PAGE = "SELECT id, received_at, topic, reason, message, raw, size FROM dead_letters"
_COUNTS = "SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY reason"


def _dead_letter(row: sqlite3.Row) -> DeadLetter:
    received_at = text_time(row["received_at"])
    assert received_at is not None  # noqa: S101 - a NOT NULL column
    return DeadLetter(
        received_at=received_at,
        topic=row["topic"],
        reason=row["reason"],
        message=row["message"],
        raw=bytes(row["raw"]),
        size=row["size"],
        id=row["id"],
    )


class SqliteDeadLetters:
    """:class:`~wall.sensors.dead_letters.DeadLetterRepository` in SQLite.

    Args:
        engine: An open engine (the runtime's store).
        purge_batch: Rows per purge transaction.
    """

    def __init__(self, engine: SqliteEngine, *, purge_batch: int = PURGE_BATCH) -> None:
        self._engine = engine
        self._purge_batch = purge_batch

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> tuple[int, ...]:
        """Store a batch in one transaction; returns their ids in order."""
        rows = [
            (time_text(d.received_at), d.topic, d.reason, d.message, d.raw, d.size)
            for d in letters
        ]

        def work(conn: sqlite3.Connection) -> tuple[int, ...]:
            return tuple(int(conn.execute(_INSERT, row).lastrowid or 0) for row in rows)

        return await self._engine.transaction(work) if rows else ()

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        """Store one; returns its id."""
        (letter_id,) = await self.add_dead_letters([letter])
        return letter_id

    async def dead_letters(
        self, limit: int = 100, before_id: int | None = None
    ) -> tuple[DeadLetter, ...]:
        """A page of dead letters, newest first.

        Args:
            limit: At most this many, 1 to 1000.
            before_id: Only those with a smaller id (the last of the previous page).

        Raises:
            Invalid: ``limit`` out of range.
        """
        if not 1 <= limit <= 1000:
            raise Invalid("limit_invalid", "limit must be between 1 and 1000")
        where = "" if before_id is None else " WHERE id < :before"
        sql = f"{_PAGE}{where} ORDER BY id DESC LIMIT :limit"

        def work(conn: sqlite3.Connection) -> tuple[DeadLetter, ...]:
            rows = conn.execute(sql, {"before": before_id, "limit": limit})
            return tuple(_dead_letter(row) for row in rows)

        return await self._engine.read(work)

    async def dead_letter_counts(self) -> Mapping[str, int]:
        """How many dead letters are stored, by reason."""

        def work(conn: sqlite3.Connection) -> Mapping[str, int]:
            rows = conn.execute(_COUNTS)
            return MappingProxyType({row[0]: row[1] for row in rows})

        return await self._engine.read(work)

    async def purge_dead_letters(
        self, *, before: datetime | None = None, keep_newest: int | None = None
    ) -> int:
        """Delete those older than ``before`` and all but the newest ``keep_newest``.

        Returns:
            How many were deleted.

        Raises:
            ValueError: ``keep_newest`` is negative.
        """
        total = 0
        if before is not None:
            total += await delete_in_batches(
                self._engine,
                "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters"
                " WHERE received_at < ? LIMIT ?)",
                (time_text(before),),
                self._purge_batch,
            )
        if keep_newest is not None:
            if keep_newest < 0:
                raise ValueError("keep_newest must be >= 0")
            total += await delete_in_batches(
                self._engine,
                # ids at or below the (keep_newest + 1)-th newest; none if fewer
                "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters"
                " WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC"
                " LIMIT 1 OFFSET ?) ORDER BY id LIMIT ?)",
                (keep_newest,),
                self._purge_batch,
            )
        return total
