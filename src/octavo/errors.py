"""One error hierarchy for every stage of the pipeline.

A :class:`Diagnostic` is one located problem (``path:line: message — hint``).
Stages collect diagnostics and raise one error carrying all of them, so that a
run reports every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    """A problem at a place in a file."""

    path: str | Path | None
    line: int | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = where + self.message
        if self.hint:
            text += f" — {self.hint}"
        return text


class OctavoError(Exception):
    """Base class: one or more diagnostics that stop a stage."""

    exit_code = 1

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(None, None, diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ConfigError(OctavoError):
    """octavo.toml is missing, malformed or has bad values."""

    exit_code = 2


class SourceError(OctavoError):
    """A book source (page, toctree, front matter) is malformed."""


class ExecutionError(OctavoError):
    """One or more notebooks failed to execute."""


class RenderError(OctavoError):
    """Sphinx (or another renderer) reported problems."""


class Collector:
    """Collects diagnostics; raises them together."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, path, line, message, hint: str = "") -> None:
        self.items.append(Diagnostic(path, line, message, hint))

    def extend(self, diagnostics) -> None:
        self.items.extend(diagnostics)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, cls: type[OctavoError]) -> None:
        if self.items:
            raise cls(self.items)
