"""House-style gates: import direction, core purity, module size, no grab-bags."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from wall.openapi import openapi_document

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("wall", "vision", "devices", "layouts")
CORE = ("wall/walls/core", "wall/alarms/core.py", "layouts", "devices/protocols")
FORBIDDEN_IN_CORE = {
    "asyncio",
    "socket",
    "fastapi",
    "uvicorn",
    "paho",
    "aiortc",
    "onnxruntime",
    "websockets",
    "cv2",
    "av",
    "sqlite3",
    "threading",
    "subprocess",
}


def modules(prefix: str) -> list[Path]:
    return sorted(p for p in (ROOT / prefix).rglob("*.py") if ".venv" not in p.parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("leaf", ["vision", "devices", "layouts"])
def test_leaf_packages_never_import_wall_or_each_other(leaf: str) -> None:
    others = {"wall", "vision", "devices", "layouts"} - {leaf}
    bad = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in modules(leaf)
        for name in imports_of(p)
        if name.split(".")[0] in others
    ]
    assert bad == []


@pytest.mark.parametrize("core", CORE)
def test_core_is_pure(core: str) -> None:
    bad: list[str] = []
    for p in modules(core):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        bad.extend(
            f"{p.relative_to(ROOT)} imports {name}"
            for name in imports_of(p)
            if name.split(".")[0] in FORBIDDEN_IN_CORE
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                call = f"{node.value.id}.{node.attr}"
                if call in {
                    "time.time",
                    "time.monotonic",
                    "datetime.now",
                    "datetime.utcnow",
                }:
                    bad.append(f"{p.relative_to(ROOT)} reads the clock ({call})")
    assert bad == []


def test_no_grab_bag_modules_and_modules_stay_small() -> None:
    too_big = []
    for pkg in PACKAGES:
        for p in modules(pkg):
            assert p.stem not in {"utils", "helpers", "misc", "common"}, p
            lines = len(p.read_text(encoding="utf-8").splitlines())
            if lines > 600:  # the soft limit is ~400; 600 is the hard stop
                too_big.append(f"{p.relative_to(ROOT)}: {lines} lines")
    assert too_big == []


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(openapi_document())), (
        "openapi.json is stale: run `make openapi` and commit it"
    )
