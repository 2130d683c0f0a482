"""The in-memory page: cells with the source line each one starts on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..errors import Diagnostic

PAGE_SUFFIXES = (".md", ".ipynb")


@dataclass
class Cell:
    kind: str  # "code", "markdown" or "raw"
    source: str
    line: int  # 1-based line of the cell's start (its fence for code cells)
    metadata: dict = field(default_factory=dict)
    body_line: int = 0  # 1-based line of the first source line

    @property
    def tags(self) -> list[str]:
        return list(self.metadata.get("tags", []))


@dataclass
class Page:
    path: Path  # absolute path of the source file
    rel: str  # posix path relative to the source folder, e.g. "chapter_x/intro.md"
    metadata: dict  # front matter
    cells: list[Cell]
    fmt: str  # "myst" or "ipynb"
    front_matter_lines: int = 0

    @property
    def docname(self) -> str:
        return self.rel.rsplit(".", 1)[0]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]

    @property
    def octavo(self) -> dict:
        """The page's ``octavo:`` front-matter block (inputs, timeout, ...)."""
        value = self.metadata.get("octavo") or {}
        return value if isinstance(value, dict) else {}

    @property
    def kernel(self) -> str | None:
        spec = self.metadata.get("kernelspec") or {}
        return spec.get("name") if isinstance(spec, dict) else None

    def title(self) -> str:
        for cell in self.cells:
            if cell.kind != "markdown":
                continue
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
        return self.docname

    def to_notebook(self) -> nbformat.NotebookNode:
        """An unexecuted notebook of this page, with a source map for the renderer."""
        nb = nbformat.v4.new_notebook()
        meta = {k: v for k, v in self.metadata.items() if k not in ("jupytext",)}
        nb.metadata.update(meta)
        nb.metadata["source_map"] = [c.line - 2 for c in self.cells]
        for index, cell in enumerate(self.cells):
            if cell.kind == "code":
                new = nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata))
            elif cell.kind == "raw":
                new = nbformat.v4.new_raw_cell(cell.source, metadata=dict(cell.metadata))
            else:
                new = nbformat.v4.new_markdown_cell(cell.source, metadata=dict(cell.metadata))
            new["id"] = f"cell-{index}"  # stable, so unchanged pages stay unchanged
            nb.cells.append(new)
        return nb


def read_text(path: Path, rel: str) -> tuple[str | None, list[Diagnostic]]:
    """File contents as text, or a diagnostic when it is not UTF-8."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Diagnostic(rel, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} "
                                 f"at offset {exc.start})", "save the file as UTF-8")]


def read_page(path: Path, source_dir: Path) -> tuple[Page | None, list[Diagnostic]]:
    """Read one page; return it with any problems found (the page is None if unusable)."""
    from . import ipynb, myst

    rel = path.relative_to(source_dir).as_posix()
    text, problems = read_text(path, rel)
    if text is None:
        return None, problems
    if path.suffix == ".ipynb":
        return ipynb.parse(text, path, rel)
    return myst.parse(text, path, rel)
