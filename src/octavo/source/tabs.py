"""Framework tabs: which cells belong to which tab, and the notebook of each tab.

A code cell names its tabs with the ``tab`` option (``:tab: pytorch``,
``:tab: pytorch, jax`` or ``:tab: all``); a cell without it belongs to the
default (first) tab. Prose for some tabs sits in a block::

    :::{tab} jax
    Text only JAX readers see.
    :::

Each tab's variant of a page keeps the cells and blocks of that tab. The
merged page (for the website) keeps everything: tab-specific cells are tagged
``octavo-tab-<name>`` and blocks become containers with the same class, which
the site's script groups into tab sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from ..errors import Diagnostic
from .page import Cell, Page

TAB_BLOCK = re.compile(r"^(?P<indent>\s*)(?P<fence>:{3,}|`{3,})\{tab\}\s*(?P<names>.*?)\s*$")
TAG_PREFIX = "octavo-tab-"
KNOWN_LABELS = {"pytorch": "PyTorch", "torch": "PyTorch", "jax": "JAX", "numpy": "NumPy",
                "tensorflow": "TensorFlow", "mxnet": "MXNet", "paddle": "PaddlePaddle"}


def tab_label(name: str) -> str:
    """How a tab is named to readers."""
    return KNOWN_LABELS.get(name, name.replace("_", " ").title())


def _split_names(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = str(value).split(",")
    return [i.strip() for i in items if i.strip()]


def cell_tabs(cell: Cell, tabs: list[str], rel: str, problems: list[Diagnostic]) -> list[str]:
    """The tabs a code cell belongs to, in the book's order."""
    if "tab" not in cell.metadata:
        return [tabs[0]]
    names = _split_names(cell.metadata["tab"])
    if names == ["all"]:
        return list(tabs)
    unknown = [n for n in names if n not in tabs]
    for name in unknown:
        problems.append(Diagnostic(rel, cell.line, f"unknown tab '{name}' in the cell's :tab: "
                                   f"option (the book's tabs: {', '.join(t for t in tabs if t) or 'none'})",
                                   "use one of the tabs in [build] tabs, or 'all'"))
    if not names:
        problems.append(Diagnostic(rel, cell.line, "empty :tab: option",
                                   "name one or more tabs, or 'all'"))
    return [t for t in tabs if t in names] or [tabs[0]]


def _blocks(source: str, line: int, tabs: list[str], rel: str, problems: list[Diagnostic]):
    """Yield ('text', lines) and ('tab', names, open_line, body_lines, close_line) pieces."""
    lines = source.splitlines()
    i = 0
    plain: list[str] = []
    while i < len(lines):
        m = TAB_BLOCK.match(lines[i])
        if not m:
            plain.append(lines[i])
            i += 1
            continue
        names = _split_names(m.group("names"))
        if names == ["all"]:
            names = list(tabs)
        for name in names:
            if name not in tabs:
                problems.append(Diagnostic(rel, line + i, f"unknown tab '{name}' in a tab block "
                                           f"(the book's tabs: {', '.join(t for t in tabs if t) or 'none'})",
                                           "use one of the tabs in [build] tabs"))
        if not names:
            problems.append(Diagnostic(rel, line + i, "tab block names no tab",
                                       "write ':::{tab} pytorch'"))
        fence = m.group("fence")
        close = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if close is None:
            problems.append(Diagnostic(rel, line + i, f"tab block opened with '{fence}' is never "
                                       "closed", f"add a line '{fence}' after its text"))
            close = len(lines)
        if plain:
            yield ("text", plain)
            plain = []
        yield ("tab", names, lines[i], lines[i + 1 : close], lines[close] if close < len(lines) else "")
        i = close + 1
    if plain:
        yield ("text", plain)


def variant_markdown(source: str, tab: str, tabs: list[str], line: int = 1, rel: str = "",
                     problems: list[Diagnostic] | None = None) -> str:
    """Markdown as readers of ``tab`` see it: its blocks unwrapped, other tabs' dropped."""
    out: list[str] = []
    for piece in _blocks(source, line, tabs, rel, problems if problems is not None else []):
        if piece[0] == "text":
            out.extend(piece[1])
        elif tab in piece[1]:
            out.extend(piece[3])
    return "\n".join(out).strip("\n")


def merged_markdown(source: str, tabs: list[str]) -> str:
    """Markdown for the website: each tab block becomes a container the script can group."""
    out: list[str] = []
    for piece in _blocks(source, 1, tabs, "", []):
        if piece[0] == "text":
            out.extend(piece[1])
            continue
        names, opening, body, closing = piece[1], piece[2], piece[3], piece[4]
        m = TAB_BLOCK.match(opening)
        classes = " ".join(f"{TAG_PREFIX}{n}" for n in names)
        out.append(f"{m.group('indent')}{m.group('fence')}{{container}} octavo-tab {classes}")
        out.extend(body)
        out.append(closing)
    return "\n".join(out)


@dataclass
class Variant:
    tab: str
    notebook: nbformat.NotebookNode
    cell_map: list[int]  # variant cell index -> page cell index


def page_tabs(page: Page, tabs: list[str], problems: list[Diagnostic]) -> list[str]:
    """The tabs a page has code for (all tabs when it has no code)."""
    if not page.code_cells:
        return list(tabs)
    used: set[str] = set()
    for cell in page.code_cells:
        used.update(cell_tabs(cell, tabs, page.rel, problems))
    return [t for t in tabs if t in used]


def variants(page: Page, tabs: list[str], problems: list[Diagnostic]) -> list[Variant]:
    """One notebook per tab the page has, with a map back to the page's cells."""
    base = page.to_notebook()
    out = []
    for tab in page_tabs(page, tabs, problems):
        nb = nbformat.from_dict(base)
        nb.cells = []
        cell_map = []
        for index, (cell, source_cell) in enumerate(zip(page.cells, base.cells)):
            if cell.kind == "code":
                if tab not in cell_tabs(cell, tabs, page.rel, []):
                    continue
                new = nbformat.from_dict(source_cell)
                new.metadata.pop("tab", None)
            else:
                new = nbformat.from_dict(source_cell)
                if len(tabs) > 1 or tabs[0]:
                    new.source = variant_markdown(cell.source, tab, tabs, cell.line, page.rel,
                                                  problems if tab == tabs[0] else None)
                if not new.source.strip():
                    continue
            nb.cells.append(new)
            cell_map.append(index)
        nb.metadata["source_map"] = [page.cells[i].line - 2 for i in cell_map]
        if tab:
            nb.metadata["octavo"] = {**nb.metadata.get("octavo", {}), "tab": tab}
        out.append(Variant(tab, nb, cell_map))
    return out


def merge(page: Page, tabs: list[str],
          executed: dict[str, tuple[nbformat.NotebookNode, list[int]]]) -> nbformat.NotebookNode:
    """The website's notebook: shared cells once, tab-specific cells once per tab.

    ``executed`` maps each tab the page has to (its executed notebook, its cell map).
    """
    have = [t for t in tabs if t in executed]
    base = page.to_notebook()
    nb = nbformat.from_dict(base)
    nb.cells = []
    source_map = []
    # A run is reused while its code is unchanged, so code cells pair up in order
    # even when the prose around them has changed since.
    outputs: dict[str, dict[int, nbformat.NotebookNode]] = {}
    for tab, (run, cmap) in executed.items():
        code_indices = [i for i in cmap if page.cells[i].kind == "code"]
        ran = [c for c in run.cells if c.cell_type == "code"]
        outputs[tab] = dict(zip(code_indices, ran))
    for index, (cell, source_cell) in enumerate(zip(page.cells, base.cells)):
        if cell.kind != "code":
            new = nbformat.from_dict(source_cell)
            if have != [""]:
                new.source = merged_markdown(cell.source, tabs)
            nb.cells.append(new)
            source_map.append(cell.line - 2)
            continue
        owners = [t for t in cell_tabs(cell, tabs, page.rel, []) if t in have]
        shared = set(owners) >= set(have)
        for tab in owners[:1] if shared else owners:
            new = nbformat.from_dict(source_cell)
            new.metadata.pop("tab", None)
            ran = outputs.get(tab, {}).get(index)
            if ran is not None:
                new.outputs = ran.get("outputs", [])
                new.execution_count = ran.get("execution_count")
            if not shared:
                new.metadata["tags"] = [*new.metadata.get("tags", []), TAG_PREFIX + tab]
                new.id = f"{new.id}-{tab}"
            nb.cells.append(new)
            source_map.append(cell.line - 2)
    if len(tabs) > 1 and page.code_cells and len(have) < len(tabs):
        names = " and ".join(tab_label(t) for t in have)
        note = nbformat.v4.new_markdown_cell(
            f":::{{note}}\nThe code of this section is available for {names} only.\n:::")
        note.id = "octavo-only-tabs"
        at = next((i + 1 for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and
                   any(line.startswith("# ") for line in c.source.splitlines())), 0)
        nb.cells.insert(at, note)
        source_map.insert(at, source_map[min(at, len(source_map) - 1)] if source_map else 0)
    for run, _ in executed.values():
        if "language_info" in run.metadata:
            nb.metadata["language_info"] = run.metadata["language_info"]
            break
    nb.metadata["source_map"] = source_map
    return nb
