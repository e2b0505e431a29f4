from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

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


def test_percent_encoded_parameter_name_is_masked_in_the_uvicorn_logs() -> None:
    log_redaction.install()
    keep = _Keep()
    keep.setFormatter(
        AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    )
    access, error = (
        logging.getLogger("uvicorn.access"),
        logging.getLogger("uvicorn.error"),
    )
    for logger in (access, error):
        logger.addHandler(keep)
    try:
        # uvicorn's access log unpacks its five arguments: they keep their shape
        access.warning(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            "/api/v1/cameras/c1/snapshot?access_tok%65n=cw_SECRET123",
            "1.1",
            200,
        )
        keep.setFormatter(logging.Formatter("%(message)s"))
        error.warning(
            '%s - "WebSocket %s" [accepted]',
            "127.0.0.1:5",
            "/api/v1/ws?access_tok%65n=cw_SECRET123",
        )
    finally:
        for logger in (access, error):
            logger.removeHandler(keep)
    assert len(keep.lines) == 2
    assert all("cw_SECRET123" not in line for line in keep.lines)
    assert all("access_token=***" in line for line in keep.lines)
