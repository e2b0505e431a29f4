"""Reading a YAML config file into :class:`wall.config.settings.Settings`.

Errors name the key path *and* the line of the file, and never echo the
offending value (it may be a password).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from wall.config.settings import Settings

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path or '(root)'}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; ``issues`` lists every problem."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(
            f"{source}: {len(issues)} error(s)\n" + "\n".join(map(str, issues))
        )


def _line_index(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)


def _expand_env(
    value: Any,
    path: tuple[str | int, ...],
    env: Mapping[str, str],
    issues: list[ConfigIssue],
    lines: dict[tuple[str | int, ...], int],
) -> Any:
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                issues.append(
                    ConfigIssue(
                        _dotted(path),
                        lines.get(path),
                        f"environment variable {name} is not set",
                    )
                )
                return ""
            return env[name]

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {
            k: _expand_env(v, (*path, k), env, issues, lines) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand_env(v, (*path, i), env, issues, lines) for i, v in enumerate(value)
        ]
    return value


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += (
            f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        )
    return out


def _nearest_line(
    path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> int | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def parse_settings(
    text: str, source: str = "<config>", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate YAML ``text`` into settings, collecting every error.

    Args:
        text: the YAML document.
        source: a name for messages (usually the file path).
        env: environment for ``${NAME}`` references; ``os.environ`` by default.

    Raises:
        ConfigError: listing each problem with its key path and line.
    """
    env = os.environ if env is None else env
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(
            source, [ConfigIssue("", line, f"YAML syntax: {problem}")]
        ) from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            source, [ConfigIssue("", 1, "the top level must be a mapping")]
        )
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _line_index(node, (), lines)
    issues: list[ConfigIssue] = []
    data = _expand_env(data, (), env, issues, lines)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_input=False, include_url=False):
            path = tuple(e["loc"])
            issues.append(
                ConfigIssue(_dotted(path), _nearest_line(path, lines), e["msg"])
            )
        raise ConfigError(source, issues) from None
    if issues:
        raise ConfigError(source, issues)
    return settings


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a config file (relative paths in it are from the CWD).

    Raises:
        ConfigError: on a missing file or any invalid key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(
            str(path), [ConfigIssue("", None, f"cannot read file: {err.strerror}")]
        ) from err
    return parse_settings(text, str(path), env)
