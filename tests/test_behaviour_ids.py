"""Every behaviour ID and domain section the project cites is defined in docs/behaviours.md.

Code, tests and documents cite behaviours by ID (``(A6)``, ``(T1-T6)``,
``behaviour S4``, ``# W8: ...``) and the domain reference by section
(``domain §2.3``). A reader with only the repository must be able to look each
one up, so a citation of an ID that ``docs/behaviours.md`` does not define fails
here, naming the file and the ID.

Only the citation forms the project uses are recognised, so that names such as
``H264``, ``T0`` or a layout id ``"L1"`` in code are never taken for IDs: in
Python files only comments and strings are read, and an ID counts when it
stands in a parenthesised list, after the word "behaviour(s)" or "house
style", or as the label opening a comment.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "behaviours.md"
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".js", ".json", ".toml", ".html", ".sh"}
SKIPPED_DIRS = {".venv", ".git", "data", "test-artifacts", "out", "node_modules"}
SKIPPED_DIRS |= {".cache", "__pycache__", ".mypy_cache", ".ruff_cache", "vendor"}
SKIPPED_FILES = {Path(__file__).resolve()}  # its own examples are not citations

_ID = r"(?:HS|[ADGHLMORSTWX])[1-9][0-9]?"
_CITE = rf"{_ID}(?:[-\u2013]{_ID})?"  # a range: hyphen or en dash
# the forms in use: "(X2)", "(A5-A7, O1, O2)", "(HS6/HS7)", "(audit log O2)",
# "(O7: an invalid ...", "behaviour S4", "house style HS10", "# W8: ...".
_IN_PARENS = re.compile(r"\(([^()]{0,400})\)")
_PAREN_ITEM = re.compile(rf"(?<![^\s/])({_CITE})(?=[,/:;]|$)")
_AFTER_WORD = re.compile(
    rf"\b(?:behaviours?|house style)\s+({_CITE}(?:\s*(?:,|/|and)\s*{_CITE})*)"
)
_COMMENT_LABEL = re.compile(rf"(?:#|//)\s*(?:-+\s*)?({_CITE})(?=:|\s/)")
_DOMAIN_SECTION = re.compile(r"domain (?:reference )?(?:§\s?|section )(\d+(?:\.\d+)?)")
_DEFINED_ID = re.compile(rf"^- \*\*({_ID})\*\*", re.MULTILINE)
_DEFINED_SECTION = re.compile(r"^- \*\*§(\d+(?:\.\d+)?)\*\*", re.MULTILINE)


def expand(cite: str) -> list[str]:
    """``A5-A7`` -> A5, A6, A7; a single ID -> itself."""
    first, dash, last = cite.replace("\u2013", "-").partition("-")
    if not dash:
        return [first]
    prefix = first.rstrip("0123456789")
    if last.rstrip("0123456789") != prefix:
        return [first, last]
    start, stop = int(first[len(prefix) :]), int(last[len(prefix) :])
    return [f"{prefix}{n}" for n in range(start, stop + 1)]


def cited_ids(text: str) -> set[str]:
    """The behaviour IDs a piece of prose cites, ranges expanded."""
    cites: list[str] = []
    for group in _IN_PARENS.finditer(text):
        cites += _PAREN_ITEM.findall(group.group(1).strip())
    for run in _AFTER_WORD.finditer(text):
        cites += re.findall(_CITE, run.group(1))
    cites += _COMMENT_LABEL.findall(text)
    return {one for cite in cites for one in expand(cite)}


def prose(path: Path) -> str:
    """The text a reader sees as prose: comments and strings of Python files."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return text
    kinds = {tokenize.COMMENT, tokenize.STRING}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return "\n".join(t.string for t in tokens if t.type in kinds)


def project_files() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*")
        if p.suffix in SUFFIXES
        and p.is_file()
        and not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts[:-1])
        and not any(part.endswith(".egg-info") for part in p.parts)
        and p.resolve() not in SKIPPED_FILES
    )


def test_every_cited_behaviour_id_is_defined() -> None:
    doc = DOC.read_text(encoding="utf-8")
    defined = set(_DEFINED_ID.findall(doc))
    sections = set(_DEFINED_SECTION.findall(doc))
    missing = []
    for path in project_files():
        text = prose(path)
        where = path.relative_to(ROOT)
        missing += [f"{where}: {i}" for i in sorted(cited_ids(text) - defined)]
        missing += [
            f"{where}: domain §{s}"
            for s in sorted(set(_DOMAIN_SECTION.findall(text)) - sections)
        ]
    assert missing == [], "cited, not defined in docs/behaviours.md:\n" + "\n".join(
        missing
    )


def test_the_definitions_are_unique() -> None:
    doc = DOC.read_text(encoding="utf-8")
    ids = _DEFINED_ID.findall(doc)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("density per zone (X2, X3).", {"X2", "X3"}),
        ("lifecycle (A5-A7, O1, O2)", {"A5", "A6", "A7", "O1", "O2"}),
        ("shutdown order (house style HS6/HS7).", {"HS6", "HS7"}),
        ("why (domain §2.2, audit log O2)", {"O2"}),
        ("config (O7: an invalid file\n keeps the old one)", {"O7"}),
        ("(A6, Genetec)", {"A6"}),
        ("pulled once (behaviour S8) and", {"S8"}),
        ("picks by tile size, behaviour S4", {"S4"}),
        ("# W8: an unknown content kind", {"W8"}),
        ("# --- W7 / cameras, T1 / dwell ---", {"W7"}),
        ("setTimeout(connect, 1000);  // W6: reconnect", {"W6"}),
        # look-alikes that are not citations
        ("encode H264 (H264) at (416, 416)", set()),
        ("T0 = datetime(2025, 7, 1)", set()),
        ('operator("L1")', set()),
        ("cameras (cam-S1, S3-bucket)", set()),
    ],
)
def test_citation_forms(text: str, expected: set[str]) -> None:
    assert cited_ids(text) == expected
