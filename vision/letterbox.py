"""Letterboxing: fit camera frames into a network input and map boxes back.

A frame is scaled by one factor (aspect ratio kept) to fit the network input and
the rest is padded with grey. YOLOX pads at the right and bottom (the image sits
at the top-left corner); Ultralytics YOLOv8 centres it. The tensor is NCHW
float32 in the channel order and value range the model's manifest asks for.

With a ``stride`` (a model whose input height and width are dynamic), the
canvas shrinks to the smallest multiple of the stride that holds the scaled
frames ("rectangular inference"): a 16:9 frame scaled to 416x234 goes into a
416x256 canvas instead of 416x416, and the network computes no padding it
would ignore anyway. The scale is the same as in the full square, so objects
keep the size the model expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict, Unpack

import cv2
import numpy as np
from numpy.typing import NDArray

from vision.boxes import clip_xyxy

__all__ = [
    "LetterboxAlign",
    "LetterboxInfo",
    "PixelFormat",
    "letterbox",
    "letterbox_batch",
    "letterbox_info",
    "stride_canvas",
    "unletterbox",
]

LetterboxAlign = Literal["top_left", "centre"]
PixelFormat = Literal["bgr", "rgb"]


class LetterboxOptions(TypedDict, total=False):
    """Keyword options of :func:`letterbox_batch`, passed on by :func:`letterbox`."""

    align: LetterboxAlign
    pixel_format: PixelFormat
    normalise: bool
    stride: int | None


_DEFAULT_PAD = 114  # YOLOX and Ultralytics both pad with this grey


@dataclass(frozen=True, slots=True)
class LetterboxInfo:
    """How one frame was placed in the network input.

    Attributes:
        scale: Network pixels per source pixel (same on both axes).
        pad_xy: Offset (x, y) of the scaled image inside the input, in network px.
        resized_wh: Size (width, height) of the scaled image in network px.
        source_wh: Size (width, height) of the source frame in pixels.
        input_wh: Size (width, height) of the tensor it was placed in (the
            canvas, smaller than the nominal input with a stride), in pixels.
    """

    scale: float
    pad_xy: tuple[int, int]
    resized_wh: tuple[int, int]
    source_wh: tuple[int, int]
    input_wh: tuple[int, int]


def letterbox_info(
    source_wh: tuple[int, int],
    input_wh: tuple[int, int],
    align: LetterboxAlign = "top_left",
    canvas_wh: tuple[int, int] | None = None,
) -> LetterboxInfo:
    """Compute where a frame lands in the network input.

    ``top_left`` truncates the scaled size like YOLOX's ``preproc``; ``centre``
    rounds it and splits the padding like Ultralytics' ``LetterBox``.

    Args:
        source_wh: Frame (width, height) in pixels.
        input_wh: Network input (width, height) in pixels; sets the scale.
        align: Where the scaled image sits.
        canvas_wh: The tensor's (width, height) when smaller than ``input_wh``
            (see :func:`stride_canvas`); it must hold the scaled frame.

    Returns:
        The placement.

    Raises:
        ValueError: If a size is not positive.

    Examples:
        >>> info = letterbox_info((810, 1080), (416, 416))
        >>> round(info.scale, 4), info.pad_xy, info.resized_wh
        (0.3852, (0, 0), (312, 416))
        >>> letterbox_info((1280, 720), (640, 640), "centre").pad_xy
        (0, 140)
        >>> letterbox_info((1280, 720), (640, 640), "centre", (640, 384)).pad_xy
        (0, 12)

    Raises:
        ValueError: Also when the canvas cannot hold the scaled frame.
    """
    (src_w, src_h), (in_w, in_h) = source_wh, input_wh
    if min(src_w, src_h, in_w, in_h) <= 0:
        raise ValueError(
            f"sizes must be positive: source {source_wh}, input {input_wh}"
        )
    scale = min(in_w / src_w, in_h / src_h)
    if align == "top_left":
        resized = (max(1, int(src_w * scale)), max(1, int(src_h * scale)))
    else:
        resized = (max(1, round(src_w * scale)), max(1, round(src_h * scale)))
    can_w, can_h = canvas_wh or input_wh
    if resized[0] > can_w or resized[1] > can_h:
        raise ValueError(f"canvas {canvas_wh} cannot hold a frame scaled to {resized}")
    pad = (0, 0)
    if align == "centre":
        pad = ((can_w - resized[0]) // 2, (can_h - resized[1]) // 2)
    return LetterboxInfo(scale, pad, resized, (src_w, src_h), (can_w, can_h))


def stride_canvas(
    sources_wh: Sequence[tuple[int, int]],
    input_wh: tuple[int, int],
    stride: int,
    align: LetterboxAlign = "top_left",
) -> tuple[int, int]:
    """The smallest stride-aligned canvas holding every frame, scaled as in the square.

    Args:
        sources_wh: The frames' (width, height) in pixels.
        input_wh: The model's nominal input (width, height); the canvas never
            exceeds it.
        stride: The model's largest stride (32 for YOLOX and YOLOv8).
        align: The family's placement (decides how scaled sizes round).

    Returns:
        The canvas (width, height).

    Raises:
        ValueError: For no frames, a stride below 1 or a non-positive size.

    Examples:
        >>> stride_canvas([(640, 360)], (416, 416), 32)
        (416, 256)
        >>> stride_canvas([(640, 360), (480, 640)], (416, 416), 32)
        (416, 416)
        >>> stride_canvas([(1920, 1080)], (640, 640), 32, "centre")
        (640, 384)
    """
    if not sources_wh or stride < 1:
        raise ValueError(f"need frames and a positive stride, got {stride}")
    width = height = 0
    for source in sources_wh:
        info = letterbox_info(source, input_wh, align)
        width, height = max(width, info.resized_wh[0]), max(height, info.resized_wh[1])
    in_w, in_h = input_wh
    return (
        min(in_w, -(-width // stride) * stride),
        min(in_h, -(-height // stride) * stride),
    )


def _check_frame(frame_bgr: NDArray[np.uint8]) -> tuple[int, int]:
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(
            f"expected an (H, W, 3) uint8 BGR frame, got {frame_bgr.shape} "
            f"{frame_bgr.dtype}"
        )
    return int(frame_bgr.shape[1]), int(frame_bgr.shape[0])


def _fill(
    out_chw: NDArray[np.float32],
    frame_bgr: NDArray[np.uint8],
    info: LetterboxInfo,
    pad_value: int,
    pixel_format: PixelFormat,
) -> None:
    """Write one letterboxed frame into a (3, H, W) float32 slot.

    Only the padding strips are filled with grey and only the scaled image is
    converted, straight from HWC uint8 to CHW float32 (no intermediate canvas).
    """
    (left, top), (new_w, new_h) = info.pad_xy, info.resized_wh
    resized: NDArray[np.uint8] = frame_bgr
    if (new_w, new_h) != info.source_wh:
        resized = np.asarray(
            cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR),
            dtype=np.uint8,
        )
    if pixel_format == "rgb":
        resized = resized[:, :, ::-1]
    out_chw[:, :top, :] = pad_value
    out_chw[:, top + new_h :, :] = pad_value
    out_chw[:, top : top + new_h, :left] = pad_value
    out_chw[:, top : top + new_h, left + new_w :] = pad_value
    out_chw[:, top : top + new_h, left : left + new_w] = resized.transpose(2, 0, 1)


def letterbox_batch(
    frames_bgr: Sequence[NDArray[np.uint8]],
    input_wh: tuple[int, int],
    pad_value: int = _DEFAULT_PAD,
    *,
    align: LetterboxAlign = "top_left",
    pixel_format: PixelFormat = "bgr",
    normalise: bool = False,
    stride: int | None = None,
) -> tuple[NDArray[np.float32], tuple[LetterboxInfo, ...]]:
    """Letterbox several frames (of any sizes) into one NCHW batch.

    Args:
        frames_bgr: (H, W, 3) uint8 frames in OpenCV's BGR order.
        input_wh: Network input (width, height) in pixels.
        pad_value: Grey level of the padding, 0-255.
        align: Where each scaled image sits (see :func:`letterbox_info`).
        pixel_format: Channel order of the tensor.
        normalise: Divide by 255 (0-1 values) instead of keeping 0-255.
        stride: Shrink the canvas to the stride-aligned size that holds the
            batch (:func:`stride_canvas`); ``None`` keeps ``input_wh``.

    Returns:
        A float32 tensor (N, 3, height, width) and each frame's placement.

    Raises:
        ValueError: For an empty batch or a frame that is not (H, W, 3) uint8.
    """
    if not frames_bgr:
        raise ValueError("empty batch")
    sizes = [_check_frame(frame) for frame in frames_bgr]
    canvas = input_wh
    if stride is not None:
        canvas = stride_canvas(sizes, input_wh, stride, align)
    can_w, can_h = canvas
    batch = np.empty((len(frames_bgr), 3, can_h, can_w), dtype=np.float32)
    infos = []
    for slot, frame, size in zip(batch, frames_bgr, sizes, strict=True):
        info = letterbox_info(size, input_wh, align, canvas)
        _fill(slot, frame, info, pad_value, pixel_format)
        infos.append(info)
    if normalise:
        batch *= np.float32(1 / 255)
    return batch, tuple(infos)


def letterbox(
    frame_bgr: NDArray[np.uint8],
    input_wh: tuple[int, int],
    pad_value: int = _DEFAULT_PAD,
    **options: Unpack[LetterboxOptions],
) -> tuple[NDArray[np.float32], LetterboxInfo]:
    """Letterbox one frame into a (1, 3, H, W) tensor.

    See :func:`letterbox_batch` for the arguments; ``options`` are its keywords.

    Returns:
        The float32 tensor and the frame's placement.
    """
    batch, (info,) = letterbox_batch([frame_bgr], input_wh, pad_value, **options)
    return batch, info


def unletterbox(xyxy: NDArray[np.floating], info: LetterboxInfo) -> NDArray[np.float32]:
    """Map boxes from network-input pixels back to source-frame pixels.

    Removes the padding offset, divides by the scale and clips to the frame.

    Args:
        xyxy: (N, 4) boxes in network-input pixels.
        info: The frame's placement from letterbox.

    Returns:
        (N, 4) float32 boxes in source pixels.

    Examples:
        >>> info = letterbox_info((1280, 720), (640, 640), "centre")
        >>> unletterbox(np.array([[0, 140, 320, 320]]), info).tolist()
        [[0.0, 0.0, 640.0, 360.0]]
    """
    boxes = np.asarray(xyxy, dtype=np.float32)
    pad = np.asarray(info.pad_xy * 2, dtype=np.float32)
    return clip_xyxy((boxes - pad) / np.float32(info.scale), info.source_wh)
