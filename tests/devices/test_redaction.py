from __future__ import annotations

import pytest

from devices.redaction import mask_text, mask_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "rtsp://admin:s3cret@10.0.0.5:554/h264/ch1/main",
            "rtsp://***@10.0.0.5:554/h264/ch1/main",
        ),
        ("rtsp://admin@cam.local/x", "rtsp://***@cam.local/x"),
        ("rtsp://cam.local/x", "rtsp://cam.local/x"),
        ("http://h/s?token=abc&x=1", "http://h/s?token=***&x=1"),
        ("rtsp://u:p%40ss@h/x", "rtsp://***@h/x"),
        ("file:///srv/a.ts", "file:///srv/a.ts"),
    ],
)
def test_s1_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_s1_mask_text_in_library_messages() -> None:
    msg = "rtsp://admin:hunter2@1.2.3.4/x: Server returned 401 Unauthorized (password=hunter2)"
    out = mask_text(msg)
    assert "hunter2" not in out
    assert "admin" not in out
