from __future__ import annotations

import logging

import pytest

from wall.platform import log_redaction


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize(
    "name", ["uvicorn.error", "wall.runtime", "devices.cameras.reader"]
)
def test_tokens_and_url_credentials_never_reach_a_handler(name: str) -> None:
    log_redaction.install()
    log_redaction.install()  # idempotent
    logger = logging.getLogger(name)
    keep = _Keep()
    logger.addHandler(keep)
    try:
        logger.warning(
            '%s - "WebSocket %s" [accepted]',
            "127.0.0.1:5",
            "/api/v1/ws?access_token=cw_SECRET123",
        )
        logger.warning("opened rtsp://admin:hunter2@10.0.0.5/x")
    finally:
        logger.removeHandler(keep)
    text = "\n".join(keep.lines)
    assert "cw_SECRET123" not in text and "hunter2" not in text
    assert "access_token=***" in text and "rtsp://***@10.0.0.5/x" in text
    assert isinstance(
        logging.getLogRecordFactory(), log_redaction.SecretRedactingFactory
    )
