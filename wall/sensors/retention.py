"""Retention: deleting old sensor rows in short batches, so the writer stays free.

One rule for every sensor table: a purge is a series of small transactions,
each deleting at most :data:`PURGE_BATCH` rows, so ingestion commits between
them instead of waiting behind one long delete.
"""

from __future__ import annotations

import sqlite3

from wall.platform.store.sqlite.engine import SqliteEngine

__all__ = ["PURGE_BATCH", "delete_in_batches"]

PURGE_BATCH = 2_000
"""Rows one purge transaction deletes: a few milliseconds of the writer."""


async def delete_in_batches(
    engine: SqliteEngine, sql: str, params: tuple[object, ...], batch: int
) -> int:
    """Run a ``DELETE`` (last parameter: the batch size) until a batch falls short.

    Args:
        engine: The open engine; each batch is one of its transactions.
        sql: The statement; its last ``?`` is bound to ``batch``.
        params: The other parameters.
        batch: Rows per transaction (>= 1).

    Returns:
        How many rows were deleted in all.

    Raises:
        ValueError: ``batch`` is below 1.
        StoreError: The database fails (batches already committed stay deleted).
    """
    if batch < 1:
        raise ValueError("batch must be >= 1")
    total = 0
    while True:

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, (*params, batch)).rowcount

        deleted = await engine.transaction(work)
        total += deleted
        if deleted < batch:
            return total
