"""Gates every test runs under: no leaked threads or tasks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.support.fixtures"]

# Threads that libraries start once per process and keep by design.
_LONG_LIVED_PREFIXES = (
    "asyncio_",
    "ThreadPoolExecutor",
    "Dummy-",
    "pydevd",
    "playwright",
)


def _ours(threads: set[threading.Thread]) -> list[str]:
    return sorted(
        t.name
        for t in threads
        if t.is_alive() and not t.name.startswith(_LONG_LIVED_PREFIXES)
    )


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves reader or worker threads running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    leaked: list[str] = []
    while time.monotonic() < deadline:
        leaked = _ours(set(threading.enumerate()) - before)
        if not leaked:
            return
        time.sleep(0.05)
    pytest.fail(f"test leaked threads: {leaked}")
