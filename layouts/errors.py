"""Layout errors and the issues they carry (every problem, with where it is)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad an issue is: errors refuse the layout, warnings only inform."""

    ERROR = "error"
    WARNING = "warning"


class IssueCode(StrEnum):
    """Machine-readable kind of a layout issue (stable; tests and the API key on it)."""

    YAML_SYNTAX = "yaml_syntax"
    DUPLICATE_KEY = "duplicate_key"
    TOO_LARGE = "too_large"
    SCHEMA = "schema"
    VERSION = "version"
    DUPLICATE_TILE_ID = "duplicate_tile_id"
    RECT_EMPTY = "rect_empty"
    RECT_OUTSIDE_CANVAS = "rect_outside_canvas"
    OVERLAP = "overlap"
    UNKNOWN_CAMERA = "unknown_camera"
    DWELL_TOO_SHORT = "dwell_too_short"
    DWELL_UNUSUAL = "dwell_unusual"
    OUTSIDE_SCOPE = "outside_scope"
    UNKNOWN_PANEL = "unknown_panel"
    WALL_SHAPE_MISMATCH = "wall_shape_mismatch"
    WALL_GEOMETRY_DIFFERS = "wall_geometry_differs"
    TILE_HIDDEN = "tile_hidden"
    DUPLICATE_LAYOUT_ID = "duplicate_layout_id"


@dataclass(frozen=True, slots=True)
class LayoutIssue:
    """One problem found in a layout.

    Attributes:
        severity: error (refuses the layout) or warning.
        code: machine-readable kind.
        message: human-readable explanation.
        path: key path in the layout document, e.g. ``tiles[2].rect.w``;
            empty for the document as a whole.
        tile_id: id of the tile concerned, if any.
        line: 1-based line in the source text, when parsed from YAML.
    """

    severity: Severity
    code: IssueCode
    message: str
    path: str = ""
    tile_id: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "(document)"
        if self.tile_id is not None:
            where += f" [tile {self.tile_id!r}]"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{self.severity}: {where}: {self.message}"


class LayoutError(Exception):
    """Base of the layout package's errors."""


class LayoutInvalid(LayoutError):
    """A layout was refused; ``issues`` lists every problem found.

    Attributes:
        source: where the layout came from (file name, ``api``, ...).
        issues: every issue found, errors first (or the first ones, see ``total``).
        total: how many issues there were, when ``issues`` lists only the first
            (a document with thousands of bad tiles); else ``len(issues)``.
    """

    def __init__(
        self, source: str, issues: Iterable[LayoutIssue], *, total: int | None = None
    ) -> None:
        self.source = source
        self.issues = tuple(
            sorted(issues, key=lambda i: i.severity is not Severity.ERROR)
        )
        self.total = len(self.issues) if total is None else total
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        count = sum(i.severity is Severity.ERROR for i in self.issues)
        if self.total > len(self.issues):
            count, lines = self.total, lines + f"\n  ... {self.total} in all"
        super().__init__(f"{source}: layout refused, {count} error(s)\n{lines}")

    @property
    def errors(self) -> tuple[LayoutIssue, ...]:
        """The issues that are errors."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)


class LayoutVersionError(LayoutInvalid):
    """A layout file has a schema version this code does not read (W8).

    Attributes:
        found: the version in the file.
        supported: the versions this code reads.
    """

    def __init__(self, source: str, found: object, supported: tuple[int, ...]) -> None:
        self.found = found
        self.supported = supported
        wanted = ", ".join(str(v) for v in supported)
        issue = LayoutIssue(
            Severity.ERROR,
            IssueCode.VERSION,
            f"layout schema version {found!r} is not supported (supported: {wanted});"
            " re-save it with this release's editor",
            path="version",
        )
        super().__init__(source, [issue])
