"""Reader for ``.ipynb`` pages."""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..errors import Diagnostic
from .page import Cell, Page


def parse(text: str, path: Path, rel: str) -> tuple[Page | None, list[Diagnostic]]:
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        return None, [Diagnostic(rel, None, f"not a readable notebook: {exc}",
                                 "open and re-save it in Jupyter")]
    cells = []
    for index, cell in enumerate(nb.cells, 1):
        # A notebook has no lines of its own: number cells instead.
        cells.append(Cell(cell.cell_type, cell.source, index, dict(cell.metadata), index))
    metadata = dict(nb.metadata)
    return Page(path, rel, metadata, cells, "ipynb"), []
