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


# fmt: off
MASK_TEXT_CASES = [
    # a password holding "@": everything up to the last "@" of the authority
    ("rtsp://user:p@ss@host/x",                "rtsp://***@host/x"),
    ("open rtsp://u:a@b@c@10.0.0.5:554/ch1 failed", "open rtsp://***@10.0.0.5:554/ch1 failed"),
    ("rtsp://u:p%40ss@h/x",                    "rtsp://***@h/x"),
    ("rtsp://h/x user@example.org",            "rtsp://h/x user@example.org"),
    # parameter names are decoded before they are matched
    ("GET /api/v1/ws?access_tok%65n=cw_SECRET", "GET /api/v1/ws?access_token=***"),
    ("/x?%61ccess_t%6Fken=cw_SECRET&a=1",     "/x?access_token=***&a=1"),
    ("/x?ACCESS_TOKEN=cw_SECRET",              "/x?ACCESS_TOKEN=***"),
    ("/x?access_tok%2565n=cw_SECRET",          "/x?access_token=***"),  # twice encoded
    ("/x?a=1%26access_token%3Dcw_SECRET",      "/x?a=1&access_token=***"),
    ("/x?pass%77ord=hunter2",                  "/x?password=***"),
    # nothing secret: text, encoding included, is left alone
    ("/x?name=caf%C3%A9&n=1",                  "/x?name=caf%C3%A9&n=1"),
    ("100% done",                              "100% done"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), MASK_TEXT_CASES)
def test_mask_text_table(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert mask_text(expected) == expected  # masking is idempotent


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:p@ss@host/x", "rtsp://***@host/x"),
        ("http://h/s?access_tok%65n=cw_SECRET", "http://h/s?access_token=***"),
        ("http://h/s?tok%65n=abc&x=1", "http://h/s?token=***&x=1"),
    ],
)
def test_mask_url_decodes_before_it_matches(url: str, expected: str) -> None:
    assert mask_url(url) == expected
