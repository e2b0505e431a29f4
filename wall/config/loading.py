"""Reading a YAML config file into :class:`wall.config.settings.Settings`.

Errors name the key path *and* the line of the file, and never echo the
offending value (it may be a password). The YAML itself is read by
:func:`layouts.yaml_document.read_yaml`, the project's one YAML reader: the
same line numbers and the same refusal of duplicate keys as layout files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from layouts.yaml_document import (
    YamlDocument,
    YamlProblem,
    YamlRefused,
    dotted_path,
    read_yaml,
)
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


def _expand_env(
    value: Any,
    path: tuple[str | int, ...],
    env: Mapping[str, str],
    issues: list[ConfigIssue],
    document: YamlDocument,
) -> Any:
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                issues.append(
                    ConfigIssue(
                        dotted_path(path),
                        document.lines.get(path),
                        f"environment variable {name} is not set",
                    )
                )
                return ""
            return env[name]

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {
            k: _expand_env(v, (*path, k), env, issues, document)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand_env(v, (*path, i), env, issues, document)
            for i, v in enumerate(value)
        ]
    return value


def _yaml_issue(problem: YamlProblem) -> ConfigIssue:
    message = problem.message
    if problem.kind == "syntax":
        message = f"YAML syntax: {message}"
    return ConfigIssue(dotted_path(problem.path), problem.line, message)


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
        document = read_yaml(text)
    except YamlRefused as err:
        raise ConfigError(source, [_yaml_issue(p) for p in err.problems]) from err
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise ConfigError(
            source, [ConfigIssue("", 1, "the top level must be a mapping")]
        )
    issues: list[ConfigIssue] = []
    data = _expand_env(data, (), env, issues, document)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_input=False, include_url=False):
            path = tuple(e["loc"])
            issues.append(
                ConfigIssue(dotted_path(path), document.line_of(path), e["msg"])
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
