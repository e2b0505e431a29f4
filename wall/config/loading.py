"""Reading a YAML config file into :class:`wall.config.settings.Settings`.

Errors name the key path *and* the line of the file, are sorted by line, and
never echo the offending value (it may be a password). Every error comes out
in one run: field errors and the cross-references of
:mod:`wall.config.consistency` side by side. The YAML itself is read by
:func:`layouts.yaml_document.read_yaml`, the project's one YAML reader: the
same line numbers and the same refusal of duplicate keys as layout files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from layouts.yaml_document import (
    KeyPath,
    YamlDocument,
    YamlProblem,
    YamlRefused,
    dotted_path,
    read_yaml,
)
from wall.config.consistency import builtin_layout_ids, check_consistency
from wall.config.settings import CONSISTENCY_CHECKED, Settings

# "${" starts a reference; what follows must be a name and "}". Anything
# else after "${" is a malformed reference, reported rather than kept as text.
_ENV_REF = re.compile(r"\$\{(?P<body>[^}]*)(?P<close>\}?)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

ENV_PLACEHOLDER = "placeholder"
"""What ``${NAME}`` stands for when references are not resolved (``--no-env``)."""


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
    """A config file that cannot be used; ``issues`` lists every problem by line."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = sorted(issues, key=lambda i: (i.line or 0, i.path))
        super().__init__(
            f"{source}: {len(issues)} error(s)\n" + "\n".join(map(str, self.issues))
        )


@dataclass(slots=True)
class _EnvReferences:
    """Replaces ``${NAME}`` in every string value, noting each problem."""

    env: Mapping[str, str] | None  # None: check the syntax, use the placeholder
    document: YamlDocument
    issues: list[ConfigIssue]

    def expand(self, value: object, path: KeyPath) -> object:
        if isinstance(value, str):
            return _ENV_REF.sub(lambda match: self._value(match, path), value)
        if isinstance(value, dict):
            return {k: self.expand(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expand(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _value(self, match: re.Match[str], path: KeyPath) -> str:
        name = match.group("body")
        if not match.group("close") or not _ENV_NAME.fullmatch(name):
            # never quote it: an unbalanced "${" may be part of a password
            self._note(path, "malformed environment reference: write ${NAME}")
            return ""
        if self.env is None:
            return ENV_PLACEHOLDER
        if name not in self.env:
            self._note(path, f"environment variable {name} is not set")
            return ""
        return self.env[name]

    def _note(self, path: KeyPath, message: str) -> None:
        issue = ConfigIssue(dotted_path(path), self.document.line_of(path), message)
        if issue not in self.issues:
            self.issues.append(issue)


def _yaml_issue(problem: YamlProblem) -> ConfigIssue:
    message = problem.message
    if problem.kind == "syntax":
        message = f"YAML syntax: {message}"
    return ConfigIssue(dotted_path(problem.path), problem.line, message)


def _document(text: str, source: str) -> YamlDocument:
    try:
        document = read_yaml(text)
    except YamlRefused as err:
        raise ConfigError(source, [_yaml_issue(p) for p in err.problems]) from err
    if document.data is None:
        return YamlDocument({}, document.lines)
    if not isinstance(document.data, dict):
        raise ConfigError(
            source, [ConfigIssue("", 1, "the top level must be a mapping")]
        )
    return document


def _field_issues(err: ValidationError, document: YamlDocument) -> list[ConfigIssue]:
    issues = []
    for e in err.errors(include_input=False, include_url=False):
        path = tuple(e["loc"])
        message = e["msg"].removeprefix("Value error, ")
        issues.append(ConfigIssue(dotted_path(path), document.line_of(path), message))
    return issues


def parse_settings(
    text: str,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    *,
    resolve_env: bool = True,
    layout_ids: Collection[str] | None = None,
) -> Settings:
    """Validate YAML ``text`` into settings, collecting every error in one run.

    Field errors and cross-reference errors (:mod:`wall.config.consistency`:
    duplicate ids, unknown layouts and cameras, overlapping schedule windows)
    are reported together, each at the line of its key, sorted by line.

    Args:
        text: the YAML document.
        source: a name for messages (usually the file path).
        env: environment for ``${NAME}`` references; ``os.environ`` by default.
        resolve_env: ``False`` checks each reference's syntax only and puts
            :data:`ENV_PLACEHOLDER` in its place (``check-config --no-env``).
        layout_ids: the layouts walls may name; the shipped ones by default.

    Raises:
        ConfigError: listing each problem with its key path and line.
    """
    document = _document(text, source)
    issues: list[ConfigIssue] = []
    references = _EnvReferences(
        (os.environ if env is None else env) if resolve_env else None,
        document,
        issues,
    )
    data = references.expand(document.data, ())
    assert isinstance(data, dict)  # noqa: S101 - _document returned a mapping
    # a value with an unset variable is unknown: its field errors would mislead
    unknown = {issue.path for issue in issues}
    try:
        settings: Settings | None = Settings.model_validate(
            data, context={CONSISTENCY_CHECKED: True}
        )
    except ValidationError as err:
        settings = None
        issues += [i for i in _field_issues(err, document) if i.path not in unknown]
    known_layouts = builtin_layout_ids() if layout_ids is None else layout_ids
    for found in check_consistency(data, known_layouts):
        line = document.line_of(found.path)
        issues.append(ConfigIssue(dotted_path(found.path), line, found.message))
    if settings is None or issues:
        raise ConfigError(source, issues)
    return settings


def load_settings(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    resolve_env: bool = True,
    layout_ids: Collection[str] | None = None,
) -> Settings:
    """Read and validate a config file (relative paths in it are from the CWD).

    ``resolve_env`` and ``layout_ids`` are as :func:`parse_settings` describes.

    Raises:
        ConfigError: on a missing file or any invalid key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(
            str(path), [ConfigIssue("", None, f"cannot read file: {err.strerror}")]
        ) from err
    return parse_settings(
        text, str(path), env, resolve_env=resolve_env, layout_ids=layout_ids
    )
