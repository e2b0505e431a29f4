"""The shared URL port check: its messages never repeat the URL."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from devices.addresses import checked_port
from devices.cameras.config import StreamConfig
from devices.mqtt.publisher import MqttPublisherConfig


def test_port_is_read_or_none() -> None:
    assert checked_port(urlsplit("rtsp://cam:8554/s"), "URL") == 8554
    assert checked_port(urlsplit("rtsp://cam/s"), "URL") is None


def test_a_bad_port_names_the_url_kind_not_the_url() -> None:
    with pytest.raises(ValueError, match=r"^broker URL has an invalid port$"):
        checked_port(urlsplit("mqtt://user:secret@broker:99999"), "broker URL")


@pytest.mark.parametrize(
    ("url", "message"),
    [("rtsp://:pw@/s", "URL has no host"), ("rtsp://u:pw@cam:x/s", "invalid port")],
)
def test_camera_urls_use_it(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        StreamConfig(url=url)
    reason = str(caught.value.errors()[0]["msg"])
    assert message in reason
    assert "pw" not in reason


@pytest.mark.parametrize(
    ("url", "message"),
    [("mqtt://", "broker URL has no host"), ("mqtt://b:x", "invalid port")],
)
def test_broker_urls_use_it(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MqttPublisherConfig.from_url(url)
