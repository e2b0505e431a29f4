"""A wall may name a layout saved through the API: the config's own database knows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wall.cli import load_site, main
from wall.config.loading import ConfigError
from wall.platform.store.sqlite import SqliteStore


def write_config(tmp_path: Path, default_layout: str, extra: str = "") -> Path:
    data = tmp_path / "data"
    path = tmp_path / "citywall.yaml"
    path.write_text(
        f"storage:\n  data_dir: {json.dumps(str(data))}\n"
        "walls:\n"
        f"  - {{id: main, name: main, rows: 3, cols: 4, default_layout: {default_layout}}}\n"
        + extra,
        encoding="utf-8",
    )
    return path


async def save_layout_row(tmp_path: Path, layout_id: str) -> None:
    # the key is what the walls store writes for a saved layout
    async with SqliteStore(tmp_path / "data" / "citywall.sqlite3") as store:
        await store.put_kv(f"layout:{layout_id}", {"id": layout_id})


async def test_a_saved_layout_may_be_a_wall_default(tmp_path: Path) -> None:
    path = write_config(tmp_path, "flood_duty_4x3")
    with pytest.raises(ConfigError, match="no layout 'flood_duty_4x3'"):
        load_site(path)
    await save_layout_row(tmp_path, "flood_duty_4x3")
    settings = load_site(path)
    assert settings.walls[0].default_layout == "flood_duty_4x3"
    assert main(["check-config", str(path)]) == 0


def test_check_config_creates_no_database(tmp_path: Path) -> None:
    path = write_config(tmp_path, "mixed_4x3")
    assert main(["check-config", str(path)]) == 0
    assert not (tmp_path / "data").exists()


def test_with_other_errors_every_error_is_still_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "nope", "api: {port: -1}\n")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "api.port" in err
    assert "walls[0].default_layout: no layout 'nope'" in err
