"""The docs name what the code has: every bus topic is in the README's catalogue."""

from __future__ import annotations

from pathlib import Path

import wall.app  # noqa: F401 - importing the app declares every capability's topics
from wall.platform.event_bus import catalogue

ROOT = Path(__file__).resolve().parents[1]


def test_every_declared_topic_is_in_the_readme_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [t.name for t in catalogue()]
    assert len(names) >= 10
    assert [n for n in names if f"`{n}`" not in readme] == []
