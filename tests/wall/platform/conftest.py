"""Fixtures of the platform tests: a settable clock and a token store on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.clocks import SettableClock
from tests.wall.platform.token_fixtures import TOKENS_T0
from wall.platform.store.sqlite import SqliteStore


@pytest.fixture
def clock() -> SettableClock:
    """A UTC clock at :data:`TOKENS_T0` that tests move by hand."""
    return SettableClock(TOKENS_T0)


@pytest.fixture
async def store(tmp_path: Path, clock: SettableClock) -> AsyncIterator[SqliteStore]:
    """A token store in ``tmp_path`` on :func:`clock`."""
    async with SqliteStore(tmp_path / "tokens.sqlite3", now=clock) as opened:
        yield opened
