"""Adapter: derive a dynamic-batch copy of a fixed-batch ONNX detector.

The shipped YOLOX-Nano export pins its batch dimension to 1: in the graph input
and output, in every stored intermediate shape (``value_info``) and in the
``[1, 85, -1]`` target shapes of the head's three Reshape nodes. The edit makes
the input and output batch dimension symbolic, drops the stored intermediate
shapes (onnxruntime infers them again), and rewrites a leading 1 in a constant
Reshape target to 0 ("copy this dimension from the input"). Nodes that could
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
from onnx import numpy_helper

from vision.errors import BatchEditUnsupported
from vision.families.anchors import DEFAULT_STRIDES
from vision.letterbox import stride_canvas

__all__ = [
    "DERIVED_FROM_KEY",
    "DYNAMIC_AXES_KEY",
    "DerivedModel",
    "OutputShapeFor",
    "derived_axes",
    "derived_from_sha256",
    "make_batch_dynamic",
    "read_sidecar",
    "sidecar_path",
]

log = logging.getLogger(__name__)

DERIVED_FROM_KEY = "citywall.derived_from_sha256"
DYNAMIC_AXES_KEY = "citywall.dynamic_axes"
"""Metadata: the axes the edit made symbolic, ``batch`` or ``batch,height,width``."""
BATCH_DIM = "batch"
SIZE_DIMS = ("height", "width")

OutputShapeFor = Callable[[tuple[int, int]], tuple[int, ...]]
"""One image's output shape for an input (width, height): the family's rule."""
# Per-image agreement allowed between batch-N and batch-1 runs. Kernels may sum
# in another order for N > 1; batch 1 itself must match bit for bit.
_BATCHED_ATOL = 1e-4
_PINNING_OPS = {"Expand", "Tile", "ConstantOfShape"}


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


def _constants(graph: onnx.GraphProto) -> dict[str, NDArray[np.generic]]:
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    values[node.output[0]] = numpy_helper.to_array(attr.t)
    return values


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for attr in node.attribute:
        if attr.name == name:
            return int(onnx.helper.get_attribute_value(attr))
    return default


def _label(node: onnx.NodeProto) -> str:
    return f"{node.op_type} node {node.name or node.output[0]!r}"


def _pins_batch(
    node: onnx.NodeProto, constants: dict[str, NDArray[np.generic]]
) -> bool:
    """True for nodes other than Reshape that may fix the batch dimension."""
    if node.op_type in _PINNING_OPS:
        return True
    if node.op_type == "Resize" and len(node.input) > 3 and node.input[3]:
        return True  # explicit output sizes include the batch
    if node.op_type == "Flatten":
        return _attr(node, "axis", 1) == 0
    if node.op_type == "Slice" and len(node.input) > 3:
        axes = constants.get(node.input[3])
        return axes is None or 0 in axes.tolist()
    return False


def _set_batch_dim(value: onnx.ValueInfoProto, path: Path) -> None:
    dims = value.type.tensor_type.shape.dim
    if not dims or dims[0].dim_param or dims[0].dim_value not in (0, 1):
        raise BatchEditUnsupported(path, f"{value.name!r} has no batch-1 first axis")
    dims[0].ClearField("dim_value")
    dims[0].dim_param = BATCH_DIM


def _set_size_dims(
    model: onnx.ModelProto, nominal: tuple[int, ...], other: tuple[int, ...]
) -> None:
    """Make the input's height and width symbolic, and the output axes that move.

    Args:
        model: The model, batch already symbolic.
        nominal: One image's output shape at the nominal input size.
        other: Its shape at another input size; axes that differ follow the size.
    """
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, name in zip(dims[2:4], SIZE_DIMS, strict=True):
        dim.ClearField("dim_value")
        dim.dim_param = name
    out = model.graph.output[0].type.tensor_type.shape.dim
    for axis, (a, b) in enumerate(zip(nominal, other, strict=True), start=1):
        if a != b and axis < len(out):
            out[axis].ClearField("dim_value")
            out[axis].dim_param = f"size_axis_{axis}"


def _edit(model: onnx.ModelProto, path: Path) -> int:
    """Make the batch symbolic in place; return the number of Reshapes rewritten."""
    graph = model.graph
    if graph.node and any(n.op_type in ("Loop", "If", "Scan") for n in graph.node):
        raise BatchEditUnsupported(path, "control-flow subgraphs are not supported")
    initialised = {init.name for init in graph.initializer}
    inputs = [v for v in graph.input if v.name not in initialised]
    if len(inputs) != 1:
        raise BatchEditUnsupported(path, f"expected one input, found {len(inputs)}")
    constants = _constants(graph)
    replaced: set[str] = set()
    rewritten = 0
    for node in graph.node:
        if _pins_batch(node, constants):
            raise BatchEditUnsupported(path, f"{_label(node)} may fix the batch")
        if node.op_type != "Reshape":
            continue
        target = constants.get(node.input[1])
        if target is None:
            continue  # computed at run time from Shape, follows the batch
        if _attr(node, "allowzero", 0) == 1:
            raise BatchEditUnsupported(path, f"{_label(node)} has allowzero=1")
        values = target.astype(np.int64)
        # A first entry of -1 infers the first axis and may fold the batch in.
        if values.ndim != 1 or values.size == 0 or values[0] not in (0, 1):
            raise BatchEditUnsupported(
                path, f"{_label(node)} to {values.tolist()} may merge the batch"
            )
        if values[0] == 1:
            values[0] = 0
            name = f"{node.input[1]}__dynamic_batch_{rewritten}"
            graph.initializer.append(numpy_helper.from_array(values, name))
            replaced.add(node.input[1])
            node.input[1] = name
            rewritten += 1
    for value in (*inputs, *graph.output):
        _set_batch_dim(value, path)
    del graph.value_info[:]
    _drop_unused(graph, replaced)
    return rewritten


def _drop_unused(graph: onnx.GraphProto, names: set[str]) -> None:
    """Remove replaced Reshape targets that no node reads any more."""
    used = {name for node in graph.node for name in node.input}
    used.update(out.name for out in graph.output)
    keep = [i for i in graph.initializer if i.name not in names or i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def _check(model: onnx.ModelProto, path: Path) -> None:
    try:
        onnx.checker.check_model(model)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise BatchEditUnsupported(path, f"edited graph is invalid: {err}") from err
    for out in inferred.graph.output:
        first = out.type.tensor_type.shape.dim[0]
        if first.dim_param != BATCH_DIM:
            raise BatchEditUnsupported(path, f"output {out.name!r} keeps a fixed batch")


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
    _edit(model, src_path)
    axes = BATCH_DIM
    if shape_for is not None:
        nominal = (int(probe.shape[3]), int(probe.shape[2]))
        if _wide_size(probe) == nominal:  # nothing smaller to run it at
            raise BatchEditUnsupported(src_path, "no smaller canvas to verify at")
        _set_size_dims(model, shape_for(nominal), shape_for(_wide_size(probe)))
        axes = ",".join((BATCH_DIM, *SIZE_DIMS))
    _check(model, src_path)
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
