"""One SQLite connection on its own worker thread (HS8).

sqlite3 wants a connection used by the thread that made it; the engine keeps
two of these, a writer and a reader, so reads never queue behind writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

Done = Callable[[str | None], None]
"""Called on the worker thread when a call ends: the database error, or None."""


class ConnectionThread:
    """A worker thread that owns one connection.

    Args:
        name: Thread name prefix (tests and the leak gate look for it).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def start(
        self, connect: Callable[..., sqlite3.Connection], *args: Any
    ) -> None:
        """Start the thread and open the connection on it with ``connect(*args)``."""
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=self._name
        )
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect, *args)

    async def call(
        self, work: Callable[[sqlite3.Connection], T], done: Done | None = None
    ) -> T:
        """Run ``work(connection)`` on the thread; ``done`` hears how it ended.

        Raises:
            RuntimeError: If the thread is not started.
        """
        executor, conn = self._executor, self._conn
        if executor is None or conn is None:
            raise RuntimeError(f"{self._name} is not running")
        future = executor.submit(work, conn)
        if done is not None:
            future.add_done_callback(lambda f: done(_database_error(f)))
        return await asyncio.wrap_future(future)

    async def stop(self) -> None:
        """Close the connection on its thread and join the thread; idempotent."""
        executor, self._executor = self._executor, None
        conn, self._conn = self._conn, None
        if executor is None:
            return
        try:
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        finally:
            # The queue is drained by the close above, so joining the idle
            # thread is instant; only a cancelled start() waits for connect.
            executor.shutdown(wait=True, cancel_futures=True)


def _database_error(future: Future[Any]) -> str | None:
    if future.cancelled():
        return None
    err = future.exception()
    return str(err) if isinstance(err, sqlite3.Error) else None
