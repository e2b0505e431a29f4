"""Camera entries of the in-process benchmarks: each on the test server's two mounts."""

from __future__ import annotations

from devices.cameras.config import CameraConfig


def camera_configs(names: list[str], main_url: str, sub_url: str) -> list[CameraConfig]:
    """One camera per name, main and sub streams on the given RTSP URLs.

    Args:
        names: Camera ids (also their display names).
        main_url: The main stream every camera pulls.
        sub_url: The sub stream every camera pulls.
    """
    return [
        CameraConfig.model_validate(
            {
                "id": name,
                "name": name,
                "streams": {"main": {"url": main_url}, "sub": {"url": sub_url}},
            }
        )
        for name in names
    ]


def camera_names(n: int, prefix: str = "cam") -> list[str]:
    """``cam01``, ``cam02``, … ``n`` of them."""
    return [f"{prefix}{i + 1:02d}" for i in range(n)]
