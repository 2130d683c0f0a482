"""The book: pages in table-of-contents order, read from the sources.

The table of contents starts at the root ``index`` page and follows every
``{toctree}`` directive through chapter index pages. Problems are collected for
all pages, then raised together.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .config import Config
from .errors import Collector, Diagnostic, SourceError
from .source import Page, read_page
from .source.page import PAGE_SUFFIXES

TOCTREE_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})\{toctree\}\s*$")
ENTRY_WITH_TITLE = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$")


@dataclass
class TocEntry:
    target: str  # docname relative to the source folder
    line: int
    title: str | None = None


@dataclass
class Toctree:
    page: str  # docname of the page that holds it
    line: int
    options: dict = field(default_factory=dict)
    entries: list[TocEntry] = field(default_factory=list)


@dataclass
class Book:
    config: Config
    pages: list[Page]  # table-of-contents order
    toctrees: dict[str, list[Toctree]]
    assets: list[Path]  # non-page files under the source folder

    @property
    def source_dir(self) -> Path:
        return self.config.source_path

    def page(self, docname: str) -> Page:
        for page in self.pages:
            if page.docname == docname:
                return page
        raise KeyError(docname)


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (resolved, links followed) lies inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _excluded(rel: str, config: Config) -> bool:
    out = config.build.output_dir.strip("/")
    parts = PurePosixPath(rel).parts
    if parts and (parts[0] in (out, ".venv", "venv", "__pycache__") or parts[0].startswith(".")):
        return True
    if any(p.startswith(".") or p == "__pycache__" or p.endswith(".egg-info") for p in parts):
        return True
    return any(fnmatch.fnmatch(rel, pat) for pat in config.build.exclude)


def source_files(config: Config) -> list[str]:
    """Every file under the source folder that is not excluded (posix paths, sorted).

    Excluded folders (the output, hidden folders, virtual environments) are not
    even entered, so this stays quick when ``_build`` is large.
    """
    root = config.source_path
    output = config.output_path
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not (here / d == output or d.startswith(".")
                                                 or d in ("__pycache__", ".venv", "venv")
                                                 or d.endswith(".egg-info")))
        for name in files:
            rel = (here / name).relative_to(root).as_posix()
            if not _excluded(rel, config):
                found.append(rel)
    return sorted(found)


def parse_toctrees(page: Page, problems: Collector) -> list[Toctree]:
    """Every toctree in a page's Markdown cells, each entry with its line."""
    trees: list[Toctree] = []
    for cell in page.cells:
        if cell.kind != "markdown":
            continue
        lines = cell.source.splitlines()
        i = 0
        while i < len(lines):
            m = TOCTREE_FENCE.match(lines[i].strip())
            if not m:
                i += 1
                continue
            fence = m.group("fence")
            tree = Toctree(page.docname, cell.line + i)
            i += 1
            while i < len(lines) and lines[i].strip() != fence:
                text = lines[i].strip()
                lineno = cell.line + i
                i += 1
                if not text:
                    continue
                if text.startswith(":") and text.count(":") >= 2:
                    key, _, value = text[1:].partition(":")
                    tree.options[key.strip()] = value.strip() or True
                    continue
                title = None
                mt = ENTRY_WITH_TITLE.match(text)
                if mt:
                    title, text = mt.group("title"), mt.group("target").strip()
                tree.entries.append(TocEntry(text, lineno, title))
            if i >= len(lines):
                problems.add(page.rel, tree.line, f"toctree opened with '{fence}' is never closed",
                             f"add a line '{fence}' after its entries")
            i += 1
            trees.append(tree)
    return trees


PATH_DIRECTIVE = re.compile(
    r"^\s*(`{3,}|~{3,}|:{3,})\{(figure|image|include|literalinclude|bibliography)\}\s*(?P<arg>\S.*?)\s*$")
MD_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<arg>[^)\s]+)")
HTML_SRC = re.compile(r"<img\b[^>]*\bsrc=[\"'](?P<arg>[^\"']+)[\"']")


def check_paths(page: Page, root: Path, problems: Collector) -> None:
    """Refuse figures, images and includes whose path leads outside the book's folder."""
    for cell in page.cells:
        if cell.kind != "markdown":
            continue
        for i, line in enumerate(cell.source.splitlines()):
            for pattern in (PATH_DIRECTIVE, MD_IMAGE, HTML_SRC):
                for m in pattern.finditer(line):
                    arg = m.group("arg")
                    if re.match(r"^[a-z][a-z0-9+.-]*:", arg):  # a URL
                        continue
                    base = root if arg.startswith("/") else page.folder
                    if not inside(base / arg.lstrip("/"), root):
                        problems.add(page.rel, cell.line + i,
                                     f"path '{arg}' leads outside the book's folder",
                                     "copy the file into the book and refer to it there")


def _resolve_entry(entry: str, page: Page, source_dir: Path) -> str:
    base = PurePosixPath(page.docname).parent
    target = PurePosixPath(entry.lstrip("/")) if entry.startswith("/") else base / entry
    return _normalize(target.as_posix())


def _normalize(posix: str) -> str:
    parts: list[str] = []
    for part in posix.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return "../" + posix  # escapes the root
            parts.pop()
        else:
            parts.append(part)
    name = "/".join(parts)
    for suffix in PAGE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load_book(config: Config, problems: Collector | None = None) -> Book:
    """Read the root page and every page reachable from it.

    Problems go to ``problems`` when given (the caller raises them with its own);
    otherwise they are raised here as one SourceError.
    """
    root = config.source_path
    own = problems is None
    problems = Collector() if problems is None else problems
    if not root.is_dir():
        problems.add(config.root / "octavo.toml", None,
                     f"source folder '{config.build.source_dir}' does not exist",
                     "set [build] source_dir to the folder that holds index.md")
        problems.raise_if_any(SourceError)
    files = source_files(config)
    docs: dict[str, str] = {}  # docname -> rel path
    for rel in files:
        suffix = PurePosixPath(rel).suffix
        if suffix in PAGE_SUFFIXES:
            name = rel[: -len(suffix)]
            if name in docs:
                problems.add(rel, None, f"two sources for the page '{name}': {docs[name]} and {rel}",
                             "keep one of them")
            docs.setdefault(name, rel)
    if "index" not in docs:
        problems.add(root, None, "no root page (index.md or index.ipynb)",
                     "create index.md with a toctree listing the chapters")
        problems.raise_if_any(SourceError)

    pages: dict[str, Page] = {}
    order: list[str] = []
    toctrees: dict[str, list[Toctree]] = {}

    def visit(docname: str, stack: list[str]) -> None:
        if docname in pages or docname in toctrees:
            return
        page, found = read_page(root / docs[docname], root)
        problems.extend(found)
        toctrees[docname] = []
        if page is None:
            return
        pages[docname] = page
        order.append(docname)
        toctrees[docname] = parse_toctrees(page, problems)
        check_paths(page, root, problems)
        for tree in toctrees[docname]:
            for entry in tree.entries:
                if entry.target == "self" or re.match(r"^[a-z]+://", entry.target):
                    continue
                if tree.options.get("glob") and any(ch in entry.target for ch in "*?["):
                    pattern = _resolve_entry(entry.target, page, root)
                    targets = sorted(d for d in docs if fnmatch.fnmatch(d, pattern)
                                     and d not in stack and d != docname)
                else:
                    targets = [_resolve_entry(entry.target, page, root)]
                for target in targets:
                    if target.startswith("../") or not inside(root / target, root):
                        problems.add(page.rel, entry.line,
                                     f"toctree entry '{entry.target}' leads outside the book's "
                                     "folder", "entries must name pages inside the source folder")
                    elif target not in docs:
                        problems.add(page.rel, entry.line,
                                     f"toctree entry '{entry.target}' does not exist "
                                     f"(no {target}.md or {target}.ipynb)",
                                     "fix the name or create the page")
                    elif target in stack or target == docname:
                        cycle = " -> ".join([*stack[stack.index(target):], docname, target]) \
                            if target in stack else f"{docname} -> {target}"
                        problems.add(page.rel, entry.line,
                                     f"toctree cycle: {cycle}",
                                     "a page may appear in the table of contents only once; "
                                     "remove the entry that points back")
                    else:
                        visit(target, [*stack, docname])

    visit("index", [])
    if own:
        problems.raise_if_any(SourceError)
    page_files = {docs[d] for d in docs}
    assets = [root / rel for rel in files if rel not in page_files]
    return Book(config, [pages[d] for d in order], toctrees, assets)


def unreachable_pages(book: Book) -> list[str]:
    """Page files under the source folder that no toctree reaches."""
    reached = {p.rel for p in book.pages}
    return [rel for rel in source_files(book.config)
            if PurePosixPath(rel).suffix in PAGE_SUFFIXES and rel not in reached]


__all__ = ["Book", "Diagnostic", "load_book", "inside", "unreachable_pages"]
