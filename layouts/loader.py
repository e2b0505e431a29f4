"""Parse layout documents (YAML text or decoded JSON) into checked layouts."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Final

from pydantic import ValidationError

from layouts.errors import (
    IssueCode,
    LayoutInvalid,
    LayoutIssue,
    LayoutVersionError,
    Severity,
)
from layouts.schema import SUPPORTED_VERSIONS, Layout
from layouts.solver import validate_layout
from layouts.yaml_document import (
    Key,
    LineIndex,
    YamlProblem,
    YamlProblemKind,
    YamlRefused,
    dotted_path,
    nearest_line,
    read_yaml,
)

MAX_TEXT_CHARS: Final = 4 * 1024 * 1024

# Pydantic reports a bad or missing discriminator at the union, not at "kind".
_TAG_ERRORS: Final = frozenset({"union_tag_invalid", "union_tag_not_found"})

_CODES: Final[dict[YamlProblemKind, IssueCode]] = {
    "syntax": IssueCode.YAML_SYNTAX,
    "duplicate_key": IssueCode.DUPLICATE_KEY,
    "too_large": IssueCode.TOO_LARGE,
}


def _error(
    code: IssueCode, message: str, path: str = "", line: int | None = None
) -> LayoutIssue:
    return LayoutIssue(Severity.ERROR, code, message, path, None, line)


def _yaml_issue(problem: YamlProblem) -> LayoutIssue:
    path = dotted_path(problem.path)
    return _error(_CODES[problem.kind], problem.message, path, problem.line)


def _data_path(data: object, loc: tuple[Key, ...]) -> tuple[Key, ...]:
    """Drop discriminated-union tags (e.g. ``camera``) from a pydantic location."""
    keys: list[Key] = []
    node: object = data
    tag_skipped = False
    for key in loc:
        if isinstance(node, Mapping):
            if not tag_skipped and node.get("kind") == key:
                tag_skipped = True  # the union member's tag, not a document key
                continue
            node = node.get(key)
        elif (
            isinstance(node, list | tuple) and isinstance(key, int) and key < len(node)
        ):
            node = node[key]
        else:
            node = None
        tag_skipped = False
        keys.append(key)
    return tuple(keys)


def _tile_id(data: object, keys: tuple[Key, ...]) -> str | None:
    if len(keys) < 2 or keys[0] != "tiles" or not isinstance(data, Mapping):
        return None
    tiles = data.get("tiles")
    index = keys[1]
    if isinstance(tiles, list) and isinstance(index, int) and index < len(tiles):
        tile = tiles[index]
        if isinstance(tile, Mapping) and isinstance(tile.get("id"), str):
            return str(tile["id"])
    return None


MAX_SCHEMA_ISSUES: Final = 50
"""Schema errors listed one by one; the rest are counted (50,000 bad tiles)."""


def _schema_issues(
    data: object, err: ValidationError, lines: LineIndex
) -> list[LayoutIssue]:
    issues = []
    for detail in err.errors(include_url=False)[:MAX_SCHEMA_ISSUES]:
        keys = _data_path(data, tuple(detail["loc"]))
        if detail["type"] in _TAG_ERRORS:
            keys = (*keys, "kind")
        issues.append(
            LayoutIssue(
                Severity.ERROR,
                IssueCode.SCHEMA,
                detail["msg"],
                dotted_path(keys),
                _tile_id(data, keys),
                nearest_line(lines, keys) if lines else None,
            )
        )
    return issues


def _with_lines(issues: tuple[LayoutIssue, ...], lines: LineIndex) -> list[LayoutIssue]:
    if not lines:
        return list(issues)
    out = []
    for issue in issues:
        keys: tuple[Key, ...] = tuple(
            int(k) if k.isdigit() else k
            for k in issue.path.replace("[", ".").replace("]", "").split(".")
            if k
        )
        out.append(
            LayoutIssue(
                issue.severity,
                issue.code,
                issue.message,
                issue.path,
                issue.tile_id,
                nearest_line(lines, keys),
            )
        )
    return out


def _parse(data: object, source: str, lines: LineIndex) -> Layout:
    if not isinstance(data, Mapping):
        found = type(data).__name__
        raise LayoutInvalid(
            source, [_error(IssueCode.SCHEMA, f"expected a mapping, got {found}")]
        )
    if "version" in data and data["version"] not in SUPPORTED_VERSIONS:
        raise LayoutVersionError(source, data["version"], SUPPORTED_VERSIONS)
    try:
        layout = Layout.model_validate(data)
    except ValidationError as err:
        issues = _schema_issues(data, err, lines)
        raise LayoutInvalid(source, issues, total=err.error_count()) from err
    # Geometry, ids and dwells are checked against the wall the layout was
    # drawn for; cameras are checked by whoever knows them (save time, W7).
    report = validate_layout(layout, layout.for_wall)
    if not report.ok:
        raise LayoutInvalid(source, _with_lines(report.errors, lines))
    return layout


def parse_layout_data(data: object, source: str) -> Layout:
    """Check decoded layout data (e.g. an API JSON body) and return the layout.

    Args:
        data: the decoded document.
        source: where it came from, for messages.

    Returns:
        The layout, valid on its own ``for_wall`` geometry.

    Raises:
        LayoutVersionError: the schema version is not supported (W8).
        LayoutInvalid: anything else is wrong; ``issues`` lists every error.
    """
    return _parse(data, source, {})


def parse_layout_yaml(text: str, source: str) -> Layout:
    r"""Parse a layout YAML document and return the checked layout.

    Every error is listed with its key path, tile id and line: unknown keys or
    content kinds (W8), bad values, duplicate keys, and the geometry errors of
    ``validate_layout`` against the layout's ``for_wall``.

    Args:
        text: the YAML text.
        source: where it came from (file name), for messages.

    Returns:
        The layout.

    Raises:
        LayoutVersionError: the schema version is not supported (W8).
        LayoutInvalid: anything else is wrong.

    Examples:
        >>> try:
        ...     parse_layout_yaml("version: 1\nid: x\nid: y\n", "demo.yaml")
        ... except LayoutInvalid as err:
        ...     print(err.issues[0])
        error: id (line 3): key 'id' appears twice in this mapping
    """
    if len(text) > MAX_TEXT_CHARS:
        message = f"document is {len(text)} characters, limit {MAX_TEXT_CHARS}"
        raise LayoutInvalid(source, [_error(IssueCode.TOO_LARGE, message)])
    try:
        document = read_yaml(text)
    except YamlRefused as err:
        raise LayoutInvalid(source, [_yaml_issue(p) for p in err.problems]) from err
    return _parse(document.data, source, document.lines)


def load_builtin_layouts() -> list[Layout]:
    """Read and parse the layouts shipped in ``layouts/definitions/``, by file name.

    Raises:
        LayoutInvalid: a shipped file is invalid, or two share an id.
    """
    folder = resources.files("layouts").joinpath("definitions")
    layouts = [
        parse_layout_yaml(entry.read_text(encoding="utf-8"), entry.name)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
    seen: dict[str, int] = {}
    for n, layout in enumerate(layouts):
        if layout.id in seen:
            message = f"layout id {layout.id!r} is used twice"
            issue = _error(IssueCode.DUPLICATE_LAYOUT_ID, message, "id")
            raise LayoutInvalid("layouts/definitions", [issue])
        seen[layout.id] = n
    return layouts
