"""YAML text with line numbers: one reader for every YAML file the project loads.

It composes the document once, records the line of every key path, refuses
duplicate keys (YAML would silently keep the last one), bounds the size of a
document, and constructs the data with the safe loader. Layout files and the
service's config file both read through :func:`read_yaml`, so a key's line
and the duplicate-key rule are the same everywhere. Pure: text in, data out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import yaml

Key = str | int
"""One step of a key path: a mapping key or a sequence index."""

KeyPath = tuple[Key, ...]
"""Where a value sits, e.g. ``("tiles", 0, "id")``."""

LineIndex = dict[KeyPath, int]
"""Key path -> 1-based line of its key (of the node for the root and items)."""

MAX_NODES: Final = 200_000
"""Counted with aliases expanded: stops "billion laughs" documents early."""

_MERGE_KEY: Final = "<<"


YamlProblemKind = Literal["syntax", "duplicate_key", "too_large"]
"""Why a YAML text was refused: bad syntax, a key twice, or too big or deep."""


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """One reason a YAML text was refused.

    Attributes:
        kind: the rule it breaks.
        message: for people; never quotes a value (it may be a password).
        path: the key path it concerns (empty for the whole document).
        line: 1-based line, when known.
    """

    kind: YamlProblemKind
    message: str
    path: KeyPath = ()
    line: int | None = None


class YamlRefused(ValueError):
    """A YAML text that cannot be read; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[YamlProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A read YAML document and the line of each of its key paths.

    Attributes:
        data: the constructed value (``None`` for an empty document).
        lines: key path -> line.
    """

    data: object
    lines: LineIndex

    def line_of(self, keys: KeyPath) -> int | None:
        """The line of ``keys``, or of its nearest recorded ancestor."""
        return nearest_line(self.lines, keys)


def dotted_path(keys: KeyPath) -> str:
    """A key path as people write it.

    Examples:
        >>> dotted_path(("cameras", 0, "streams", "main"))
        'cameras[0].streams.main'
    """
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def nearest_line(lines: Mapping[KeyPath, int], keys: KeyPath) -> int | None:
    """The line of ``keys``, else of its nearest ancestor, else ``None``.

    Examples:
        >>> nearest_line({("a",): 3}, ("a", "b", 0))
        3
    """
    for end in range(len(keys), -1, -1):
        if keys[:end] in lines:
            return lines[keys[:end]]
    return None


class _Indexer:
    """Walks a composed YAML tree: key path -> line, duplicate keys, size guard."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.lines: LineIndex = {}
        self.duplicates: list[YamlProblem] = []
        self.nodes = 0

    def walk(self, node: yaml.Node, path: KeyPath) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            problem = YamlProblem("too_large", f"more than {self.max_nodes} YAML nodes")
            raise YamlRefused([problem])
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen and key != _MERGE_KEY:
                    self.duplicates.append(
                        YamlProblem(
                            "duplicate_key",
                            f"key {key!r} appears twice in this mapping",
                            (*path, key),
                            line,
                        )
                    )
                seen.add(key)
                self.lines[(*path, key)] = line
                self.walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for n, item in enumerate(node.value):
                self.walk(item, (*path, n))


def _syntax(err: yaml.YAMLError) -> YamlProblem:
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"{err.context or ''} {err.problem or ''}".strip() or "invalid YAML"
        return YamlProblem("syntax", message, line=line)
    return YamlProblem("syntax", str(err))


def read_yaml(text: str, *, max_nodes: int = MAX_NODES) -> YamlDocument:
    r"""Read one YAML document with the safe loader, indexing its lines.

    Args:
        text: the YAML text.
        max_nodes: refuse documents with more nodes (aliases expanded).

    Returns:
        The data and the line of each key path.

    Raises:
        YamlRefused: a syntax error, a document too large or too deeply
            nested, or duplicate keys (every duplicate is listed).

    Examples:
        >>> read_yaml("a:\n  b: 1\n").lines[("a", "b")]
        2
        >>> try:
        ...     read_yaml("id: x\nid: y\n")
        ... except YamlRefused as err:
        ...     print(err.problems[0].line, err.problems[0].message)
        2 key 'id' appears twice in this mapping
    """
    loader = yaml.SafeLoader(text)
    indexer = _Indexer(max_nodes)
    try:
        node = loader.get_single_node()
        if node is not None:
            indexer.walk(node, ())
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise YamlRefused([_syntax(err)]) from err
    except RecursionError:
        problem = YamlProblem("too_large", "document is nested too deeply")
        raise YamlRefused([problem]) from None
    finally:
        loader.dispose()
    if indexer.duplicates:
        raise YamlRefused(indexer.duplicates)
    return YamlDocument(data, indexer.lines)
