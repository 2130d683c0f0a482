"""The staging folder: what the renderer reads.

Each page becomes an executed ``.ipynb`` (with a source map back to its
Markdown lines); every other file of the book is copied beside it. Files are
rewritten only when their content changes, so the renderer's own incremental
build stays incremental.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from ..book import Book
from ..fsutil import write_if_changed


def stage(book: Book, notebooks: dict[str, nbformat.NotebookNode], folder: Path) -> dict[str, str]:
    """Write the staging tree; return {staged posix path: source rel path} for pages."""
    root = book.source_dir
    wanted: dict[str, str] = {}
    for page in book.pages:
        staged = f"{page.docname}.ipynb"
        nb = nbformat.from_dict(notebooks[page.rel])
        if "source_map" not in nb.metadata:
            nb.metadata["source_map"] = [c.line - 2 for c in page.cells]  # myst-nb adds 1, docutils 1
        write_if_changed(folder / staged, nbformat.writes(nb))
        wanted[staged] = page.rel
    for asset in book.assets:
        rel = asset.relative_to(root).as_posix()
        target = folder / rel
        if rel in wanted:
            continue
        data = asset.read_bytes()
        write_if_changed(target, data)
        wanted[rel] = rel
    # drop files of pages or assets that are gone
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return {k: v for k, v in wanted.items() if k.endswith(".ipynb") and k[:-6] in
            {p.docname for p in book.pages}}


def tree_digest(folder: Path, *extra: object) -> str:
    """A digest of every file under ``folder`` (names and contents) and of ``extra``."""
    import hashlib

    h = hashlib.sha256(repr(extra).encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def static_signature() -> list:
    """Names and sizes of Octavo's static files (they change with Octavo's version)."""
    from .sphinx import STATIC

    return sorted((p.relative_to(STATIC).as_posix(), p.stat().st_size)
                  for p in STATIC.rglob("*") if p.is_file())


def publish(built: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``built`` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(f".{target.name}.new")
    old = target.with_name(f".{target.name}.old")
    for leftover in (fresh, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(built, fresh, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    if old.exists():
        shutil.rmtree(old)
