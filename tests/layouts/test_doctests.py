"""The Examples blocks in the layouts package's docstrings hold (HS13)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "layouts.rects",
        "layouts.schema",
        "layouts.content",
        "layouts.solver",
        "layouts.fitting",
        "layouts.presets",
        "layouts.loader",
    ],
)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
