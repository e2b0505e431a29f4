"""Frames that cannot be messages close either WebSocket cleanly (issue 10).

Binary frames, oversize frames and deeply nested JSON used to end in an
exception inside the ASGI server (a logged traceback); now each closes the
socket with a standard code and a reason, and text that is not JSON gets an
error message while the socket stays open.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.service import RunningService, running_service
from wall.config.settings import Settings, StorageSettings
from wall.platform.auth import Role
from wall.walls.settings import WallSettings

SOCKETS = {
    "display feed": "/api/v1/walls/duty/ws?panel=0,0",
    "event socket": "/api/v1/ws",
}


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        walls=(WallSettings(id="duty", name="值班席", rows=2, cols=2),),
    )


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records of the service and of uvicorn (whose logger does not propagate)."""
    handler = _Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _url(svc: RunningService, path: str, role: Role = Role.ADMIN) -> str:
    sep = "&" if "?" in path else "?"
    return f"{svc.base_url.replace('http', 'ws')}{path}{sep}access_token={svc.tokens[role]}"


async def _close_of(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""

    async def drain() -> None:
        while True:
            await ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(drain(), 5)
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def _reply(ws: ClientConnection) -> dict[str, Any]:
    """The next answer to what the client sent (renders and events skipped)."""
    async with asyncio.timeout(5):
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") not in {"wall_state", "tour", "event"}:
                return dict(msg)


BAD_FRAMES: dict[str, tuple[str | bytes, int, str]] = {
    "binary": (b'{"type": "ping"}', 1003, "binary frames are not accepted"),
    "oversize": ('"' + "x" * 20_000 + '"', 1009, "limited to 16384 bytes"),
    # 16,384 bytes, but each of these characters takes 3 of them in UTF-8
    "oversize in UTF-8": ('"' + "水" * 6_000 + '"', 1009, "limited to 16384 bytes"),
    # 100k deep is over the size cap: refused before anything parses it
    "100k deep": ("[" * 100_000 + "]" * 100_000, 1009, "limited to 16384 bytes"),
    "5k deep": ("[" * 5_000 + "]" * 5_000, 1008, "JSON too deeply nested"),
    "deep object": ('{"a":' * 40 + "1" + "}" * 40, 1008, "JSON too deeply nested"),
}


@pytest.mark.parametrize("socket_path", SOCKETS.values(), ids=SOCKETS.keys())
@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_a_bad_frame_closes_the_socket_with_a_code_and_no_traceback(
    tmp_path: Path, socket_path: str, frame: tuple[str | bytes, int, str]
) -> None:
    payload, expected_code, expected_reason = frame
    with server_errors() as errors:
        async with running_service(_settings(tmp_path)) as svc:
            async with websockets.connect(_url(svc, socket_path)) as ws:
                await ws.send(payload)
                code, reason = await _close_of(ws)
            # the next client of the same socket is served as usual
            async with websockets.connect(_url(svc, socket_path)) as ws:
                await ws.send("not json")
                assert (await _reply(ws))["type"] == "error"
    assert (code, expected_reason in reason) == (expected_code, True), reason
    assert [r.getMessage() for r in errors] == []


# what each socket is sent, in order, and the type of each answer
CONVERSATIONS: dict[str, list[tuple[str, str]]] = {
    "/api/v1/ws": [
        ("not json", "error"),
        ('{"type": "subscribe", "topics": [[[["x"]]]]}', "error"),
        # brackets inside strings are not nesting
        (json.dumps({"type": "subscribe", "topics": ["[" * 60]}), "subscribed"),
        ('{"type": "ping"}', "pong"),
    ],
    "/api/v1/walls/duty/ws?panel=0,0": [
        ("not json", "error"),
        ('{"type": "applied", "revision": [[[1]]]}', "error"),
        (json.dumps({"type": "applied", "revision": 1, "at": "{" * 60}), "error"),
        ("{", "error"),
    ],
}


@pytest.mark.parametrize("socket_path", SOCKETS.values(), ids=SOCKETS.keys())
async def test_text_that_is_not_json_gets_an_error_and_the_socket_stays_open(
    tmp_path: Path, socket_path: str
) -> None:
    answers: list[str] = []
    with server_errors() as errors:
        async with (
            running_service(_settings(tmp_path)) as svc,
            websockets.connect(_url(svc, socket_path)) as ws,
        ):
            for text, _ in CONVERSATIONS[socket_path]:
                await ws.send(text)
                answers.append((await _reply(ws))["type"])
    assert answers == [answer for _, answer in CONVERSATIONS[socket_path]]
    assert [r.getMessage() for r in errors] == []
