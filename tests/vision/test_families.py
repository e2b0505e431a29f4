"""YOLOX and YOLOv8 decoding through tiny ONNX graphs whose output we control.

The tiny detectors (see ``tiny_models``) take 32x32 images; with strides 8, 16
and 32 they have 16 + 4 + 1 = 21 anchors and two classes, "a" and "b". Three
anchors predict the same box (12, 4, 28, 20) in network pixels:

* anchor 6 (stride 8, cell x=2 y=1): class "a"; its score grows with the
  image's mean pixel value (mean / 255), so images of a batch differ;
* anchor 17 (stride 16, cell x=1 y=0): class "b", score 0.81;
* anchor 20 (stride 32, cell 0 0): class "a", score 0.3, suppressed by NMS
  whenever anchor 6 scores higher.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.vision.tiny_models import detector_graph, manifest_for
from vision.families import Yolov8Decoder, YoloxDecoder, make_decoder
from vision.onnx.session import ModelSession
from vision.pipeline import DetectionPipeline
from vision.types import Detection

BOX = (12.0, 4.0, 28.0, 20.0)
Frame = NDArray[np.uint8]


def _yolox_raw() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    raw = np.zeros((21, 7), np.float32)
    mask = np.zeros((21, 7), np.float32)
    # columns: dx, dy, log w, log h, objectness, p(a), p(b)
    raw[6] = (0.5, 0.5, math.log(2), math.log(2), 0.0, 0.5, 0.0)
    mask[6, 4] = 1 / 255
    raw[17] = (0.25, 0.75, 0.0, 0.0, 0.9, 0.0, 0.9)
    raw[20] = (0.625, 0.375, math.log(0.5), math.log(0.5), 0.5, 0.6, 0.0)
    return raw, mask


def _yolov8_raw() -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    raw = np.zeros((6, 21), np.float32)
    mask = np.zeros((6, 21), np.float32)
    # rows: cx, cy, w, h, score(a), score(b)
    raw[:, 6] = (20, 12, 16, 16, 0.0, 0.0)
    mask[4, 6] = 1 / 255
    raw[:, 17] = (20, 12, 16, 16, 0.0, 0.81)
    raw[:, 20] = (20, 12, 16, 16, 0.3, 0.0)
    return raw, mask


@pytest.fixture(params=["yolox", "yolov8"])
def family(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def tiny(tmp_path: Path, family: str) -> tuple[DetectionPipeline, ModelSession]:
    raw, mask = _yolox_raw() if family == "yolox" else _yolov8_raw()
    path = detector_graph(tmp_path / f"tiny-{family}.onnx", (32, 32), raw, mask)
    manifest = manifest_for(path, family=family)
    return DetectionPipeline(manifest), ModelSession(manifest, path)


def _frame(value: int, width: int = 32, height: int = 32) -> Frame:
    return np.full((height, width, 3), value, dtype=np.uint8)


def _summary(dets: tuple[Detection, ...]) -> list[tuple[str, float, list[float]]]:
    return [(d.label, round(d.score, 3), [round(v, 3) for v in d.xyxy]) for d in dets]


def test_bright_frame_keeps_one_box_per_class(
    tiny: tuple[DetectionPipeline, ModelSession], family: str
) -> None:
    pipeline, session = tiny
    (dets,) = pipeline.detect([_frame(255)], session)
    # YOLOX: objectness 1.0 x p(a) 0.5; YOLOv8: class score 1.0
    a_score = 0.5 if family == "yolox" else 1.0
    expected = sorted(
        [("b", 0.81, list(BOX)), ("a", a_score, list(BOX))], key=lambda d: -d[1]
    )
    assert _summary(dets) == expected


def test_dark_frame_leaves_the_weaker_class_a_box(
    tiny: tuple[DetectionPipeline, ModelSession],
) -> None:
    pipeline, session = tiny
    (dets,) = pipeline.detect([_frame(0)], session)
    assert _summary(dets) == [("b", 0.81, list(BOX)), ("a", 0.3, list(BOX))]


def test_batch_equals_frames_run_alone(
    tiny: tuple[DetectionPipeline, ModelSession],
) -> None:
    pipeline, session = tiny
    frames = [_frame(255), _frame(0), _frame(40), _frame(255, 64, 64)]

    together = pipeline.detect(frames, session)
    alone = [pipeline.detect([f], session)[0] for f in frames]

    assert together == alone
    assert [len(d) for d in together] == [2, 2, 2, 2]


def test_class_filter_and_threshold(
    tmp_path: Path, family: str, tiny: tuple[DetectionPipeline, ModelSession]
) -> None:
    _, session = tiny
    manifest = manifest_for(session.path, family=family)

    only_a = DetectionPipeline(manifest, classes={"a"}).detect([_frame(0)], session)
    strict = DetectionPipeline(manifest, score_threshold=0.6).detect(
        [_frame(0)], session
    )

    assert [(d.label, round(d.score, 3)) for d in only_a[0]] == [("a", 0.3)]
    assert [(d.label, round(d.score, 3)) for d in strict[0]] == [("b", 0.81)]
    with pytest.raises(ValueError, match="unknown class labels: zebra"):
        DetectionPipeline(manifest, classes={"a", "zebra"})
    with pytest.raises(ValueError, match="score_threshold"):
        DetectionPipeline(manifest, score_threshold=1.5)


def test_boxes_are_mapped_back_to_source_pixels(
    tiny: tuple[DetectionPipeline, ModelSession], family: str
) -> None:
    pipeline, session = tiny
    wide = _frame(255, 64, 32)  # scale 0.5; YOLOX pads below, YOLOv8 above and below

    (dets,) = pipeline.detect([wide], session)

    boxes = {d.label: [round(v, 3) for v in d.xyxy] for d in dets}
    if family == "yolox":
        assert boxes["b"] == [24.0, 8.0, 56.0, 32.0]  # clipped at the bottom
    else:
        assert boxes["b"] == [24.0, 0.0, 56.0, 24.0]  # pad_y 8 removed, clipped
    assert all(d.xyxy[3] <= 32 for d in dets)


def test_plain_callable_runs_the_pipeline(tmp_path: Path) -> None:
    raw, _ = _yolox_raw()
    path = detector_graph(tmp_path / "tiny.onnx", (32, 32), raw, raw)
    pipeline = DetectionPipeline(manifest_for(path))

    def run(batch: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.repeat(raw[None], batch.shape[0], axis=0)

    dets = pipeline.detect([_frame(1), _frame(2)], run)

    assert [[d.label for d in per] for per in dets] == [["b", "a"], ["b", "a"]]


def test_postprocess_checks_batch_sizes(
    tiny: tuple[DetectionPipeline, ModelSession],
) -> None:
    pipeline, session = tiny
    batch = pipeline.preprocess([_frame(0), _frame(0)])
    with pytest.raises(ValueError, match="1 outputs for 2 frames"):
        pipeline.postprocess(session.run(batch.tensor[:1]), batch.infos)


@pytest.mark.parametrize(
    ("decoder", "shape"),
    [
        (YoloxDecoder((32, 32), 2), (21, 8)),
        (Yolov8Decoder((32, 32), 2), (21, 6)),
    ],
)
def test_decoders_reject_a_wrong_output_shape(
    decoder: YoloxDecoder | Yolov8Decoder, shape: tuple[int, int]
) -> None:
    with pytest.raises(ValueError, match="expected output"):
        decoder.candidates(np.zeros(shape, np.float32), 0.25)


@pytest.mark.parametrize(
    ("family", "input_wh", "classes", "shape", "align"),
    [
        ("yolox", (416, 416), 80, (3549, 85), "top_left"),
        ("yolox", (640, 480), 1, (6300, 6), "top_left"),
        ("yolov8", (640, 640), 80, (84, 8400), "centre"),
    ],
)
def test_make_decoder_table(
    family: str,
    input_wh: tuple[int, int],
    classes: int,
    shape: tuple[int, int],
    align: str,
) -> None:
    decoder = make_decoder(family, input_wh, classes)  # type: ignore[arg-type]
    assert decoder.output_shape == shape
    assert decoder.align == align


def test_yolox_decoder_grid_matches_the_reference_formula() -> None:
    """Every anchor decodes like YOLOX's demo_postprocess."""
    decoder = YoloxDecoder((64, 32), 1)
    rows = decoder.output_shape[0]
    rng = np.random.default_rng(3)
    raw = np.zeros((rows, 6), np.float32)
    raw[:, 0:4] = rng.uniform(-1, 1, size=(rows, 4))
    raw[:, 4:6] = 1.0
    cells = [
        (x, y, stride)
        for stride in (8, 16, 32)
        for y in range(32 // stride)
        for x in range(64 // stride)
    ]
    grid = np.array(cells, np.float32)
    cx = (raw[:, 0] + grid[:, 0]) * grid[:, 2]
    cy = (raw[:, 1] + grid[:, 1]) * grid[:, 2]
    w = np.exp(raw[:, 2]) * grid[:, 2]
    h = np.exp(raw[:, 3]) * grid[:, 2]

    got = decoder.candidates(raw, 0.5)

    reference = np.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), axis=1)
    assert got.xyxy == pytest.approx(reference, rel=1e-5, abs=1e-4)
    assert got.scores.tolist() == [1.0] * rows


@pytest.mark.parametrize(
    ("decoder", "input_wh", "shape"),
    [
        (YoloxDecoder((416, 416), 80), (416, 256), (2184, 85)),
        (YoloxDecoder((416, 416), 80), (320, 416), (2730, 85)),
        (Yolov8Decoder((640, 640), 80), (640, 384), (84, 5040)),
    ],
)
def test_decoders_take_other_input_sizes(
    decoder: YoloxDecoder | Yolov8Decoder,
    input_wh: tuple[int, int],
    shape: tuple[int, int],
) -> None:
    """A dynamic-input model runs at a smaller canvas; its grid follows."""
    nominal = decoder.output_shape

    assert decoder.output_shape_for(input_wh) == shape
    assert decoder.output_shape == nominal
    assert (
        len(decoder.candidates(np.zeros(shape, np.float32), 0.25, None, input_wh)) == 0
    )
    with pytest.raises(ValueError, match="expected output"):
        decoder.candidates(np.zeros(shape, np.float32), 0.25)


def test_yolox_decoder_places_a_box_on_the_smaller_grid() -> None:
    """The last anchor of a 416x256 canvas is the bottom-right stride-32 cell."""
    decoder = YoloxDecoder((416, 416), 1)
    raw = np.zeros((2184, 6), np.float32)
    raw[-1] = (0.5, 0.5, 0.0, 0.0, 1.0, 1.0)

    got = decoder.candidates(raw, 0.5, input_wh=(416, 256))

    # cell (12, 7) of the 13x8 stride-32 grid, a 32-pixel box around its centre
    assert got.xyxy.tolist() == [[384.0, 224.0, 416.0, 256.0]]
