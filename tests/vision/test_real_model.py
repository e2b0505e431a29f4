"""The real YOLOX-Nano on real photographs: bus.jpg and zidane.jpg (Ultralytics samples).

Reference boxes were drawn around the people in the photographs (checked by
eye on an overlay); the model's boxes must overlap them with IoU >= 0.8, and
the scores must match the field notes within 0.03.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from vision.boxes import iou_matrix
from vision.manifest import ModelManifest
from vision.onnx.dynamic_batch import derive_dynamic_batch
from vision.onnx.session import ModelSession, SessionOptions
from vision.pipeline import DetectionPipeline
from vision.types import Detection, xyxy_array

pytestmark = pytest.mark.network

# (score, xyxy) of each person, highest score first
BUS_PEOPLE = [
    (0.86, (50, 395, 215, 898)),  # man in the fur coat
    (0.81, (219, 403, 347, 856)),  # man in the black coat
    (0.69, (686, 451, 810, 874)),  # man at the right edge
    (0.26, (0, 560, 82, 882)),  # person half out of the frame, left
]
ZIDANE_PEOPLE = [
    (0.85, (150, 201, 681, 713)),  # Zidane
    (0.83, (712, 39, 1152, 707)),  # Ancelotti
]


def _people(dets: tuple[Detection, ...]) -> tuple[Detection, ...]:
    return tuple(d for d in dets if d.label == "person")


def _assert_matches(
    people: tuple[Detection, ...], expected: Sequence[tuple[float, tuple[int, ...]]]
) -> None:
    assert len(people) == len(expected), [(p.score, p.xyxy) for p in people]
    scores = [p.score for p in people]
    assert scores == pytest.approx([s for s, _ in expected], abs=0.03)
    overlap = iou_matrix(
        xyxy_array(people), np.array([box for _, box in expected], np.float32)
    )
    assert np.all(np.diag(overlap) >= 0.8), overlap.round(2)


@pytest.fixture(scope="module")
def pipeline(yolox_manifest: ModelManifest) -> DetectionPipeline:
    return DetectionPipeline(yolox_manifest)


@pytest.fixture(scope="module")
def session(model_cache: Path, yolox_manifest: ModelManifest) -> ModelSession:
    return ModelSession.open(yolox_manifest, model_cache, prefer_dynamic_batch=False)


def test_bus_has_four_people(
    pipeline: DetectionPipeline,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    (dets,) = pipeline.detect([photos["bus"]], session)

    _assert_matches(_people(dets), BUS_PEOPLE)
    assert {d.label for d in dets} == {"person", "bus"}
    assert all(0 <= d.xyxy[0] <= d.xyxy[2] <= 810 for d in dets)
    assert all(0 <= d.xyxy[1] <= d.xyxy[3] <= 1080 for d in dets)


def test_zidane_has_two_people(
    pipeline: DetectionPipeline,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    (dets,) = pipeline.detect([photos["zidane"]], session)

    _assert_matches(_people(dets), ZIDANE_PEOPLE)


def test_person_filter_drops_the_bus_and_the_ties(
    yolox_manifest: ModelManifest,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    people_only = DetectionPipeline(yolox_manifest, classes={"person"})

    bus, zidane = people_only.detect([photos["bus"], photos["zidane"]], session)

    assert [d.label for d in bus] == ["person"] * 4
    assert [d.label for d in zidane] == ["person"] * 2


def test_normalised_input_finds_nobody(
    yolox_manifest: ModelManifest,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    """The field-notes trap: YOLOX-Nano wants 0-255 pixels, not 0-1."""
    wrong = DetectionPipeline(yolox_manifest.model_copy(update={"normalise": True}))

    (dets,) = wrong.detect([photos["bus"]], session)

    assert _people(dets) == ()


@pytest.fixture(scope="module")
def derived_cache(
    tmp_path_factory: pytest.TempPathFactory,
    yolox_manifest: ModelManifest,
    session: ModelSession,
) -> Path:
    """A cache of its own with the weights and their freshly derived dynamic copy."""
    cache = tmp_path_factory.mktemp("cache")
    (cache / "yolox_nano.onnx").write_bytes(session.path.read_bytes())
    derive_dynamic_batch(yolox_manifest, cache)
    return cache


def test_one_batch_across_cameras_on_the_dynamic_model(
    derived_cache: Path,
    yolox_manifest: ModelManifest,
    pipeline: DetectionPipeline,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    batched = ModelSession.open(
        yolox_manifest, derived_cache, SessionOptions(intra_op_threads=2)
    )
    frames = [photos["bus"], photos["zidane"], photos["bus"], photos["zidane"]]

    together = pipeline.detect(frames, batched)
    looped = pipeline.detect(frames, session)

    assert batched.dynamic_batch and not session.dynamic_batch
    for one, other in zip(together, looped, strict=True):
        assert [d.label for d in one] == [d.label for d in other]
        assert xyxy_array(one) == pytest.approx(xyxy_array(other), abs=1e-3)
    _assert_matches(_people(together[2]), BUS_PEOPLE)
    _assert_matches(_people(together[3]), ZIDANE_PEOPLE)
    assert together[0][0].xyxy == together[2][0].xyxy


def test_fitted_canvas_finds_the_same_people_with_less_input(
    derived_cache: Path,
    yolox_manifest: ModelManifest,
    session: ModelSession,
    photos: dict[str, NDArray[np.uint8]],
) -> None:
    """Rectangular inference: bus in 320x416, zidane in 416x256, same answers."""
    dynamic = ModelSession.open(yolox_manifest, derived_cache)
    fitted = DetectionPipeline(yolox_manifest, fit_canvas=True)

    shapes = [fitted.preprocess([photos[n]]).tensor.shape for n in ("bus", "zidane")]
    (bus,) = fitted.detect([photos["bus"]], dynamic)
    (zidane,) = fitted.detect([photos["zidane"]], dynamic)
    mixed = fitted.preprocess([photos["bus"], photos["zidane"]])

    assert dynamic.dynamic_size and not session.dynamic_size
    assert shapes == [(1, 3, 416, 320), (1, 3, 256, 416)]
    _assert_matches(_people(bus), BUS_PEOPLE)
    _assert_matches(_people(zidane), ZIDANE_PEOPLE)
    # a batch of a portrait and a landscape frame needs the whole square
    assert mixed.tensor.shape == (2, 3, 416, 416)
    assert [i.input_wh for i in mixed.infos] == [(416, 416), (416, 416)]
