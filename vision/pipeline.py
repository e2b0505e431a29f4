"""Detection pipeline: preprocess a batch of frames, run a model, postprocess.

Everything here is synchronous and free of I/O. The model run is any callable
taking an NCHW float32 batch and returning the raw output for that batch (the
onnxruntime adapter :class:`vision.onnx.session.ModelSession` is one; tests pass
tiny graphs or plain functions). Postprocessing per image: decode the family's
output, threshold, class-aware NMS, map boxes back to source pixels.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from vision.boxes import class_aware_nms
from vision.families import Decoder, make_decoder
from vision.families.anchors import DEFAULT_STRIDES
from vision.letterbox import LetterboxInfo, letterbox_batch, unletterbox
from vision.manifest import ModelManifest
from vision.types import Detection, ModelIdentity

__all__ = ["BatchRunner", "DetectionPipeline", "PreparedBatch"]

DEFAULT_IOU_THRESHOLD = 0.45  # YOLOX's and Ultralytics' default
DEFAULT_MAX_DETECTIONS = 300


class BatchRunner(Protocol):
    """Runs the network on an (N, 3, H, W) float32 batch and returns its output."""

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return the raw output whose first dimension is N."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class PreparedBatch:
    """Frames letterboxed into one network input.

    Attributes:
        tensor: (N, 3, H, W) float32 in the model's channel order and range.
        infos: Placement of each frame, to map boxes back.
    """

    tensor: NDArray[np.float32]
    infos: tuple[LetterboxInfo, ...]


class DetectionPipeline:
    """Pre- and postprocessing for one model, chosen by its manifest's family.

    Attributes:
        identity: Name, version and SHA-256 of the model (travels with results).
        labels: Class names in output order.
        input_wh: Network input (width, height) in pixels.
        score_threshold: Minimum score kept, 0-1.
        iou_threshold: NMS overlap above which a lower-scoring box is dropped.
        max_detections: Most detections kept per image.
        decoder: The family's output decoder.
        stride: With a dynamic-input model, frames go into the smallest
            canvas aligned to this stride (rectangular inference); ``None``
            always uses the full ``input_wh``.
    """

    def __init__(
        self,
        manifest: ModelManifest,
        *,
        score_threshold: float | None = None,
        iou_threshold: float = DEFAULT_IOU_THRESHOLD,
        classes: Collection[str] | None = None,
        max_detections: int = DEFAULT_MAX_DETECTIONS,
        fit_canvas: bool = False,
    ) -> None:
        """Set up the pipeline.

        Args:
            manifest: The model's manifest.
            score_threshold: Override of the manifest's ``score_threshold``.
            iou_threshold: NMS IoU threshold, 0-1.
            classes: Labels to keep (e.g. ``{"person", "car"}``); ``None`` keeps all.
            max_detections: Most detections per image, highest scores first.
            fit_canvas: Letterbox into the smallest stride-aligned canvas
                instead of the full input; only for a model whose input height
                and width are dynamic (see :class:`vision.onnx.session.ModelSession`).

        Raises:
            ValueError: For a label not in the manifest or a threshold outside 0-1.
        """
        self.identity = ModelIdentity(manifest.name, manifest.version, manifest.sha256)
        self.labels = manifest.labels
        self.input_wh = manifest.input_wh
        self._pixel_format = manifest.pixel_format
        self._normalise = manifest.normalise
        self.score_threshold = (
            manifest.score_threshold if score_threshold is None else score_threshold
        )
        self.iou_threshold = iou_threshold
        self.max_detections = max_detections
        for name, value in (
            ("score_threshold", self.score_threshold),
            ("iou_threshold", iou_threshold),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within 0-1, got {value}")
        self._class_mask = self._mask(classes)
        self.decoder: Decoder = make_decoder(
            manifest.family, manifest.input_wh, len(manifest.labels)
        )
        self.stride = max(DEFAULT_STRIDES) if fit_canvas else None

    def _mask(self, classes: Collection[str] | None) -> NDArray[np.bool_] | None:
        if classes is None:
            return None
        unknown = sorted(set(classes) - set(self.labels))
        if unknown:
            raise ValueError(f"unknown class labels: {', '.join(unknown)}")
        return np.isin(np.asarray(self.labels), list(classes))

    def preprocess(self, frames_bgr: Sequence[NDArray[np.uint8]]) -> PreparedBatch:
        """Letterbox frames (any sizes) into one batch for this model.

        Args:
            frames_bgr: (H, W, 3) uint8 BGR frames, one per camera.

        Returns:
            The batch tensor and each frame's placement.
        """
        tensor, infos = letterbox_batch(
            frames_bgr,
            self.input_wh,
            align=self.decoder.align,
            pixel_format=self._pixel_format,
            normalise=self._normalise,
            stride=self.stride,
        )
        return PreparedBatch(tensor, infos)

    def postprocess_one(
        self, output: NDArray[np.float32], info: LetterboxInfo
    ) -> tuple[Detection, ...]:
        """Turn one image's raw output into detections in source pixels.

        Args:
            output: The image's slice of the network output.
            info: The image's placement from :meth:`preprocess`.

        Returns:
            Detections, highest score first.
        """
        candidates = self.decoder.candidates(
            output, self.score_threshold, self._class_mask, info.input_wh
        )
        kept = class_aware_nms(candidates, self.iou_threshold, self.max_detections)
        boxes = unletterbox(kept.xyxy, info).tolist()
        return tuple(
            Detection(
                label=self.labels[class_id],
                class_id=class_id,
                score=score,
                xyxy=(box[0], box[1], box[2], box[3]),
            )
            for class_id, score, box in zip(
                kept.class_ids.tolist(), kept.scores.tolist(), boxes, strict=True
            )
        )

    def postprocess(
        self, outputs: NDArray[np.float32], infos: Sequence[LetterboxInfo]
    ) -> list[tuple[Detection, ...]]:
        """Postprocess a whole batch output, image by image.

        Args:
            outputs: Network output with one leading entry per image.
            infos: Placements in the same order.

        Returns:
            One tuple of detections per image.

        Raises:
            ValueError: If the batch sizes disagree.
        """
        if outputs.shape[0] != len(infos):
            raise ValueError(f"{outputs.shape[0]} outputs for {len(infos)} frames")
        return [
            self.postprocess_one(output, info)
            for output, info in zip(outputs, infos, strict=True)
        ]

    def detect(
        self, frames_bgr: Sequence[NDArray[np.uint8]], run: BatchRunner
    ) -> list[tuple[Detection, ...]]:
        """Preprocess, run once on the whole batch, postprocess.

        Args:
            frames_bgr: (H, W, 3) uint8 BGR frames.
            run: The model (see :class:`BatchRunner`).

        Returns:
            One tuple of detections per frame, in order.
        """
        batch = self.preprocess(frames_bgr)
        return self.postprocess(run(batch.tensor), batch.infos)
