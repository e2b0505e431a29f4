"""The test photographs are pinned by version and SHA-256, like the model (X6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vision.conftest import (
    PHOTOS_SHA256,
    PHOTOS_VERSION,
    PHOTOS_WHEEL,
    _check_photo_wheel,
    _photo_wheel,
)
from vision.onnx.fetch import sha256_of


def test_the_kept_wheel_is_the_pinned_one() -> None:
    wheel = _photo_wheel()
    assert wheel.name == PHOTOS_WHEEL
    assert PHOTOS_VERSION in wheel.name
    assert sha256_of(wheel) == PHOTOS_SHA256


def test_a_wheel_with_another_hash_fails_naming_both(tmp_path: Path) -> None:
    other = tmp_path / PHOTOS_WHEEL
    other.write_bytes(b"not the pinned wheel")

    with pytest.raises(pytest.fail.Exception) as caught:
        _check_photo_wheel(other)

    message = str(caught.value)
    assert str(other) in message
    assert PHOTOS_SHA256 in message
    assert sha256_of(other) in message
