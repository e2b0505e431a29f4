"""The onnxruntime adapter: load failures and shape checks make the model unavailable (X1)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

from tests.vision.tiny_models import detector_graph, manifest_for
from vision.errors import InferenceFailed, ModelUnavailable
from vision.manifest import ModelManifest
from vision.onnx.dynamic_batch import derive_dynamic_batch, dynamic_batch_path
from vision.onnx.fetch import weights_path
from vision.onnx.session import ModelSession, SessionOptions


def _yolox_tiny(
    path: Path, *, input_wh: tuple[int, int] = (32, 32), batch: int | str = "N"
) -> Path:
    width, height = input_wh
    anchors = sum((width // s) * (height // s) for s in (8, 16, 32))
    raw = np.zeros((anchors, 7), np.float32)
    return detector_graph(path, input_wh, raw, raw, batch=batch)


def _fixed_batch_tiny(tmp_path: Path) -> Path:
    zeros = np.zeros((21, 7), np.float32)
    return detector_graph(
        tmp_path / "src" / "tiny.onnx", (32, 32), zeros, zeros, batch=1
    )


def _cached(
    tmp_path: Path, model: Path, sha256: str | None = None
) -> tuple[ModelManifest, Path]:
    """Put a tiny model into a cache folder the way fetch does; return manifest, cache."""
    manifest = manifest_for(model, sha256=sha256)
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    weights_path(manifest, cache).write_bytes(model.read_bytes())
    return manifest, cache


def test_tiny_model_loads_with_its_identity(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "tiny.onnx")
    manifest = manifest_for(model)

    session = ModelSession(manifest, model)

    assert session.identity.name == "tiny"
    assert session.identity.sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    assert session.providers == ("CPUExecutionProvider",)
    assert session.dynamic_batch is True
    assert session.run(np.zeros((3, 3, 32, 32), np.float32)).shape == (3, 21, 7)


def test_X1_garbage_file_is_unavailable(tmp_path: Path) -> None:
    model = tmp_path / "garbage.onnx"
    model.write_bytes(b"this is not a protobuf")

    with pytest.raises(ModelUnavailable, match="cannot load") as caught:
        ModelSession(manifest_for(model), model)

    assert caught.value.name == "garbage"


def test_X1_missing_file_is_unavailable(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "gone.onnx")
    manifest = manifest_for(model)
    model.unlink()

    with pytest.raises(ModelUnavailable, match="cannot load"):
        ModelSession(manifest, model)


def test_X1_wrong_input_shape_is_unavailable(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "small.onnx", input_wh=(32, 32))
    manifest = manifest_for(model, input_wh=(416, 416))

    with pytest.raises(ModelUnavailable) as caught:
        ModelSession(manifest, model)

    reason = caught.value.reason
    assert "[N, 3, 32, 32]" in reason
    assert "416x416" in reason
    assert "[N, 3, 416, 416]" in reason


def test_X1_fixed_batch_other_than_one_is_unavailable(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "b2.onnx", batch=2)

    with pytest.raises(ModelUnavailable, match=r"\[2, 3, 32, 32\]"):
        ModelSession(manifest_for(model), model)


def test_X1_output_that_does_not_fit_the_family_is_unavailable(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "three.onnx")
    manifest = manifest_for(model, labels=("a", "b", "c"))  # model has 2 classes

    with pytest.raises(ModelUnavailable, match=r"expected \[N, 21, 8\]"):
        ModelSession(manifest, model)


def test_X1_missing_provider_without_fallback_is_unavailable(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "gpu.onnx")
    options = SessionOptions(providers=("CUDAExecutionProvider",), cpu_fallback=False)

    with pytest.raises(ModelUnavailable, match="CUDAExecutionProvider"):
        ModelSession(manifest_for(model), model, options)


def test_X1_missing_provider_falls_back_to_cpu(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = _yolox_tiny(tmp_path / "gpu.onnx")
    options = SessionOptions(
        providers=("CUDAExecutionProvider", "CPUExecutionProvider")
    )

    with caplog.at_level(logging.WARNING, logger="vision.onnx.session"):
        session = ModelSession(manifest_for(model), model, options)

    assert session.providers == ("CPUExecutionProvider",)
    assert "falling back to CPU" in caplog.text


def test_X1_open_without_weights_is_unavailable(tmp_path: Path) -> None:
    manifest = manifest_for(_yolox_tiny(tmp_path / "tiny.onnx"))

    with pytest.raises(ModelUnavailable, match="citywall models fetch"):
        ModelSession.open(manifest, tmp_path / "empty-cache")


def test_X1_open_with_wrong_hash_is_unavailable(tmp_path: Path) -> None:
    manifest, cache = _cached(
        tmp_path, _yolox_tiny(tmp_path / "tiny.onnx"), sha256="0" * 64
    )

    with pytest.raises(ModelUnavailable, match="SHA-256 mismatch"):
        ModelSession.open(manifest, cache)


def test_fixed_batch_model_batches_by_looping(tmp_path: Path) -> None:
    zeros, ones = np.zeros((21, 7), np.float32), np.ones((21, 7), np.float32)
    model = detector_graph(tmp_path / "one.onnx", (32, 32), zeros, ones, batch=1)
    session = ModelSession(manifest_for(model), model)
    batch = np.stack([np.full((3, 32, 32), v, np.float32) for v in (1.0, 2.0, 3.0)])

    out = session.run(batch)

    assert session.dynamic_batch is False
    assert out.shape == (3, 21, 7)
    assert out[:, 0, 0].tolist() == [1.0, 2.0, 3.0]


def test_inference_errors_are_converted(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "tiny.onnx")
    session = ModelSession(manifest_for(model), model)

    with pytest.raises(InferenceFailed) as caught:
        session.run(np.zeros((1, 3, 16, 16), np.float32))

    assert caught.value.name == "tiny"


def test_thread_and_optimisation_options_are_applied(tmp_path: Path) -> None:
    model = _yolox_tiny(tmp_path / "tiny.onnx")
    options = SessionOptions(
        intra_op_threads=2, graph_optimisation="disabled", warm_up=False
    )

    session = ModelSession(manifest_for(model), model, options)

    assert session.run(np.zeros((1, 3, 32, 32), np.float32)).shape == (1, 21, 7)


def test_open_prefers_a_verified_dynamic_copy(tmp_path: Path) -> None:
    manifest, cache = _cached(tmp_path, _fixed_batch_tiny(tmp_path))
    derived = derive_dynamic_batch(manifest, cache)
    session = ModelSession.open(manifest, cache)

    assert session.path == dynamic_batch_path(manifest, cache) == derived.path
    assert session.dynamic_batch is True
    assert session.sha256 == derived.sha256
    assert session.derived_from == manifest.sha256
    assert session.identity.sha256 == manifest.sha256  # X5: weights identity

    original = ModelSession.open(manifest, cache, prefer_dynamic_batch=False)
    assert original.dynamic_batch is False
    assert original.derived_from is None


def test_open_ignores_a_tampered_dynamic_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest, cache = _cached(tmp_path, _fixed_batch_tiny(tmp_path))
    derived = derive_dynamic_batch(manifest, cache)
    derived.path.write_bytes(derived.path.read_bytes() + b"\0")

    with caplog.at_level(logging.WARNING, logger="vision.onnx.session"):
        session = ModelSession.open(manifest, cache)

    assert session.path == weights_path(manifest, cache)
    assert session.dynamic_batch is False
    assert "batching by looping" in caplog.text
