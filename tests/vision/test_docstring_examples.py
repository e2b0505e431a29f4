"""The ``Examples:`` blocks of the vision maths modules hold (HS13)."""

from __future__ import annotations

import doctest
import importlib

import pytest

PURE_MODULES_WITH_EXAMPLES = [
    "vision.types",
    "vision.boxes",
    "vision.letterbox",
    "vision.families",
    "vision.families.anchors",
    "vision.families.yolox",
    "vision.families.yolov8",
    "vision.zones",
    "vision.debounce",
    "vision.density",
    "vision.tracker",
    "vision.hazards",
]


@pytest.mark.parametrize("module", PURE_MODULES_WITH_EXAMPLES)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
