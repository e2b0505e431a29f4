"""The house rules as checks over a source tree: import arrows, purity, sizes.

Each check takes the root of a tree and returns a list of findings (empty when
the tree keeps the rule), so the architecture test runs them over the project
and over small fixture trees that prove each one can fail.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

FORBIDDEN_IN_PURE = frozenset(
    {
        "aiortc",
        "asyncio",
        "av",
        "concurrent",
        "fastapi",
        "http",
        "httpx",
        "multiprocessing",
        "onnxruntime",
        "paho",
        "requests",
        "selectors",
        "socket",
        "sqlite3",
        "ssl",
        "starlette",
        "subprocess",
        "threading",
        "time",
        "urllib.request",
        "uvicorn",
        "websockets",
    }
)
"""Modules a pure core never imports (I/O, concurrency, clocks)."""

CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today", "monotonic", "perf_counter"})
"""Attribute reads that are clock reads in any spelling (``datetime.now``…)."""

CLOCK_NAMES = frozenset(
    {"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time_ns"}
)
"""Bare names that only a clock import brings (``from time import monotonic``)."""

MEDIA_IO_ATTRIBUTES = frozenset(
    {"VideoCapture", "VideoWriter", "imread", "imwrite", "imshow", "waitKey"}
)
"""OpenCV calls that do I/O; pure modules may use cv2 for maths only."""


@dataclass(frozen=True, slots=True)
class Module:
    """One Python module of the tree.

    Attributes:
        name: dotted name, e.g. ``wall.walls.core.tours``.
        path: the file.
        tree: its parsed AST.
    """

    name: str
    path: Path
    tree: ast.Module


def scan(root: Path, packages: Iterable[str]) -> dict[str, Module]:
    """Every module below ``root/<package>`` for the given top-level packages."""
    found: dict[str, Module] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found[".".join(parts)] = Module(".".join(parts), path, tree)
    return found


def imported_names(module: Module) -> set[str]:
    """Dotted names a module imports anywhere (lazy and TYPE_CHECKING ones too)."""
    names: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def internal_imports(
    module: Module, modules: Mapping[str, Module], with_packages: bool = False
) -> set[str]:
    """The project modules ``module`` imports (the deepest module of each name).

    With ``with_packages``, the packages above them count too: importing
    ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first.
    """
    targets: set[str] = set()
    for name in imported_names(module):
        parts = name.split(".")
        prefixes = [".".join(parts[:end]) for end in range(1, len(parts) + 1)]
        found = [p for p in prefixes if p in modules and p != module.name]
        targets.update(found if with_packages else found[-1:])
    return targets


@dataclass(frozen=True, slots=True)
class ArrowTable:
    """Which unit may import which, as written in ARCHITECTURE.md.

    Attributes:
        allowed: unit → entries it may import. An entry ``x`` is the unit
            ``x`` itself; ``x.*`` is everything below ``x``; ``*`` is everything.
    """

    allowed: Mapping[str, frozenset[str]]

    def unit_of(self, module: str) -> str | None:
        """The longest unit that is ``module`` or a package above it."""
        best: str | None = None
        for unit in self.allowed:
            if (module == unit or module.startswith(unit + ".")) and (
                best is None or len(unit) > len(best)
            ):
                best = unit
        return best

    def permits(self, source: str, target: str) -> bool:
        """Whether module ``source`` may import module ``target``."""
        unit, target_unit = self.unit_of(source), self.unit_of(target)
        if unit is None:
            return False
        if unit == target_unit:
            return True
        for entry in self.allowed[unit]:
            if entry == "*":
                return True
            if entry.endswith(".*") and (
                target == entry[:-2] or target.startswith(entry[:-1])
            ):
                return True
            if entry == target_unit or target == entry:
                return True
        return False


_ROW = re.compile(r"^\|\s*`(?P<unit>[\w.]+)`[^|]*\|(?P<allowed>[^|]*)\|")


def parse_arrow_table(markdown: str) -> ArrowTable:
    """Read the rows ``| `unit` … | `a`, `b.*` |`` of the architecture page."""
    allowed: dict[str, frozenset[str]] = {}
    for line in markdown.splitlines():
        match = _ROW.match(line.strip())
        if match:
            cell = match.group("allowed")
            entries = set(re.findall(r"`([\w.*]+)`", cell))
            if "everything" in cell:
                entries.add("*")
            allowed[match.group("unit")] = frozenset(entries)
    return ArrowTable(allowed)


def arrow_violations(modules: Mapping[str, Module], table: ArrowTable) -> list[str]:
    """Imports the table does not allow, and modules that belong to no unit."""
    found: list[str] = []
    for name, module in sorted(modules.items()):
        if table.unit_of(name) is None:
            found.append(f"{name}: in no unit of the arrow table")
            continue
        found.extend(
            f"{name} imports {target}"
            for target in sorted(internal_imports(module, modules))
            if not table.permits(name, target)
        )
    return found


def is_pure(name: str, patterns: Iterable[str]) -> bool:
    """Whether the dotted name matches a pure pattern and no ``!`` exclusion.

    Examples:
        >>> is_pure("vision.boxes", ["vision", "vision.*", "!vision.onnx*"])
        True
        >>> is_pure("vision.onnx.session", ["vision.*", "!vision.onnx*"])
        False
    """
    patterns = list(patterns)
    excluded = any(
        fnmatch.fnmatchcase(name, p[1:]) for p in patterns if p.startswith("!")
    )
    return not excluded and any(
        fnmatch.fnmatchcase(name, p) for p in patterns if not p.startswith("!")
    )


def impurities(module: Module) -> list[str]:
    """What makes one module impure: I/O or clock imports and clock reads."""
    found = [
        f"{module.name} imports {name}"
        for name in sorted(imported_names(module))
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_PURE)
    ]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES:
            found.append(
                f"{module.name} reads the clock (.{node.attr}, line {node.lineno})"
            )
        elif isinstance(node, ast.Attribute) and node.attr in MEDIA_IO_ATTRIBUTES:
            found.append(
                f"{module.name} does media I/O (.{node.attr}, line {node.lineno})"
            )
        elif isinstance(node, ast.Name) and node.id in CLOCK_NAMES:
            found.append(
                f"{module.name} reads the clock ({node.id}, line {node.lineno})"
            )
    return found


def purity_violations(
    modules: Mapping[str, Module], patterns: Iterable[str]
) -> list[str]:
    """Impure pure modules, and pure modules importing non-pure project modules.

    A pure module may import only pure modules (or packages whose ``__init__``
    imports nothing), so purity holds transitively.
    """
    pure = [m for n, m in sorted(modules.items()) if is_pure(n, patterns)]
    found: list[str] = []
    for module in pure:
        found.extend(impurities(module))
        found.extend(
            f"{module.name} (pure) imports {target}, which is not pure"
            for target in sorted(internal_imports(module, modules, True))
            if not is_pure(target, patterns) and imported_names(modules[target])
        )
    return found


def dynamic_imports(modules: Mapping[str, Module]) -> list[str]:
    """Calls of ``importlib.import_module`` / ``__import__`` that hide a dependency."""
    found: list[str] = []
    for name, module in sorted(modules.items()):
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if called in {"import_module", "__import__"}:
                found.append(f"{name}: dynamic import (line {node.lineno})")
    return found


def oversized(root: Path, folders: Iterable[str], limit: int) -> list[str]:
    """Source files (Python and JavaScript) longer than ``limit`` lines."""
    found: list[str] = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in {".py", ".js"} or "vendor" in path.parts:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def long_functions(modules: Mapping[str, Module], limit: int) -> list[str]:
    """Functions (and methods) whose code, docstring aside, spans over ``limit`` lines."""
    found: list[str] = []
    for name, module in sorted(modules.items()):
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if (
                    len(body) > 1
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    body = body[1:]  # the docstring is documentation, not code
                docstring_lines = body[0].lineno - node.body[0].lineno
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                length -= docstring_lines
                if length > limit:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found
