"""Fixtures of the vision tests: the real default model and real photographs.

The photographs are the sample pictures in the ``ultralytics`` wheel (AGPL):
the wheel is downloaded once into the git-ignored ``data/test-photos`` and the
JPEGs are read from the zip at test time, never extracted, committed or shipped.
The model weights come from ``vision.onnx.fetch.fetch_all`` into ``models/.cache``,
as ``citywall models fetch`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from vision.manifest import ModelManifest, load_manifest
from vision.onnx.fetch import fetch_all

ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = ROOT / "models"
CACHE_DIR = MODELS_DIR / ".cache"
PHOTOS_DIR = ROOT / "data" / "test-photos"
PHOTO_MEMBERS = {
    "bus": "ultralytics/assets/bus.jpg",
    "zidane": "ultralytics/assets/zidane.jpg",
}
_PIP_TIMEOUT_S = 300.0


@pytest.fixture(scope="session")
def yolox_manifest() -> ModelManifest:
    """The default model's manifest, ``models/yolox_nano.toml``."""
    return load_manifest(MODELS_DIR / "yolox_nano.toml")


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """``models/.cache`` holding the verified default weights (fetched if missing)."""
    fetch_all(MODELS_DIR, CACHE_DIR)
    return CACHE_DIR


def _photo_wheel() -> Path:
    wheels = sorted(PHOTOS_DIR.glob("ultralytics-*.whl"))
    if wheels:
        return wheels[-1]
    PHOTOS_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "ultralytics",
        "-d",
        str(PHOTOS_DIR),
    ]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=_PIP_TIMEOUT_S,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"pip download ultralytics failed:\n{done.stderr}"
    wheels = sorted(PHOTOS_DIR.glob("ultralytics-*.whl"))
    assert wheels, f"pip download left no ultralytics wheel in {PHOTOS_DIR}"
    return wheels[-1]


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
