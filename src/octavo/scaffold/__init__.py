"""``octavo new``: a small book that shows every feature working."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import OctavoError

FILES = {
    "octavo.toml": "octavo.toml",
    "index.md": "index.md",
    "references.bib": "references.bib",
    "chapter_intro/index.md": "chapter_index.md",
    "chapter_intro/first_steps.md": "first_steps.md",
}


def new_book(folder: Path, title: str = "My Book") -> Path:
    folder = Path(folder)
    clashes = [name for name in FILES if (folder / name).exists()]
    if clashes:
        raise OctavoError(f"{folder}: would overwrite {', '.join(clashes)}; choose an empty folder")
    templates = resources.files(__package__) / "templates"
    for target, template in FILES.items():
        text = (templates / template).read_text("utf-8").replace("{{title}}", title)
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return folder
