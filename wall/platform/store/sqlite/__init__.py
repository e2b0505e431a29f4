"""The SQLite implementation of the store protocols (one worker thread, WAL)."""

from wall.platform.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
