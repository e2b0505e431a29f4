"""Every ``Examples:`` block in the packages' docstrings holds (HS13).

Modules are discovered, so a new module's examples are checked without
anyone remembering to list it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("wall", "vision", "devices", "layouts")


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names.extend(
            info.name
            for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
            if not info.name.endswith("__main__")
        )
    return sorted(names)


MODULES = _modules()


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_the_pure_maths_is_documented_by_examples() -> None:
    with_examples = {
        m for m in MODULES if doctest.testmod(importlib.import_module(m)).attempted
    }
    expected = {
        "devices.cameras.packets",
        "devices.cameras.ring",
        "devices.backoff",
        "devices.redaction",
        "layouts.streams",
        "wall.live.codecs",
        "layouts.solver",
        "vision.boxes",
        "vision.zones",
        "vision.density",
        "vision.families.yolov8",
        "vision.families.yolox",
        "wall.walls.core.tours",
    }
    assert expected <= with_examples
