"""Links a reader expects on every page: downloads, Colab, edit, discussion."""

from __future__ import annotations

import html
from pathlib import PurePosixPath

import nbformat

from ..config import Config
from ..source import Page
from ..source.tabs import tab_label

NOTEBOOKS = "_notebooks"  # in the site: executed notebooks, per tab
SOURCES = "_sources_md"  # in the site: the pages' sources


def notebook_path(page: Page, tab: str) -> str:
    return "/".join(p for p in (NOTEBOOKS, tab, f"{page.docname}.ipynb") if p)


def header_links(page: Page, config: Config, tabs: list[str]) -> str:
    """HTML of the page's download / Colab / edit links (empty when there is nothing to show)."""
    up = "../" * (len(PurePosixPath(page.docname).parts) - 1)
    items = []
    for tab in tabs:
        label = f".ipynb ({tab_label(tab)})" if tab else ".ipynb"
        items.append(f'<a class="octavo-download" href="{up}{notebook_path(page, tab)}" '
                     f'download>{html.escape(label)}</a>')
    items.append(f'<a class="octavo-download" href="{up}{SOURCES}/{page.rel}" download>.md</a>')
    launch = config.launch
    if launch.github_repo and page.code_cells:
        for tab in tabs:
            path = "/".join(p for p in (launch.path.strip("/"), tab, f"{page.docname}.ipynb") if p)
            url = (f"https://colab.research.google.com/github/{launch.github_repo}/blob/"
                   f"{launch.branch}/{path}")
            name = f"Open in Colab ({tab_label(tab)})" if tab else "Open in Colab"
            items.append(f'<a class="octavo-colab" href="{html.escape(url)}">{name}</a>')
    repo = config.html.repository_url.rstrip("/")
    if repo:
        path = "/".join(p for p in (config.html.path_to_book.strip("/"), page.rel) if p)
        url = f"{repo}/edit/{config.html.edit_branch}/{path}"
        items.append(f'<a class="octavo-edit" href="{html.escape(url)}">Edit this page</a>')
    return '<div class="octavo-links">Download: ' + " · ".join(items) + "</div>"


def discussion_link(page: Page, config: Config) -> str | None:
    topic = page.metadata.get("discussion")
    if not config.discussion.url or topic in (None, ""):
        return None
    return config.discussion.url.replace("{id}", str(topic))


def add_links(nb: nbformat.NotebookNode, page: Page, config: Config, tabs: list[str]) -> None:
    """Insert the links into the website's notebook of ``page`` (in place)."""
    smap = nb.metadata.setdefault("source_map", [0] * len(nb.cells))
    links = nbformat.v4.new_markdown_cell("```{raw} html\n" + header_links(page, config, tabs)
                                          + "\n```")
    links.id = "octavo-links"
    at, split = 0, None
    for i, c in enumerate(nb.cells):
        lines = c.source.splitlines() if c.cell_type == "markdown" else []
        heading = next((k for k, line in enumerate(lines) if line.startswith("# ")), None)
        if heading is not None:
            at, split = i + 1, (lines, heading)
            break
    if split is not None:  # links go right under the title: split its cell there
        lines, heading = split
        rest = "\n".join(lines[heading + 1:]).strip("\n")
        nb.cells[at - 1].source = "\n".join(lines[:heading + 1])
        if rest:
            skipped = len(lines[heading + 1:]) - len("\n".join(lines[heading + 1:]).lstrip("\n")
                                                      .splitlines())
            tail = nbformat.v4.new_markdown_cell(rest)
            tail.id = f"{nb.cells[at - 1].get('id', 'cell')}-body"
            nb.cells.insert(at, tail)
            smap.insert(at, smap[at - 1] + heading + 1 + skipped)
    nb.cells.insert(at, links)
    smap.insert(at, smap[at - 1] if at else (smap[0] if smap else 0))
    url = discussion_link(page, config)
    if url:
        end = nbformat.v4.new_markdown_cell(f"[Discussions]({url})")
        end.id = "octavo-discussion"
        nb.cells.append(end)
        smap.append(smap[-1] if smap else 0)


def colab_notebook(nb: nbformat.NotebookNode, config: Config) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose first cell installs the book's library at its version."""
    out = nbformat.from_dict(nb)
    command = config.launch.install.format(library=config.library.name or "",
                                           version=config.project.version)
    first = nbformat.v4.new_code_cell(f"!{command}" if not command.startswith(("!", "%")) else command)
    first.id = "octavo-install"
    out.cells.insert(0, first)
    return out
