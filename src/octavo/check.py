"""``octavo check``: every problem of the sources at once, without executing or rendering.

Finds unresolved cross-references and citations, missing images, notebooks
with stored outputs, unknown tabs, pages the table of contents does not reach,
duplicate labels, broken relative links between pages, and (on request) pages
without a discussion id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .book import Book, inside, load_book, unreachable_pages
from .config import Config
from .errors import Collector, Diagnostic
from .source import Page
from .source.tabs import cell_tabs, variant_markdown

LABEL_LINE = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
NAME_OPTION = re.compile(r"^\s*:(?:name|label):\s*(?P<label>\S+)\s*$")
ROLE = re.compile(r"\{(?P<role>ref|numref|eq|doc|cite|cite:p|cite:t|cite:ps|cite:ts)\}`(?P<arg>[^`]+)`")
FENCE_ARG = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{(?P<name>figure|image)\}\s*(?P<arg>\S.*?)\s*$")
MD_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<arg>[^)\s]+)")
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<arg>[^)\s]+)\)")
BIB_KEY = re.compile(r"^\s*@\w+\s*\{\s*(?P<key>[^,\s]+)\s*,", re.M)
CODE_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


@dataclass
class Label:
    name: str
    page: str
    line: int


def _markdown_lines(page: Page):
    """(line number, text) of Markdown lines outside literal code blocks."""
    for cell in page.cells:
        if cell.kind != "markdown":
            continue
        directives: list[str] = []  # open directive fences
        literal = None  # fence of an open literal code block
        for i, text in enumerate(cell.source.splitlines()):
            stripped = text.strip()
            if literal is not None:
                if stripped == literal:
                    literal = None
                continue
            if directives and stripped == directives[-1]:
                directives.pop()
                continue
            m = CODE_FENCE.match(text)
            if m:
                if re.match(r"^\s*(`{3,}|~{3,})\{[\w:-]+\}", text):
                    directives.append(m.group(1))
                else:
                    literal = m.group(1)
                    continue
            elif re.match(r"^\s*:{3,}\{[\w:-]+\}", text):
                directives.append(re.match(r"^\s*(:{3,})", text).group(1))
            yield cell.line + i, text


def _labels(page: Page) -> list[Label]:
    found = []
    for line, text in _markdown_lines(page):
        m = LABEL_LINE.match(text) or NAME_OPTION.match(text)
        if m:
            found.append(Label(m.group("label"), page.rel, line))
    for cell in page.code_cells:
        figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
        name = figure.get("name") if isinstance(figure, dict) else None
        if name:
            found.append(Label(str(name), page.rel, cell.line))
    return found


def _bib_keys(book: Book) -> set[str]:
    keys: set[str] = set()
    for asset in book.assets:
        if asset.suffix == ".bib":
            keys |= set(BIB_KEY.findall(asset.read_text("utf-8", errors="replace")))
    return keys


def check_book(config: Config, require_discussion: bool = False) -> list[Diagnostic]:
    problems = Collector()
    book = load_book(config, problems)
    if not book_loaded(book):
        return problems.items
    root = config.source_path
    labels: dict[str, Label] = {}
    for page in book.pages:
        for label in _labels(page):
            if label.name in labels:
                first = labels[label.name]
                problems.add(page.rel, label.line, f"duplicate label '{label.name}' (first defined "
                             f"at {first.page}:{first.line})", "rename one of them")
            else:
                labels[label.name] = label
    docs = {p.docname for p in book.pages}
    keys = _bib_keys(book)
    tabs = config.tabs
    for page in book.pages:
        for line, text in _markdown_lines(page):
            for m in ROLE.finditer(text):
                role, arg = m.group("role"), m.group("arg").strip()
                target = re.sub(r"^.*<([^<>]+)>$", r"\1", arg).strip()
                if role.startswith("cite"):
                    for key in (k.strip() for k in target.split(",")):
                        if key and key not in keys:
                            problems.add(page.rel, line, f"citation '{key}' is not in any .bib "
                                         "file", "add the entry to references.bib")
                elif role == "doc":
                    doc = _resolve(page, target)
                    if doc not in docs:
                        problems.add(page.rel, line, f"{{doc}} target '{target}' is not a page "
                                     "in the table of contents", "fix the path")
                elif target not in labels:
                    problems.add(page.rel, line, f"unresolved reference {{{role}}}`{target}`",
                                 "define the label with '(name)=' or ':label:'/':name:'")
            for pattern in (FENCE_ARG, MD_IMAGE):
                for m in pattern.finditer(text):
                    arg = m.group("arg")
                    if re.match(r"^[a-z][a-z0-9+.-]*:", arg):
                        continue
                    path = (root / arg.lstrip("/")) if arg.startswith("/") else page.folder / arg
                    if "*" not in arg and not path.exists():
                        problems.add(page.rel, line, f"missing image '{arg}'",
                                     "check the path (relative to the page)")
            for m in MD_LINK.finditer(text):
                arg = m.group("arg").split("#")[0]
                if not arg or re.match(r"^[a-z][a-z0-9+.-]*:", arg) or arg.startswith("#"):
                    continue
                path = (root / arg.lstrip("/")) if arg.startswith("/") else page.folder / arg
                if not inside(path, root) or not path.exists():
                    problems.add(page.rel, line, f"broken link '{m.group('arg')}'",
                                 "link to a file inside the book that exists")
        for cell in page.code_cells:
            found: list[Diagnostic] = []
            cell_tabs(cell, tabs, page.rel, found)
            problems.extend(found)
            if page.fmt == "ipynb":
                pass
        for cell in page.cells:
            if cell.kind == "markdown" and tabs != [""]:
                found = []
                variant_markdown(cell.source, tabs[0], tabs, cell.line, page.rel, found)
                problems.extend(found)
        if page.fmt == "ipynb":
            stored = _stored_outputs(page.path)
            if stored:
                problems.add(page.rel, None, f"the notebook stores outputs in {stored} cell(s)",
                             "clear them (outputs are made by the build): "
                             "jupyter nbconvert --clear-output --inplace " + page.rel)
        if require_discussion and PurePosixPath(page.docname).name != "index" \
                and "discussion" not in page.metadata:
            problems.add(page.rel, 1, "no discussion id in the front matter",
                         "add 'discussion: <topic id>'")
    for rel in unreachable_pages(book):
        problems.add(rel, None, "page is not reachable from the table of contents",
                     "add it to a toctree, or to [build] exclude")
    return problems.items


def book_loaded(book: Book | None) -> bool:
    return book is not None and bool(book.pages)


def _resolve(page: Page, target: str) -> str:
    base = PurePosixPath(page.docname).parent
    joined = PurePosixPath(target.lstrip("/")) if target.startswith("/") else base / target
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    name = "/".join(parts)
    return re.sub(r"\.(md|ipynb)$", "", name)


def _stored_outputs(path: Path) -> int:
    try:
        nb = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return 0
    return sum(1 for c in nb.get("cells", [])
               if c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count")))
