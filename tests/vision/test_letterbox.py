"""Letterbox geometry, tensor layout and the round trip back to source pixels."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import ExitStack as DoesNotRaise

import numpy as np
import pytest

from vision.letterbox import (
    LetterboxAlign,
    letterbox,
    letterbox_batch,
    letterbox_info,
    stride_canvas,
    unletterbox,
)


@pytest.mark.parametrize(
    ("source_wh", "input_wh", "align", "scale", "pad_xy", "resized_wh"),
    [
        # bus.jpg: portrait, YOLOX pads on the right (truncating like YOLOX)
        ((810, 1080), (416, 416), "top_left", 416 / 1080, (0, 0), (312, 416)),
        # zidane.jpg: landscape, YOLOX pads at the bottom
        ((1280, 720), (416, 416), "top_left", 416 / 1280, (0, 0), (416, 234)),
        # 1080p sub stream into 640x640, centred like Ultralytics
        ((1920, 1080), (640, 640), "centre", 1 / 3, (0, 140), (640, 360)),
        ((1080, 1920), (640, 640), "centre", 1 / 3, (140, 0), (360, 640)),
        # upscaling a small frame
        ((208, 208), (416, 416), "top_left", 2.0, (0, 0), (416, 416)),
        # same size: no scaling, no padding
        ((416, 416), (416, 416), "centre", 1.0, (0, 0), (416, 416)),
    ],
)
def test_letterbox_geometry_table(
    source_wh: tuple[int, int],
    input_wh: tuple[int, int],
    align: LetterboxAlign,
    scale: float,
    pad_xy: tuple[int, int],
    resized_wh: tuple[int, int],
) -> None:
    info = letterbox_info(source_wh, input_wh, align)
    assert info.scale == pytest.approx(scale)
    assert info.pad_xy == pad_xy
    assert info.resized_wh == resized_wh
    assert (info.source_wh, info.input_wh) == (source_wh, input_wh)


@pytest.mark.parametrize(
    ("source_wh", "expectation"),
    [
        ((640, 480), DoesNotRaise()),
        ((0, 480), pytest.raises(ValueError, match="positive")),
        ((640, -1), pytest.raises(ValueError, match="positive")),
    ],
)
def test_letterbox_geometry_rejects_empty_sizes(
    source_wh: tuple[int, int], expectation: AbstractContextManager[object]
) -> None:
    with expectation:
        letterbox_info(source_wh, (416, 416))


def _gradient(
    width: int, height: int
) -> np.ndarray[tuple[int, ...], np.dtype[np.uint8]]:
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[..., 0] = 10  # blue
    frame[..., 1] = 20  # green
    frame[..., 2] = 200  # red
    return frame


def test_top_left_letterbox_pads_right_and_bottom_with_grey() -> None:
    tensor, info = letterbox(_gradient(64, 32), (32, 32))

    assert tensor.shape == (1, 3, 32, 32)
    assert tensor.dtype == np.float32
    assert info.resized_wh == (32, 16)
    image, padding = tensor[0, :, :16, :], tensor[0, :, 16:, :]
    # BGR order, 0-255 values, no normalisation (YOLOX)
    assert image[0].max() == image[0].min() == 10
    assert image[1].max() == image[1].min() == 20
    assert image[2].max() == image[2].min() == 200
    assert np.all(padding == 114)


def test_centre_letterbox_splits_the_padding() -> None:
    tensor, info = letterbox(_gradient(64, 32), (32, 32), align="centre")

    assert info.pad_xy == (0, 8)
    assert np.all(tensor[0, :, :8, :] == 114)
    assert np.all(tensor[0, :, 24:, :] == 114)
    assert np.all(tensor[0, 2, 8:24, :] == 200)


def test_rgb_and_normalise_follow_the_manifest() -> None:
    tensor, _ = letterbox(
        _gradient(32, 32), (32, 32), pixel_format="rgb", normalise=True
    )

    assert tensor[0, 0, 0, 0] == pytest.approx(200 / 255)  # red first
    assert tensor[0, 2, 0, 0] == pytest.approx(10 / 255)
    assert tensor.max() <= 1.0


def test_batch_of_different_sizes_keeps_order_and_placements() -> None:
    frames = [_gradient(64, 32), _gradient(16, 16), _gradient(32, 64)]
    frames[1][...] = 0

    batch, infos = letterbox_batch(frames, (32, 32))

    assert batch.shape == (3, 3, 32, 32)
    assert [i.source_wh for i in infos] == [(64, 32), (16, 16), (32, 64)]
    assert [i.scale for i in infos] == [0.5, 2.0, 0.5]
    assert np.all(batch[1] == 0)
    assert np.all(batch[2, :, :, 16:] == 114)  # portrait frame padded right


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float32),
    ],
)
def test_letterbox_rejects_non_bgr_frames(
    bad: np.ndarray[tuple[int, ...], np.dtype[np.generic]],
) -> None:
    with pytest.raises(ValueError, match="uint8 BGR"):
        letterbox_batch([bad], (32, 32))  # type: ignore[list-item]


def test_empty_batch_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        letterbox_batch([], (32, 32))


@pytest.mark.parametrize("align", ["top_left", "centre"])
@pytest.mark.parametrize(
    ("source_wh", "input_wh"),
    [((1920, 1080), (416, 416)), ((810, 1080), (416, 416)), ((640, 360), (640, 640))],
)
def test_round_trip_maps_boxes_back_to_source_pixels(
    align: LetterboxAlign, source_wh: tuple[int, int], input_wh: tuple[int, int]
) -> None:
    info = letterbox_info(source_wh, input_wh, align)
    width, height = source_wh
    source = np.array(
        [
            [0, 0, width, height],
            [10, 20, 110, 220],
            [width / 2, height / 3, width, height],
        ],
        dtype=np.float32,
    )
    pad = np.array(info.pad_xy * 2, dtype=np.float32)
    in_network = source * np.float32(info.scale) + pad

    back = unletterbox(in_network, info)

    assert back == pytest.approx(source, abs=1e-2)


def test_unletterbox_clips_to_the_frame() -> None:
    info = letterbox_info((100, 50), (100, 100), "centre")
    assert unletterbox(np.array([[-10, 0, 120, 100]]), info).tolist() == [
        [0.0, 0.0, 100.0, 50.0]
    ]


def test_content_lands_where_the_geometry_says() -> None:
    frame = np.zeros((1080, 1920, 3), dtype=np.uint8)
    frame[540:1080, 960:1920] = 255  # bottom-right quarter white
    tensor, info = letterbox(frame, (416, 416))

    white = np.argwhere(tensor[0, 0] > 128)
    (y0, x0), (y1, x1) = white.min(axis=0), white.max(axis=0) + 1
    back = unletterbox(np.array([[x0, y0, x1, y1]], np.float32), info)[0]

    assert back == pytest.approx([960, 540, 1920, 1080], abs=1 / info.scale + 1)


@pytest.mark.parametrize(
    ("sources", "input_wh", "align", "canvas"),
    [
        ([(640, 360)], (416, 416), "top_left", (416, 256)),  # 16:9 sub stream
        ([(1920, 1080)], (416, 416), "top_left", (416, 256)),
        ([(704, 576)], (416, 416), "top_left", (416, 352)),  # D1 / PAL
        ([(810, 1080)], (416, 416), "top_left", (320, 416)),  # portrait
        ([(640, 360), (640, 480)], (416, 416), "top_left", (416, 320)),
        ([(640, 360), (360, 640)], (416, 416), "top_left", (416, 416)),
        ([(1920, 1080)], (640, 640), "centre", (640, 384)),
        ([(416, 416)], (416, 416), "top_left", (416, 416)),
        ([(30, 10)], (416, 416), "top_left", (416, 160)),  # upscaled, rounded up
    ],
)
def test_stride_canvas_table(
    sources: list[tuple[int, int]],
    input_wh: tuple[int, int],
    align: LetterboxAlign,
    canvas: tuple[int, int],
) -> None:
    assert stride_canvas(sources, input_wh, 32, align) == canvas


def test_stride_canvas_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="stride"):
        stride_canvas([], (416, 416), 32)
    with pytest.raises(ValueError, match="stride"):
        stride_canvas([(640, 360)], (416, 416), 0)


@pytest.mark.parametrize("align", ["top_left", "centre"])
def test_a_fitted_canvas_keeps_the_square_scale_and_round_trips(
    align: LetterboxAlign,
) -> None:
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[100:200, 300:400] = 255  # a white square

    square, square_info = letterbox(frame, (416, 416), align=align)
    fitted, info = letterbox(frame, (416, 416), align=align, stride=32)

    assert fitted.shape == (1, 3, 256, 416)
    assert info.input_wh == (416, 256)
    assert info.scale == square_info.scale
    assert info.resized_wh == square_info.resized_wh == (416, 234)
    assert info.pad_xy == ((0, 0) if align == "top_left" else (0, 11))
    left, top = info.pad_xy
    # the picture is the square's picture, moved by the padding difference
    dy = square_info.pad_xy[1] - top
    assert np.array_equal(
        fitted[0, :, top : top + 234, :], square[0, :, dy + top : dy + top + 234, :]
    )
    assert np.all(fitted[0, :, :top, :] == 114)
    assert np.all(fitted[0, :, top + 234 :, :] == 114)
    box = np.array([[300 * info.scale + left, 100 * info.scale + top,
                     400 * info.scale + left, 200 * info.scale + top]])  # fmt: skip
    assert unletterbox(box, info).tolist() == [
        pytest.approx([300, 100, 400, 200], abs=1e-3)
    ]


def test_a_canvas_too_small_for_the_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        letterbox_info((640, 360), (416, 416), "top_left", (416, 224))
