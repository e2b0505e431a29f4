"""Adapter: one onnxruntime session per detector model (X1).

The session is created and warmed up once, at start-up: creation holds the GIL
for a while, ``run()`` releases it, so the service calls :meth:`ModelSession.run`
from a worker thread. Every onnxruntime error is converted here: a model that
does not load, whose input or output shape disagrees with its manifest, or whose
execution providers are missing (without CPU fallback) raises
:class:`~vision.errors.ModelUnavailable`, which the service shows as a detector
``unavailable`` while video keeps playing.

A model with a fixed batch of 1 is run once per image of a batch (looping); the
derived dynamic-batch file from
:func:`vision.onnx.dynamic_batch.derive_dynamic_batch` takes a whole batch in
one call.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime
from numpy.typing import NDArray

from vision.errors import (
    InferenceFailed,
    ModelUnavailable,
    WeightsHashMismatch,
    WeightsMissing,
)
from vision.families import make_decoder
from vision.families.anchors import DEFAULT_STRIDES
from vision.letterbox import stride_canvas
from vision.manifest import ModelManifest
from vision.onnx.dynamic_batch import (
    DERIVED_FROM_KEY,
    dynamic_batch_path,
    make_batch_dynamic,
    read_sidecar,
)
from vision.onnx.fetch import verify_weights
from vision.types import ModelIdentity

__all__ = ["ModelSession", "SessionOptions", "make_batch_dynamic"]

logger = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
GraphOptimisation = Literal["disabled", "basic", "extended", "all"]
_OPT_LEVELS = {
    "disabled": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
_ORT_WARNINGS_AND_UP = 2  # keep onnxruntime's INFO chatter out of our logs


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How to create an onnxruntime session.

    Attributes:
        providers: Execution providers in order of preference.
        cpu_fallback: Use the CPU provider when preferred ones are missing;
            without it a missing provider makes the model unavailable (X1).
        intra_op_threads: Threads inside one operator; 0 lets onnxruntime pick.
        inter_op_threads: Threads across operators (sequential mode uses one).
        graph_optimisation: onnxruntime graph optimisation level. "all" is
            about 1.7x faster than "disabled" for YOLOX-Nano on CPU.
        warm_up: Run one batch at creation so the first real frame is not slow.
        spin_wait: Let idle intra-op threads spin instead of sleeping. Spinning
            shortens a lone session's latency but burns CPU that the video
            decoders and relays on the same cores need, so it is off.
    """

    providers: tuple[str, ...] = (CPU,)
    cpu_fallback: bool = True
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    graph_optimisation: GraphOptimisation = "all"
    warm_up: bool = True
    spin_wait: bool = False


def _choose_providers(name: str, options: SessionOptions) -> list[str]:
    available = set(onnxruntime.get_available_providers())
    chosen = [p for p in options.providers if p in available]
    missing = [p for p in options.providers if p not in available]
    if missing:
        if not options.cpu_fallback:
            raise ModelUnavailable(
                name,
                f"execution provider(s) not available: {', '.join(missing)} "
                f"(available: {', '.join(sorted(available))}; CPU fallback off)",
            )
        logger.warning(
            "model[%s] provider(s) %s not available; falling back to CPU",
            name,
            ", ".join(missing),
        )
    if options.cpu_fallback and CPU not in chosen:
        chosen.append(CPU)
    if not chosen:
        raise ModelUnavailable(name, "no execution provider configured")
    return chosen


def _dims(shape: list[int | str | None]) -> str:
    return (
        "[" + ", ".join("N" if not isinstance(d, int) else str(d) for d in shape) + "]"
    )


class ModelSession:
    """A loaded, checked and warmed-up onnxruntime session for one manifest.

    Callable: ``session(batch)`` is ``session.run(batch)``, so it serves as the
    :class:`vision.pipeline.BatchRunner` of a pipeline.

    Attributes:
        identity: Model name, version and manifest SHA-256 (X5).
        path: The ONNX file that was loaded.
        sha256: SHA-256 of that file (the derived file's for a dynamic batch).
        dynamic_batch: Whether one call takes a batch of any size.
        dynamic_size: Whether the input height and width are symbolic (the
            pipeline may then letterbox into smaller, stride-aligned canvases).
        providers: Execution providers onnxruntime actually uses.
    """

    def __init__(
        self,
        manifest: ModelManifest,
        path: Path,
        options: SessionOptions | None = None,
        *,
        sha256: str | None = None,
    ) -> None:
        """Load, check and warm up a model file.

        Args:
            manifest: The model's manifest (input size, family, labels).
            path: The ONNX file; its hash is not checked here (see :meth:`open`).
            options: Session options; defaults to one CPU thread.
            sha256: Known SHA-256 of ``path``; defaults to the manifest's.

        Raises:
            ModelUnavailable: The file does not load, shapes disagree with the
                manifest, providers are missing, or the warm-up run fails.
        """
        options = options or SessionOptions()
        self.identity = ModelIdentity(manifest.name, manifest.version, manifest.sha256)
        self.path = path
        self.sha256 = sha256 or manifest.sha256
        self._name = manifest.name
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = options.intra_op_threads
        session_options.inter_op_num_threads = options.inter_op_threads
        session_options.graph_optimization_level = _OPT_LEVELS[
            options.graph_optimisation
        ]
        session_options.log_severity_level = _ORT_WARNINGS_AND_UP
        session_options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if options.spin_wait else "0"
        )
        providers = _choose_providers(manifest.name, options)
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), session_options, providers=providers
            )
        except Exception as err:  # onnxruntime's pybind errors share no base class
            raise ModelUnavailable(manifest.name, f"cannot load {path}: {err}") from err
        self.providers = tuple(self._session.get_providers())
        self.dynamic_size = False
        self.dynamic_batch = self._check_io(manifest)
        if options.warm_up:
            self._warm_up(manifest)

    @classmethod
    def open(
        cls,
        manifest: ModelManifest,
        cache_dir: Path,
        options: SessionOptions | None = None,
        *,
        prefer_dynamic_batch: bool = True,
    ) -> ModelSession:
        """Open a model from the weights cache after checking its hashes.

        The derived dynamic-batch file is used when it exists, its SHA-256
        matches its sidecar and it was derived from the manifest's weights;
        otherwise the original file is used and batches are run image by image.

        Args:
            manifest: The model.
            cache_dir: The weights cache, normally ``models/.cache``.
            options: Session options.
            prefer_dynamic_batch: Try the derived dynamic-batch file first.

        Returns:
            The ready session.

        Raises:
            ModelUnavailable: Weights missing or with the wrong SHA-256, or any
                reason of the constructor.
        """
        try:
            original = verify_weights(manifest, cache_dir)
        except (WeightsMissing, WeightsHashMismatch) as err:
            raise ModelUnavailable(manifest.name, str(err)) from err
        derived = dynamic_batch_path(manifest, cache_dir)
        if prefer_dynamic_batch and derived.is_file():
            session = cls._try_derived(manifest, derived, options)
            if session is not None:
                return session
            logger.warning(
                "model[%s] ignoring %s (hash, origin or load failed); batching "
                "by looping over the original",
                manifest.name,
                derived,
            )
        return cls(manifest, original, options)

    @classmethod
    def _try_derived(
        cls, manifest: ModelManifest, path: Path, options: SessionOptions | None
    ) -> ModelSession | None:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if read_sidecar(path) != actual:
            return None
        try:
            session = cls(manifest, path, options, sha256=actual)
        except ModelUnavailable as err:
            logger.warning("model[%s] derived model unusable: %s", manifest.name, err)
            return None
        if session.derived_from != manifest.sha256 or not session.dynamic_batch:
            return None
        return session

    @property
    def derived_from(self) -> str | None:
        """SHA-256 of the original file, for a derived model; else ``None``."""
        meta = self._session.get_modelmeta().custom_metadata_map
        value = meta.get(DERIVED_FROM_KEY)
        return None if value is None else str(value)

    def _check_io(self, manifest: ModelManifest) -> bool:
        """Check input and output shapes against the manifest; True if dynamic."""
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or inputs[0].type != "tensor(float)":
            types = ", ".join(i.type for i in inputs) or "none"
            raise ModelUnavailable(
                manifest.name, f"expected one float32 input, found {types}"
            )
        self._input_name = str(inputs[0].name)
        width, height = manifest.input_wh
        shape = list(inputs[0].shape)
        fixed_batch = bool(shape) and isinstance(shape[0], int)
        symbolic = [not isinstance(d, int) for d in shape[2:]]
        self.dynamic_size = len(shape) == 4 and all(symbolic)
        if (
            len(shape) != 4
            or shape[1] != 3
            or any(
                isinstance(got, int) and got != want
                for got, want in zip(shape[2:], (height, width), strict=True)
            )
            or any(symbolic) != all(symbolic)
            or (fixed_batch and shape[0] != 1)
        ):
            raise ModelUnavailable(
                manifest.name,
                f"input {self._input_name!r} has shape {_dims(shape)}, but the "
                f"manifest's input_wh {width}x{height} needs "
                f"{_dims([None, 3, height, width])}",
            )
        decoder = make_decoder(manifest.family, manifest.input_wh, len(manifest.labels))
        per_image = list(decoder.output_shape)
        out_shape = list(outputs[0].shape) if outputs else []
        if len(out_shape) != 3 or any(
            isinstance(got, int) and got != want
            for got, want in zip(out_shape[1:], per_image, strict=True)
        ):
            raise ModelUnavailable(
                manifest.name,
                f"output shape {_dims(out_shape)} does not fit family "
                f"{manifest.family} with {len(manifest.labels)} labels: "
                f"expected {_dims([None, *per_image])}",
            )
        return not fixed_batch

    def _warm_up(self, manifest: ModelManifest) -> None:
        sizes = [manifest.input_wh]
        if self.dynamic_size:  # the usual 16:9 canvas too: no first-frame stall
            sizes.append(
                stride_canvas([(1600, 900)], manifest.input_wh, max(DEFAULT_STRIDES))
            )
        try:
            for width, height in sizes:
                self.run(np.full((1, 3, height, width), 114, dtype=np.float32))
        except InferenceFailed as err:
            raise ModelUnavailable(
                manifest.name, f"warm-up failed: {err.reason}"
            ) from err

    def run(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        """Run the network on an (N, 3, H, W) float32 batch.

        A fixed-batch model runs once per image and the outputs are stacked.

        Args:
            batch: The letterboxed input.

        Returns:
            The model's first output, with N as its first dimension.

        Raises:
            InferenceFailed: onnxruntime rejected the input or failed.
        """
        if self.dynamic_batch or batch.shape[0] == 1:
            return self._run_once(batch)
        return np.concatenate(
            [self._run_once(batch[i : i + 1]) for i in range(batch.shape[0])]
        )

    __call__ = run

    def _run_once(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        try:
            (output, *_) = self._session.run(None, {self._input_name: batch})
        except Exception as err:  # onnxruntime's pybind errors share no base class
            raise InferenceFailed(self._name, str(err)) from err
        return np.asarray(output, dtype=np.float32)
