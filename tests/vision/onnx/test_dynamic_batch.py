"""The dynamic-batch graph edit: tiny graphs, then the real YOLOX-Nano on real photos."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from numpy.typing import NDArray

from tests.vision.tiny_models import (
    fixed_batch_reshape_graph,
    manifest_for,
    pinned_batch_graph,
    strided_head_graph,
)
from vision.errors import BatchEditUnsupported
from vision.families import YoloxDecoder
from vision.manifest import ModelManifest
from vision.onnx.batch_edit import BATCH_DIM
from vision.onnx.dynamic_batch import (
    DYNAMIC_AXES_KEY,
    derive_dynamic_batch,
    derived_axes,
    derived_from_sha256,
    dynamic_batch_path,
    make_batch_dynamic,
    read_sidecar,
    sidecar_path,
)
from vision.onnx.fetch import fetch_all, weights_path
from vision.onnx.session import ModelSession
from vision.pipeline import DetectionPipeline


def _run(path: Path, batch: NDArray[np.float32]) -> NDArray[np.float32]:
    session = onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"]
    )
    (out, *_) = session.run(None, {session.get_inputs()[0].name: batch})
    return np.asarray(out)


def test_reshape_with_a_hard_coded_batch_becomes_dynamic(tmp_path: Path) -> None:
    src = fixed_batch_reshape_graph(tmp_path / "fixed.onnx")
    dst = tmp_path / "out" / "fixed.dynamic.onnx"

    derived = make_batch_dynamic(src, dst)

    model = onnx.load(str(dst))
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == BATCH_DIM
    assert model.graph.output[0].type.tensor_type.shape.dim[0].dim_param == BATCH_DIM
    assert len(model.graph.value_info) == 0
    reshape_targets = [
        onnx.numpy_helper.to_array(i).tolist()
        for i in model.graph.initializer
        if i.name.startswith("shape")
    ]
    assert reshape_targets == [[0, 3, -1]]
    assert derived.sha256 == hashlib.sha256(dst.read_bytes()).hexdigest()
    assert derived.source_sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert derived_from_sha256(model) == derived.source_sha256
    assert sidecar_path(dst).read_text() == f"{derived.sha256}  fixed.dynamic.onnx\n"
    assert read_sidecar(dst) == derived.sha256
    assert derived.batched_max_abs_diff is not None
    assert derived.batched_max_abs_diff <= 1e-4

    rng = np.random.default_rng(1)
    batch = rng.uniform(0, 255, size=(3, 3, 4, 4)).astype(np.float32)
    together = _run(dst, batch)
    for i in range(3):
        alone = _run(src, batch[i : i + 1])
        assert np.array_equal(alone[0], together[i])


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expand", "Expand node 'output' may fix the batch"),
        ("merge", r"Reshape node 'output' to \[-1, 16\] may merge the batch"),
    ],
)
def test_graphs_that_pin_the_batch_are_refused(
    tmp_path: Path, kind: str, reason: str
) -> None:
    src = pinned_batch_graph(tmp_path / f"{kind}.onnx", kind)
    dst = tmp_path / f"{kind}.dynamic.onnx"

    with pytest.raises(BatchEditUnsupported, match=reason):
        make_batch_dynamic(src, dst)

    assert not dst.exists()
    assert not sidecar_path(dst).exists()


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "junk.onnx"
    src.write_bytes(b"\x08\x07junk")

    with pytest.raises(BatchEditUnsupported):
        make_batch_dynamic(src, tmp_path / "junk.dynamic.onnx")


def test_derive_reuses_a_valid_copy_and_redoes_an_altered_one(tmp_path: Path) -> None:
    src = fixed_batch_reshape_graph(tmp_path / "src" / "fixed.onnx")
    manifest = manifest_for(src, input_wh=(4, 4), labels=("a",))
    cache = tmp_path / "cache"
    cache.mkdir()
    weights_path(manifest, cache).write_bytes(src.read_bytes())

    first = derive_dynamic_batch(manifest, cache)
    again = derive_dynamic_batch(manifest, cache)
    first.path.write_bytes(first.path.read_bytes() + b"\0")
    redone = derive_dynamic_batch(manifest, cache)

    assert first.path == dynamic_batch_path(manifest, cache)
    assert first.path.name == "fixed.dynamic.onnx"
    assert first.batched_max_abs_diff is not None
    assert again.batched_max_abs_diff is None  # accepted by its hashes
    assert again.sha256 == first.sha256
    assert redone.batched_max_abs_diff is not None
    assert redone.sha256 == first.sha256


# -- the real model ------------------------------------------------------------


@pytest.mark.network
def test_yolox_nano_dynamic_batch_is_bit_identical_on_real_photos(
    tmp_path: Path,
    model_cache: Path,
    yolox_manifest: ModelManifest,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    original = weights_path(yolox_manifest, model_cache)
    pipeline = DetectionPipeline(yolox_manifest)
    bus = pipeline.preprocess([photos["bus"]]).tensor
    dst = tmp_path / "yolox_nano.dynamic.onnx"

    derived = make_batch_dynamic(original, dst, sample=bus)

    assert derived.source_sha256 == yolox_manifest.sha256
    assert read_sidecar(dst) == derived.sha256
    # batch 1: bit for bit
    assert _run(dst, bus).tobytes() == _run(original, bus).tobytes()
    # batch 2: each image as on its own
    both = pipeline.preprocess([photos["bus"], photos["zidane"]]).tensor
    together = _run(dst, both)
    assert together.shape == (2, 3549, 85)
    for i in range(2):
        alone = _run(original, both[i : i + 1])[0]
        assert np.max(np.abs(alone - together[i])) <= 1e-4


@pytest.mark.network
def test_yolox_nano_session_opens_the_derived_copy(
    tmp_path: Path, model_cache: Path, yolox_manifest: ModelManifest
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    weights_path(yolox_manifest, cache).write_bytes(
        weights_path(yolox_manifest, model_cache).read_bytes()
    )
    derive_dynamic_batch(yolox_manifest, cache)

    session = ModelSession.open(yolox_manifest, cache)

    assert session.dynamic_batch is True
    assert session.derived_from == yolox_manifest.sha256
    assert session.run(np.zeros((4, 3, 416, 416), np.float32)).shape == (4, 3549, 85)
    # and the input size: a 16:9 frame's 416x256 canvas
    assert session.dynamic_size
    assert session.run(np.zeros((2, 3, 256, 416), np.float32)).shape == (2, 2184, 85)


def test_fetch_all_can_derive_dynamic_copies(tmp_path: Path) -> None:
    models = tmp_path / "models"
    fixed = fixed_batch_reshape_graph(models / "fixed.onnx")
    pinned = pinned_batch_graph(models / "pinned.onnx", "expand")
    for weights in (fixed, pinned):
        manifest = manifest_for(weights, input_wh=(4, 4), labels=("a",))
        toml = [
            f'name = "{manifest.name}"',
            'version = "1"',
            'family = "yolox"',
            'licence = "Apache-2.0"',
            f'sha256 = "{manifest.sha256}"',
            "input_wh = [4, 4]",
            'pixel_format = "bgr"',
            "normalise = false",
            'labels = ["a"]',
            "[source]",
            'kind = "file"',
            f'path = "{weights.name}"',
        ]
        (models / f"{manifest.name}.toml").write_text("\n".join(toml) + "\n")
    cache = models / ".cache"

    results = fetch_all(models, cache, dynamic_batch=True)

    assert [r.action for r in results] == ["copied", "copied"]
    assert sorted(p.name for p in cache.iterdir()) == [
        "fixed.dynamic.onnx",
        "fixed.dynamic.onnx.sha256",
        "fixed.onnx",
        "pinned.onnx",  # refused: batches by looping
    ]


# -- the input size --------------------------------------------------------------


def test_a_fully_convolutional_head_gets_a_dynamic_input_size(tmp_path: Path) -> None:
    src = strided_head_graph(tmp_path / "head.onnx")
    dst = tmp_path / "head.dynamic.onnx"
    decoder = YoloxDecoder((128, 128), 2)

    derived = make_batch_dynamic(src, dst, output_shape_for=decoder.output_shape_for)

    model = onnx.load(str(dst))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    out = model.graph.output[0].type.tensor_type.shape.dim
    assert derived.dynamic_size
    assert [d.dim_param for d in dims] == ["batch", "", "height", "width"]
    assert [d.dim_param or d.dim_value for d in out] == ["batch", "size_axis_1", 7]
    assert derived_axes(model) == "batch,height,width"
    # the 16:9 canvas of this input, and a batch of two at it
    wide = np.random.default_rng(3).uniform(0, 255, (2, 3, 96, 128))
    assert _run(dst, wide.astype(np.float32)).shape == (2, 16 * 12 + 8 * 6 + 4 * 3, 7)
    # the nominal size is still bit-identical to the original
    square = np.full((1, 3, 128, 128), 114, np.float32)
    assert _run(dst, square).tobytes() == _run(src, square).tobytes()


def test_a_head_with_baked_in_anchors_keeps_a_fixed_size(tmp_path: Path) -> None:
    src = strided_head_graph(tmp_path / "baked.onnx", baked_anchors=True)
    dst = tmp_path / "baked.dynamic.onnx"
    decoder = YoloxDecoder((128, 128), 2)

    derived = make_batch_dynamic(src, dst, output_shape_for=decoder.output_shape_for)

    model = onnx.load(str(dst))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert not derived.dynamic_size
    assert derived_axes(model) == "batch"
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, 128, 128]
    assert _run(dst, np.zeros((3, 3, 128, 128), np.float32)).shape == (3, 336, 7)


def test_an_input_without_a_smaller_canvas_keeps_a_fixed_size(tmp_path: Path) -> None:
    """4x4: a 16:9 frame needs the whole input, so no other size can be verified."""
    src = fixed_batch_reshape_graph(tmp_path / "fixed.onnx")
    decoder = YoloxDecoder((4, 4), 2)

    derived = make_batch_dynamic(
        src, tmp_path / "fixed.dynamic.onnx", output_shape_for=decoder.output_shape_for
    )

    assert not derived.dynamic_size
    assert derived_axes(onnx.load(str(derived.path))) == "batch"


def test_a_copy_from_before_dynamic_sizes_is_derived_again(tmp_path: Path) -> None:
    src = strided_head_graph(tmp_path / "src" / "head.onnx")
    manifest = manifest_for(src, input_wh=(128, 128), labels=("a", "b"))
    cache = tmp_path / "cache"
    cache.mkdir()
    weights_path(manifest, cache).write_bytes(src.read_bytes())
    # what the batch-only edit wrote: hashes fine, but no record of its axes
    old = dynamic_batch_path(manifest, cache)
    make_batch_dynamic(weights_path(manifest, cache), old)
    model = onnx.load(str(old))
    kept = [p for p in model.metadata_props if p.key != DYNAMIC_AXES_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(old))
    sidecar_path(old).write_text(
        f"{hashlib.sha256(old.read_bytes()).hexdigest()}  {old.name}\n"
    )

    derived = derive_dynamic_batch(manifest, cache)
    session = ModelSession.open(manifest, cache)

    assert derived.batched_max_abs_diff is not None  # ran again, not accepted
    assert derived.dynamic_size
    assert session.dynamic_size and session.dynamic_batch
    assert session.run(np.zeros((2, 3, 96, 128), np.float32)).shape == (2, 252, 7)
