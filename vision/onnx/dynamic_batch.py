"""Adapter: derive a dynamic-batch copy of a fixed-batch ONNX detector.

The shipped YOLOX-Nano export pins its batch dimension to 1: in the graph input
and output, in every stored intermediate shape (``value_info``) and in the
``[1, 85, -1]`` target shapes of the head's three Reshape nodes. The edit
(:mod:`vision.onnx.batch_edit`) makes the input and output batch dimension
symbolic, drops the stored intermediate shapes (onnxruntime infers them again),
and rewrites a leading 1 in a constant Reshape target to 0 ("copy this
dimension from the input"). Nodes that could
pin the batch in other ways (Expand, Tile, ConstantOfShape, Resize by sizes,
slicing or flattening across axis 0) make the edit refuse rather than guess.

When the caller says what one image's output looks like at a given input size
(``output_shape_for``), the edit also makes the input height and width
symbolic, so frames can be letterboxed into the smallest stride-aligned canvas
instead of the full square (rectangular inference: a 16:9 frame in 416x256
instead of 416x416). That is kept only if the edited model runs at a 16:9
canvas and returns the shape the family expects there; a graph with
size-dependent constants (e.g. a head that decodes with baked-in anchors) fails
that check and the copy keeps a fixed input size.

The derived file is accepted only if, on onnxruntime, its batch-1 output is
bit-identical to the original's and each image of a batch of two matches its
own batch-1 run. Its SHA-256 goes into a ``<file>.sha256`` sidecar (sha256sum
format); the source's SHA-256 and the axes made dynamic go into the model's
metadata.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from numpy.typing import NDArray

from vision.errors import BatchEditUnsupported
from vision.families import make_decoder
from vision.families.anchors import DEFAULT_STRIDES
from vision.letterbox import stride_canvas
from vision.manifest import ModelManifest
from vision.onnx.batch_edit import (
    BATCH_DIM,
    SIZE_DIMS,
    check_edited,
    edit_batch,
    set_size_dims,
)
from vision.onnx.fetch import sha256_of, verify_weights

__all__ = [
    "DERIVED_FROM_KEY",
    "DYNAMIC_AXES_KEY",
    "DerivedModel",
    "OutputShapeFor",
    "derive_dynamic_batch",
    "derived_axes",
    "derived_from_sha256",
    "dynamic_batch_path",
    "make_batch_dynamic",
    "read_sidecar",
    "sidecar_path",
]

log = logging.getLogger(__name__)

DERIVED_FROM_KEY = "citywall.derived_from_sha256"
DYNAMIC_AXES_KEY = "citywall.dynamic_axes"
"""Metadata: the axes the edit made symbolic, ``batch`` or ``batch,height,width``."""

OutputShapeFor = Callable[[tuple[int, int]], tuple[int, ...]]
"""One image's output shape for an input (width, height): the family's rule."""
# Per-image agreement allowed between batch-N and batch-1 runs. Kernels may sum
# in another order for N > 1; batch 1 itself must match bit for bit.
_BATCHED_ATOL = 1e-4


@dataclass(frozen=True, slots=True)
class DerivedModel:
    """A verified dynamic-batch model written next to its source.

    Attributes:
        path: The derived ONNX file.
        sha256: Its SHA-256 (also in the sidecar).
        source_sha256: SHA-256 of the original file it was derived from.
        sidecar: The ``.sha256`` file.
        batched_max_abs_diff: Largest difference between a batch-2 run and the
            two batch-1 runs (0.0 when bit-identical); ``None`` when an existing
            copy was accepted by its hashes without running it again.
        dynamic_size: Whether the input height and width are symbolic too.
    """

    path: Path
    sha256: str
    source_sha256: str
    sidecar: Path
    batched_max_abs_diff: float | None
    dynamic_size: bool = False


def sidecar_path(model_path: Path) -> Path:
    """Return the hash sidecar of a derived model: ``<file>.sha256``."""
    return model_path.with_name(model_path.name + ".sha256")


def read_sidecar(model_path: Path) -> str | None:
    """Return the SHA-256 recorded in a model's sidecar, or ``None`` if absent."""
    try:
        text = sidecar_path(model_path).read_text(encoding="utf-8")
    except OSError:
        return None
    digest = text.split(maxsplit=1)[0] if text.strip() else ""
    return digest if len(digest) == 64 else None


def derived_from_sha256(model: onnx.ModelProto) -> str | None:
    """Return the source SHA-256 stored in a derived model's metadata, if any."""
    for prop in model.metadata_props:
        if prop.key == DERIVED_FROM_KEY:
            return str(prop.value)
    return None


def derived_axes(model: onnx.ModelProto) -> str | None:
    """Return the dynamic axes recorded in a derived model, if any.

    Copies made before the input size could be dynamic record nothing.
    """
    for prop in model.metadata_props:
        if prop.key == DYNAMIC_AXES_KEY:
            return str(prop.value)
    return None


def _run(path: Path, batch: NDArray[np.float32]) -> list[NDArray[np.float32]]:
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    return [np.asarray(out) for out in session.run(None, {name: batch})]


def _probe(model: onnx.ModelProto, path: Path) -> NDArray[np.float32]:
    """Two deterministic 0-255 images shaped like the model input."""
    dims = model.graph.input[0].type.tensor_type.shape.dim[1:]
    if any(not d.dim_value for d in dims):
        raise BatchEditUnsupported(path, "input has symbolic non-batch dimensions")
    shape = (2, *(d.dim_value for d in dims))
    rng = np.random.default_rng(20240611)
    return rng.integers(0, 256, size=shape).astype(np.float32)


def _wide_size(probe: NDArray[np.float32]) -> tuple[int, int]:
    """The canvas of a 16:9 frame (the usual camera) in this input, (w, h)."""
    height, width = int(probe.shape[2]), int(probe.shape[3])
    return stride_canvas([(1600, 900)], (width, height), max(DEFAULT_STRIDES))


def _verify_size(
    src: Path, dst: Path, probe: NDArray[np.float32], shape_for: OutputShapeFor
) -> None:
    """Run the derived model at a 16:9 canvas; its output must fit the family."""
    width, height = _wide_size(probe)
    small = np.ascontiguousarray(probe[0:1, :, :height, :width])
    try:
        outputs = _run(dst, small)
    except Exception as err:  # onnxruntime's pybind errors share no base class
        raise BatchEditUnsupported(
            src, f"does not run at {width}x{height}: {err}"
        ) from err
    want = shape_for((width, height))
    if tuple(outputs[0].shape[1:]) != tuple(want):
        raise BatchEditUnsupported(
            src,
            f"output {outputs[0].shape[1:]} at {width}x{height}, expected {want}",
        )


def _verify(
    src: Path, dst: Path, sample: NDArray[np.float32] | None, probe: NDArray[np.float32]
) -> float:
    """Compare derived and original runs; return the batched max abs diff."""
    single = probe[0:1] if sample is None else sample
    for ref, got in zip(_run(src, single), _run(dst, single), strict=True):
        if ref.shape != got.shape or ref.tobytes() != got.tobytes():
            raise BatchEditUnsupported(src, "batch-1 output is not bit-identical")
    per_image = [_run(dst, probe[i : i + 1]) for i in range(probe.shape[0])]
    batched = _run(dst, probe)
    worst = 0.0
    for index, outputs in enumerate(per_image):
        for alone, together in zip(outputs, batched, strict=True):
            diff = float(np.max(np.abs(alone[0] - together[index])))
            if not diff <= _BATCHED_ATOL:
                raise BatchEditUnsupported(
                    src, f"image {index} of a batch differs from its own run by {diff}"
                )
            worst = max(worst, diff)
    return worst


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as dst:
            dst.write(data)
            dst.flush()
            os.fsync(dst.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def make_batch_dynamic(
    src_path: Path,
    dst_path: Path,
    sample: NDArray[np.float32] | None = None,
    *,
    output_shape_for: OutputShapeFor | None = None,
) -> DerivedModel:
    """Write a copy of an ONNX model whose batch dimension is symbolic, verified.

    Args:
        src_path: The original fixed-batch model.
        dst_path: Where to write the derived model; its sidecar goes beside it.
        sample: A (1, C, H, W) input for the bit-identity check, e.g. a real
            letterboxed frame; ``None`` uses deterministic noise.
        output_shape_for: One image's output shape for an input (width,
            height), from the model's family. Given, the input height and width
            are made symbolic too when the model verifiably runs at other sizes;
            otherwise (or when it does not) only the batch is.

    Returns:
        The derived file, its hash and the verification result.

    Raises:
        BatchEditUnsupported: The graph cannot be edited cleanly or the edited
            model fails verification; nothing is left at ``dst_path``.
    """
    source = src_path.read_bytes()
    if output_shape_for is not None:
        try:
            return _derive(source, src_path, dst_path, sample, output_shape_for)
        except BatchEditUnsupported as err:
            log.info("model %s keeps a fixed input size: %s", src_path.name, err.reason)
    return _derive(source, src_path, dst_path, sample, None)


def _derive(
    source: bytes,
    src_path: Path,
    dst_path: Path,
    sample: NDArray[np.float32] | None,
    shape_for: OutputShapeFor | None,
) -> DerivedModel:
    try:
        model = onnx.load_model_from_string(source)
    except Exception as err:  # onnx raises protobuf's DecodeError and others
        raise BatchEditUnsupported(src_path, f"not an ONNX model: {err}") from err
    probe = _probe(model, src_path)
    edit_batch(model, src_path)
    axes = BATCH_DIM
    if shape_for is not None:
        nominal = (int(probe.shape[3]), int(probe.shape[2]))
        if _wide_size(probe) == nominal:  # nothing smaller to run it at
            raise BatchEditUnsupported(src_path, "no smaller canvas to verify at")
        set_size_dims(model, shape_for(nominal), shape_for(_wide_size(probe)))
        axes = ",".join((BATCH_DIM, *SIZE_DIMS))
    check_edited(model, src_path)
    source_sha256 = hashlib.sha256(source).hexdigest()
    props = {prop.key: prop.value for prop in model.metadata_props}
    onnx.helper.set_model_props(
        model, {**props, DERIVED_FROM_KEY: source_sha256, DYNAMIC_AXES_KEY: axes}
    )
    data = model.SerializeToString()
    sha256 = hashlib.sha256(data).hexdigest()
    sidecar = sidecar_path(dst_path)
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    sidecar.unlink(missing_ok=True)
    _write_atomic(dst_path, data)
    try:
        worst = _verify(src_path, dst_path, sample, probe)
        if shape_for is not None:
            _verify_size(src_path, dst_path, probe, shape_for)
    except BaseException:
        dst_path.unlink(missing_ok=True)
        raise
    _write_atomic(sidecar, f"{sha256}  {dst_path.name}\n".encode())
    return DerivedModel(
        dst_path, sha256, source_sha256, sidecar, worst, shape_for is not None
    )


def dynamic_batch_path(manifest: ModelManifest, cache_dir: Path) -> Path:
    """Return where a model's derived dynamic-batch copy lives in the cache.

    Args:
        manifest: The model.
        cache_dir: The weights cache.

    Returns:
        ``cache_dir / f"{manifest.name}.dynamic.onnx"``; its SHA-256 sidecar is
        the same path plus ``.sha256``.
    """
    return cache_dir / f"{manifest.name}.dynamic.onnx"


def _kept_copy(manifest: ModelManifest, target: Path) -> DerivedModel | None:
    """The cached derived copy, if it matches its sidecar and records its origin."""
    actual = sha256_of(target)
    # Only a file matching its sidecar is parsed for its recorded origin.
    if read_sidecar(target) == actual:
        model = onnx.load(str(target), load_external_data=False)
        origin = derived_from_sha256(model)
        axes = derived_axes(model)
        # a copy from before dynamic input sizes records no axes: redo it
        if origin == manifest.sha256 and axes is not None:
            return DerivedModel(
                target, actual, origin, sidecar_path(target), None,
                dynamic_size=axes != BATCH_DIM,
            )  # fmt: skip
    log.warning(
        "model[%s] %s is stale, altered or lacks %s; deriving again",
        manifest.name,
        target,
        DYNAMIC_AXES_KEY,
    )
    return None


def derive_dynamic_batch(
    manifest: ModelManifest, cache_dir: Path, *, force: bool = False
) -> DerivedModel:
    """Derive (or re-verify) the dynamic-batch copy of a cached model.

    The original weights are verified first. A derived copy is kept if its
    SHA-256 matches its sidecar and it records the manifest's SHA-256 as its
    origin and its dynamic axes; otherwise it is derived again by
    :func:`make_batch_dynamic` (input size dynamic too when the model runs at
    other sizes) and verified bit-identical on batch 1.

    Args:
        manifest: The model.
        cache_dir: The weights cache.
        force: Derive again even if a valid copy exists.

    Returns:
        The derived model.

    Raises:
        WeightsMissing: The original weights are not cached.
        WeightsHashMismatch: The original weights have the wrong SHA-256.
        BatchEditUnsupported: The graph cannot be made dynamic cleanly.
    """
    original = verify_weights(manifest, cache_dir)
    target = dynamic_batch_path(manifest, cache_dir)
    if target.is_file() and not force:
        kept = _kept_copy(manifest, target)
        if kept is not None:
            return kept
    decoder = make_decoder(manifest.family, manifest.input_wh, len(manifest.labels))
    derived = make_batch_dynamic(
        original, target, output_shape_for=decoder.output_shape_for
    )
    log.info(
        "model[%s] dynamic copy %s (%s) sha256=%s",
        manifest.name,
        target,
        "batch and input size" if derived.dynamic_size else "batch",
        derived.sha256,
    )
    return derived
