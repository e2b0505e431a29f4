"""The one YAML reader: key-path lines, duplicate keys, size guard, syntax errors."""

from __future__ import annotations

import pytest

from layouts.yaml_document import (
    YamlProblem,
    YamlRefused,
    dotted_path,
    nearest_line,
    read_yaml,
)


def test_lines_are_those_of_keys_and_of_sequence_items() -> None:
    document = read_yaml("wall:\n  tiles:\n    - id: a\n    - id: b\n      x: 1\n")
    assert document.data == {"wall": {"tiles": [{"id": "a"}, {"id": "b", "x": 1}]}}
    assert document.lines[()] == 1
    assert document.lines[("wall", "tiles")] == 2
    assert document.lines[("wall", "tiles", 1)] == 4
    assert document.lines[("wall", "tiles", 1, "x")] == 5
    assert document.line_of(("wall", "tiles", 1, "x", "deeper")) == 5


def test_an_empty_document_has_no_data() -> None:
    assert read_yaml("").data is None


def test_every_duplicate_key_is_listed_with_its_path_and_line() -> None:
    with pytest.raises(YamlRefused) as info:
        read_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert info.value.problems == (
        YamlProblem(
            "duplicate_key",
            "key 'c' appears twice in this mapping",
            ("b", "c"),
            4,
        ),
        YamlProblem(
            "duplicate_key",
            "key 'a' appears twice in this mapping",
            ("a",),
            5,
        ),
    )


def test_a_syntax_error_has_its_line() -> None:
    with pytest.raises(YamlRefused) as info:
        read_yaml("a: [1,\nb: 2\n")
    [problem] = info.value.problems
    assert problem.kind == "syntax" and problem.line is not None


def test_alias_bombs_are_refused_by_node_count() -> None:
    text = "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    with pytest.raises(YamlRefused, match="more than 20 YAML nodes") as info:
        read_yaml(text, max_nodes=20)
    assert info.value.problems[0].kind == "too_large"
    assert read_yaml(text).data is not None


@pytest.mark.parametrize(
    ("keys", "text"),
    [((), ""), (("a",), "a"), (("a", 0, "b"), "a[0].b"), ((0, 1), "[0][1]")],
)
def test_dotted_path(keys: tuple[str | int, ...], text: str) -> None:
    assert dotted_path(keys) == text


def test_nearest_line_falls_back_to_ancestors_or_none() -> None:
    assert nearest_line({(): 1, ("a",): 2}, ("a", "b")) == 2
    assert nearest_line({}, ("a",)) is None
