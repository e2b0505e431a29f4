"""Issue 10, config: the README's check-config command works as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def readme_command() -> list[str]:
    """The one README command that checks the example config."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    commands = [
        shlex.split(line)
        for block in blocks
        for line in block.splitlines()
        if line.startswith("citywall check-config") and "config.example.yaml" in line
    ]
    assert len(commands) == 1, commands
    return commands[0]


def run_clean(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``citywall ARGS`` in the checkout with an environment that sets nothing."""
    script = Path(sys.executable).with_name("citywall")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "wall"]
    return subprocess.run(
        [*program, *argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PATH": os.defpath},
        timeout=60,
    )


def test_readme_command_validates_the_example_on_a_fresh_checkout() -> None:
    command = readme_command()
    out = run_clean(command)
    assert out.returncode == 0, out.stderr
    assert "config.example.yaml: OK (1 camera(s)" in out.stdout
    header = (ROOT / "config.example.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("Validate with:  " + shlex.join(command))


def test_without_no_env_an_unset_variable_is_named_with_its_line() -> None:
    command = [c for c in readme_command() if c != "--no-env"]
    out = run_clean(command)
    assert out.returncode == 1
    lines = (ROOT / "config.example.yaml").read_text(encoding="utf-8").splitlines()
    main_line = next(
        n for n, text in enumerate(lines, 1) if text.lstrip().startswith("main: {url:")
    )
    expected = (
        f"  line {main_line}: cameras[0].streams.main.url: "
        "environment variable CAM_BZ_JBDD_001_PASSWORD is not set"
    )
    assert expected in out.stderr.splitlines()
