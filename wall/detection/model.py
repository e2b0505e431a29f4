"""Opening the detector's model: manifest, ONNX session and pipeline (worker thread)."""

from __future__ import annotations

import logging
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vision.errors import ModelUnavailable
from vision.manifest import load_manifests
from vision.onnx.session import ModelSession, SessionOptions
from vision.pipeline import DetectionPipeline
from wall.detection.settings import DetectionSettings

__all__ = ["LoadedModel", "ModelPaths", "open_model"]

log = logging.getLogger(__name__)


class ModelPaths(Protocol):
    """Where manifests and weights are (the ``models:`` settings section)."""

    @property
    def manifests_dir(self) -> Path:
        """Folder of the model manifests (TOML)."""
        ...

    @property
    def cache_dir(self) -> Path:
        """Folder of the fetched, verified weights."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class LoadedModel:
    """A warmed-up model, ready for batches.

    Attributes:
        pipeline: Pre- and postprocessing of the model's family.
        session: The ONNX session.
        identity: Name, version, manifest and file SHA-256 (X5), for records.
    """

    pipeline: DetectionPipeline
    session: ModelSession
    identity: dict[str, str]


def open_model(
    settings: DetectionSettings, models: ModelPaths, classes: Set[str]
) -> LoadedModel:
    """Find the manifest, build the pipeline, open and warm up (blocks: a thread).

    Args:
        settings: The ``detection:`` section (model name, threads, letterbox).
        models: Where manifests and weights are.
        classes: Labels the rules need (empty: every label).

    Raises:
        ModelUnavailable: No such manifest, or weights that do not load.
        ManifestInvalid: A manifest that does not parse.
    """
    s = settings
    manifests = load_manifests(models.manifests_dir)
    manifest = next((m for m in manifests if m.name == s.model), None)
    if manifest is None:
        raise ModelUnavailable(s.model, f"no manifest named {s.model!r}")
    options = SessionOptions(intra_op_threads=s.threads)
    session = ModelSession.open(manifest, models.cache_dir, options)
    fit = s.letterbox == "fit" and session.dynamic_size
    if s.letterbox == "fit" and not fit:
        log.info("detector[%s] input size is fixed: letterboxing into the "
                 "full square", s.model)  # fmt: skip
    pipeline = DetectionPipeline(
        manifest,
        score_threshold=s.score_threshold,
        classes=classes or None,
        fit_canvas=fit,
    )
    identity = session.identity
    return LoadedModel(pipeline, session, {"name": identity.name,
                       "version": identity.version, "sha256": identity.sha256,
                       "file_sha256": session.sha256})  # fmt: skip
