"""Adapter: derive a dynamic-batch copy of a fixed-batch ONNX detector.

The shipped YOLOX-Nano export pins its batch dimension to 1: in the graph input
and output, in every stored intermediate shape (``value_info``) and in the
``[1, 85, -1]`` target shapes of the head's three Reshape nodes. The edit makes
the input and output batch dimension symbolic, drops the stored intermediate
shapes (onnxruntime infers them again), and rewrites a leading 1 in a constant
Reshape target to 0 ("copy this dimension from the input"). Nodes that could
pin the batch in other ways (Expand, Tile, ConstantOfShape, Resize by sizes,
slicing or flattening across axis 0) make the edit refuse rather than guess.

The derived file is accepted only if, on onnxruntime, its batch-1 output is
bit-identical to the original's and each image of a batch of two matches its
own batch-1 run. Its SHA-256 goes into a ``<file>.sha256`` sidecar (sha256sum
format) and the source's SHA-256 into the model's metadata.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from numpy.typing import NDArray
from onnx import numpy_helper

from vision.errors import BatchEditUnsupported

__all__ = [
    "DERIVED_FROM_KEY",
    "DerivedModel",
    "derived_from_sha256",
    "make_batch_dynamic",
    "read_sidecar",
    "sidecar_path",
]

DERIVED_FROM_KEY = "citywall.derived_from_sha256"
BATCH_DIM = "batch"
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
    """

    path: Path
    sha256: str
    source_sha256: str
    sidecar: Path
    batched_max_abs_diff: float | None


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
    src_path: Path, dst_path: Path, sample: NDArray[np.float32] | None = None
) -> DerivedModel:
    """Write a copy of an ONNX model whose batch dimension is symbolic, verified.

    Args:
        src_path: The original fixed-batch model.
        dst_path: Where to write the derived model; its sidecar goes beside it.
        sample: A (1, C, H, W) input for the bit-identity check, e.g. a real
            letterboxed frame; ``None`` uses deterministic noise.

    Returns:
        The derived file, its hash and the verification result.

    Raises:
        BatchEditUnsupported: The graph cannot be edited cleanly or the edited
            model fails verification; nothing is left at ``dst_path``.
    """
    source = src_path.read_bytes()
    try:
        model = onnx.load_model_from_string(source)
    except Exception as err:  # onnx raises protobuf's DecodeError and others
        raise BatchEditUnsupported(src_path, f"not an ONNX model: {err}") from err
    probe = _probe(model, src_path)
    _edit(model, src_path)
    _check(model, src_path)
    source_sha256 = hashlib.sha256(source).hexdigest()
    props = {prop.key: prop.value for prop in model.metadata_props}
    onnx.helper.set_model_props(model, {**props, DERIVED_FROM_KEY: source_sha256})
    data = model.SerializeToString()
    sha256 = hashlib.sha256(data).hexdigest()
    sidecar = sidecar_path(dst_path)
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    sidecar.unlink(missing_ok=True)
    _write_atomic(dst_path, data)
    try:
        worst = _verify(src_path, dst_path, sample, probe)
    except BaseException:
        dst_path.unlink(missing_ok=True)
        raise
    _write_atomic(sidecar, f"{sha256}  {dst_path.name}\n".encode())
    return DerivedModel(dst_path, sha256, source_sha256, sidecar, worst)
