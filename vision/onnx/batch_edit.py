"""Adapter: the graph edit that makes a fixed-batch ONNX model's batch symbolic.

The edit itself, without running anything: see :mod:`vision.onnx.dynamic_batch`
for why and how the edited copy is verified before it is used. Nodes that could
pin the batch other than through a constant Reshape target make it refuse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import numpy_helper

from vision.errors import BatchEditUnsupported

__all__ = ["BATCH_DIM", "SIZE_DIMS", "check_edited", "edit_batch", "set_size_dims"]

BATCH_DIM = "batch"
SIZE_DIMS = ("height", "width")
_PINNING_OPS = {"Expand", "Tile", "ConstantOfShape"}


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


def set_size_dims(
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


def edit_batch(model: onnx.ModelProto, path: Path) -> int:
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


def check_edited(model: onnx.ModelProto, path: Path) -> None:
    """Check the edited graph and that shape inference keeps every output batched.

    Raises:
        BatchEditUnsupported: The graph is invalid or an output's batch is fixed.
    """
    try:
        onnx.checker.check_model(model)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise BatchEditUnsupported(path, f"edited graph is invalid: {err}") from err
    for out in inferred.graph.output:
        first = out.type.tensor_type.shape.dim[0]
        if first.dim_param != BATCH_DIM:
            raise BatchEditUnsupported(path, f"output {out.name!r} keeps a fixed batch")
