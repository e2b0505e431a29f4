"""Tiny ONNX graphs built with onnx.helper, and manifests that point at them.

The detector-shaped graphs output a constant raw prediction tensor plus a term
that depends on each image's mean pixel value, so a test controls the output
exactly and can tell the images of a batch apart:

    output = raw + mean(image) * mask

with ``raw`` and ``mask`` of shape (1, *per_image_output).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from vision.manifest import ModelManifest, parse_manifest

OPSET = 13
FLOAT = TensorProto.FLOAT


def _save(graph: onnx.GraphProto, path: Path, infer: bool = False) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if infer:  # store intermediate shapes, as exporters do
        model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def detector_graph(
    path: Path,
    input_wh: tuple[int, int],
    raw: NDArray[np.float32],
    mask: NDArray[np.float32],
    *,
    batch: int | str = "N",
) -> Path:
    """A detector-shaped graph: ``output = raw + mean(images) * mask``.

    Args:
        path: Where to save the model.
        input_wh: Input (width, height).
        raw: Per-image constant output, e.g. (A, 5 + C) for YOLOX.
        mask: Same shape; multiplied by each image's mean pixel value.
        batch: Batch dimension of input and output: symbolic name or fixed size.
    """
    width, height = input_wh
    const = numpy_helper.from_array(raw[None].astype(np.float32), "raw")
    weight = numpy_helper.from_array(mask[None].astype(np.float32), "mask")
    axes = numpy_helper.from_array(np.array([1, 2], np.int64), "axes")
    nodes = [
        helper.make_node(
            "ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=0
        ),
        helper.make_node("Unsqueeze", ["mean", "axes"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "mask"], ["scaled"]),
        helper.make_node("Add", ["raw", "scaled"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_detector",
        [helper.make_tensor_value_info("images", FLOAT, [batch, 3, height, width])],
        [helper.make_tensor_value_info("output", FLOAT, [batch, *raw.shape])],
        initializer=[const, weight, axes],
    )
    return _save(graph, path)


def fixed_batch_reshape_graph(path: Path) -> Path:
    """Like the YOLOX head: a Conv, then Reshape to [1, 3, -1] and a Transpose.

    Input [1, 3, 4, 4], output [1, 16, 3], intermediate shapes stored.
    """
    rng = np.random.default_rng(7)
    weight = rng.normal(size=(3, 3, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["images", "w"], ["conv"]),
        helper.make_node("Sigmoid", ["conv"], ["act"]),
        helper.make_node("Reshape", ["act", "shape"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["output"], perm=[0, 2, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_batch",
        [helper.make_tensor_value_info("images", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("output", FLOAT, [1, 16, 3])],
        initializer=[
            numpy_helper.from_array(weight, "w"),
            numpy_helper.from_array(np.array([1, 3, -1], np.int64), "shape"),
        ],
    )
    return _save(graph, path, infer=True)


def pinned_batch_graph(path: Path, kind: str) -> Path:
    """A fixed-batch graph that a clean edit cannot free.

    ``expand``: an Expand to a constant [1, 3, 4, 4]; ``merge``: a Reshape to
    [-1, 16] that folds the batch into another axis.
    """
    if kind == "expand":
        node = helper.make_node("Expand", ["images", "shape"], ["output"])
        shape = np.array([1, 3, 4, 4], np.int64)
        out = [1, 3, 4, 4]
    else:
        node = helper.make_node("Reshape", ["images", "shape"], ["output"])
        shape = np.array([-1, 16], np.int64)
        out = [3, 16]
    graph = helper.make_graph(
        [node],
        f"pinned_{kind}",
        [helper.make_tensor_value_info("images", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("output", FLOAT, out)],
        initializer=[numpy_helper.from_array(shape, "shape")],
    )
    return _save(graph, path)


def manifest_for(
    weights: Path,
    *,
    family: str = "yolox",
    input_wh: tuple[int, int] = (32, 32),
    labels: tuple[str, ...] = ("a", "b"),
    sha256: str | None = None,
    pixel_format: str = "bgr",
    normalise: bool = False,
    score_threshold: float = 0.25,
) -> ModelManifest:
    """A manifest with a ``file`` source for a tiny model."""
    digest = sha256 or hashlib.sha256(weights.read_bytes()).hexdigest()
    lines = [
        f'name = "{weights.stem.replace(".", "-")}"',
        'version = "test"',
        f'family = "{family}"',
        'licence = "Apache-2.0"',
        f'sha256 = "{digest}"',
        f"input_wh = [{input_wh[0]}, {input_wh[1]}]",
        f'pixel_format = "{pixel_format}"',
        f"normalise = {'true' if normalise else 'false'}",
        f"score_threshold = {score_threshold}",
        f"labels = {json.dumps(list(labels))}",
        "[source]",
        'kind = "file"',
        f"path = {json.dumps(str(weights))}",
    ]
    return parse_manifest("\n".join(lines) + "\n", str(weights))


def strided_head_graph(path: Path, *, baked_anchors: bool = False) -> Path:
    """A miniature YOLOX head: input [1, 3, 128, 128], output [1, 336, 7].

    Three 1x1 convolutions with strides 8, 16 and 32 give 5 + 2 channels per
    cell; each is reshaped to [1, 7, -1], concatenated and transposed, so the
    anchors follow the input size like the real head's. ``baked_anchors``
    adds a constant shaped for the 128x128 grid after the concatenation (as
    exports that decode in the graph do), which pins the input size.
    """
    rng = np.random.default_rng(11)
    nodes, inits, levels = [], [], []
    for stride in (8, 16, 32):
        w = f"w{stride}"
        inits.append(
            numpy_helper.from_array(rng.normal(size=(7, 3, 1, 1)).astype(np.float32), w)
        )
        nodes += [
            helper.make_node(
                "Conv", ["images", w], [f"c{stride}"], strides=[stride, stride]
            ),
            helper.make_node("Reshape", [f"c{stride}", "shape"], [f"r{stride}"]),
        ]
        levels.append(f"r{stride}")
    inits.append(numpy_helper.from_array(np.array([1, 7, -1], np.int64), "shape"))
    nodes.append(helper.make_node("Concat", levels, ["cat"], axis=2))
    last = "cat"
    if baked_anchors:
        grid = np.arange(7 * 336, dtype=np.float32).reshape(1, 7, 336) / 1000
        inits.append(numpy_helper.from_array(grid, "grid"))
        nodes.append(helper.make_node("Add", ["cat", "grid"], ["decoded"]))
        last = "decoded"
    nodes.append(helper.make_node("Transpose", [last], ["output"], perm=[0, 2, 1]))
    graph = helper.make_graph(
        nodes,
        "strided_head",
        [helper.make_tensor_value_info("images", FLOAT, [1, 3, 128, 128])],
        [helper.make_tensor_value_info("output", FLOAT, [1, 336, 7])],
        initializer=inits,
    )
    return _save(graph, path, infer=True)
