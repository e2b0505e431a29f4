from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wall.config.loading import ConfigError, parse_settings

GOOD = """
api: {port: 8080}
cameras:
  - id: cam-1
    name: 江北大道
    location: {lon: 106.75, lat: 31.86}
    heading_deg: 45
    hfov_deg: 90
    streams:
      main: {url: "rtsp://admin:${CAM_PASS}@10.0.0.5/main"}
      sub: {url: "rtsp://admin:${CAM_PASS}@10.0.0.5/sub", transport: udp}
"""


def test_env_reference_is_resolved() -> None:
    settings = parse_settings(GOOD, env={"CAM_PASS": "pw"})
    assert settings.cameras[0].streams.main.url == "rtsp://admin:pw@10.0.0.5/main"
    assert settings.api.port == 8080


@pytest.mark.parametrize(
    ("text", "path", "line", "words"),
    [
        (
            "cameras:\n  - id: a\n    name: n\n    streams:\n      main: {url: 'rtsp//x'}\n",
            "cameras[0].streams.main.url",
            5,
            "scheme",
        ),
        (
            "cameras:\n  - id: a\n    name: n\n    streams:\n      main: {url: 'rtsp://'}\n",
            "cameras[0].streams.main.url",
            5,
            "no host",
        ),
        (
            "cameras:\n  - id: a\n    name: n\n    colour: red\n    streams:\n      main: {url: 'rtsp://h/x'}\n",
            "cameras[0].colour",
            4,
            "Extra inputs",
        ),
        ("api:\n  port: 70000\n", "api.port", 2, "less than or equal"),
        (
            "cameras:\n  - id: 'bad id!'\n    name: n\n    streams:\n      main: {url: 'rtsp://h/x'}\n",
            "cameras[0].id",
            2,
            "pattern",
        ),
        (
            "cameras:\n  - id: a\n    name: n\n    streams:\n      main: {url: 'rtsp://u:${MISSING_PW}@h/x'}\n",
            "cameras[0].streams.main.url",
            5,
            "MISSING_PW is not set",
        ),
    ],
)
def test_invalid_config_names_key_and_line(
    text: str, path: str, line: int, words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={})
    issue = next(i for i in info.value.issues if i.path == path)
    assert issue.line == line
    assert words in issue.message


def test_every_error_is_reported_and_no_secret_echoed() -> None:
    text = (
        "api: {port: -1}\n"
        "cameras:\n"
        "  - id: a\n    name: n\n    streams:\n      main: {url: 'ftp://user:topsecret@h/x'}\n"
        "  - id: a\n    name: m\n    streams:\n      main: {url: 'rtsp://h/y'}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={})
    text_out = str(info.value)
    assert "topsecret" not in text_out
    paths = {i.path for i in info.value.issues}
    assert "api.port" in paths and "cameras[0].streams.main.url" in paths


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings("cameras: [\n  - id: a\n", env={})
    assert info.value.issues[0].line is not None
    assert info.value.issues[0].message.startswith("YAML syntax: ")


def test_duplicate_keys_are_refused_like_in_layout_files() -> None:
    # YAML would keep the last "port" silently; the config file is refused
    # with every duplicate named, as layout files are (one policy).
    text = "api:\n  port: 8080\n  port: 9090\nstorage: {}\nstorage: {}\n"
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={})
    found = [(i.path, i.line) for i in info.value.issues]
    assert found == [("api.port", 3), ("storage", 5)]
    assert all("appears twice" in i.message for i in info.value.issues)
    assert "9090" not in str(info.value)


def test_yaml_merge_keys_are_not_duplicates() -> None:
    text = "base: &b {port: 8081}\napi:\n  <<: *b\n"
    with pytest.raises(ConfigError) as info:
        parse_settings(text, env={})
    # only the unknown top-level key is wrong; the merge gave api its port
    assert [i.path for i in info.value.issues] == ["base"]


def test_check_config_cli_exit_code_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "cameras:\n  - id: a\n    name: n\n    streams:\n"
        "      main: {url: 'rtsp://admin:pw@:99999/x'}\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "wall", "check-config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "line 5: cameras[0].streams.main.url" in out.stderr
    assert "pw@" not in out.stderr
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.replace("${CAM_PASS}", "x"), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "wall", "check-config", str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "OK (1 camera(s)" in out.stdout
