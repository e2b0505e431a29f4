"""The one timestamp rule of the wire, tested in one place.

Time on the API, the WebSocket and MQTT is RFC 3339 in UTC with ``Z`` and
milliseconds. The format is checked on the helpers, then every model that
goes out (REST responses, bus topics, which feed the WebSocket and MQTT) is
walked: a datetime field anywhere in them must be a ``WireTime``.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, PlainSerializer

from wall.app import ROUTERS, create_app
from wall.config.settings import Settings
from wall.platform.event_bus import Event, catalogue
from wall.platform.wire import WireModel, WireTime, parse_wire_time, wire_time

WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("moment", "text", "raises"),
    [
        (
            datetime(2026, 12, 4, 18, 53, 45, 123456, UTC),
            "2026-12-04T18:53:45.123Z",
            None,
        ),
        (
            datetime(2026, 12, 5, 2, 53, 45, tzinfo=CST),
            "2026-12-04T18:53:45.000Z",
            None,
        ),
        (
            datetime(2026, 12, 31, 23, 59, 59, 999999, UTC),
            "2026-12-31T23:59:59.999Z",
            None,
        ),
        (datetime(2026, 12, 4, 18, 53, 45), None, ValueError),
    ],
)
def test_wire_time_is_utc_z_with_milliseconds(
    moment: datetime, text: str | None, raises: type[Exception] | None
) -> None:
    ctx: AbstractContextManager[Any] = (
        pytest.raises(raises) if raises else nullcontext()
    )
    with ctx:
        out = wire_time(moment)
        assert out == text and WIRE_TIME.match(out)


@pytest.mark.parametrize(
    ("text", "expected", "raises"),
    [
        (
            "2026-12-04T18:53:45.123Z",
            datetime(2026, 12, 4, 18, 53, 45, 123000, UTC),
            None,
        ),
        (
            "2026-12-05T02:53:45+08:00",
            datetime(2026, 12, 4, 18, 53, 45, tzinfo=UTC),
            None,
        ),
        ("2026-12-04T18:53:45", None, ValueError),
        ("yesterday", None, ValueError),
    ],
)
def test_parse_wire_time_needs_a_zone(
    text: str, expected: datetime | None, raises: type[Exception] | None
) -> None:
    ctx: AbstractContextManager[Any] = (
        pytest.raises(raises) if raises else nullcontext()
    )
    with ctx:
        assert parse_wire_time(text) == expected


class Stamped(WireModel):
    at: WireTime


def test_a_wire_time_field_serialises_by_the_rule_and_refuses_naive_input() -> None:
    moment = datetime(2026, 12, 5, 2, 53, 45, 5000, tzinfo=CST)
    assert Stamped(at=moment).model_dump(mode="json") == {
        "at": "2026-12-04T18:53:45.005Z"
    }
    assert Stamped.model_validate_json('{"at": "2026-12-04T18:53:45.005Z"}').at == (
        moment
    )
    with pytest.raises(ValueError, match="no zone"):
        Stamped(at=datetime(2026, 12, 4))


def test_the_websocket_envelope_stamps_events_by_the_rule() -> None:
    event = Event("camera.health", {}, datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC), 7)
    assert event.to_json()["at"] == "2026-12-04T01:02:03.000Z"


def _wired(metadata: typing.Iterable[Any]) -> bool:
    return any(isinstance(m, PlainSerializer) and m.func is wire_time for m in metadata)


def _parts(annotation: Any, wired: bool) -> Iterator[tuple[Any, bool]]:
    """The types inside an annotation, each with whether a WireTime wraps it."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        yield from _parts(inner, wired or _wired(metadata))
    elif origin is not None:
        for arg in typing.get_args(annotation):
            yield from _parts(arg, wired)
    else:
        yield annotation, wired


def _loose_datetimes(model: type[BaseModel], seen: set[type]) -> Iterator[str]:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        for part, wired in _parts(field.annotation, _wired(field.metadata)):
            if part is datetime and not wired:
                yield f"{model.__module__}.{model.__name__}.{name}"
            elif isinstance(part, type) and issubclass(part, BaseModel):
                yield from _loose_datetimes(part, seen)


def test_every_datetime_that_goes_out_is_a_wire_time(tmp_path: Any) -> None:
    create_app(Settings.model_validate({"storage": {"data_dir": str(tmp_path)}}))
    models = [
        r.response_model
        for module in ROUTERS
        for r in module.router.routes
        if isinstance(r, APIRoute) and isinstance(r.response_model, type)
    ]
    models += [t.payload for t in catalogue()]
    assert len(models) > 20
    seen: set[type] = set()
    loose = [f for m in models for f in _loose_datetimes(m, seen)]
    assert loose == []


class _Loose(WireModel):
    at: datetime
    maybe: WireTime | None = None
    inner: Stamped | None = None


def test_the_walk_names_a_plain_datetime_and_passes_wire_times() -> None:
    assert list(_loose_datetimes(_Loose, set())) == [f"{__name__}._Loose.at"]
