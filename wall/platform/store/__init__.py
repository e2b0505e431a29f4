"""Persistence: repository protocols, the SQLite implementation and its migrations."""
