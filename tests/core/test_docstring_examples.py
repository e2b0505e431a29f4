"""The `Examples:` blocks of the pure wall core hold (HS13)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "wall.core.commands",
        "wall.core.wall_state",
        "wall.core.schedule",
        "wall.core.tours",
    ],
)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
