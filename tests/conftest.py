"""Shared helpers: copy a mini-book to a temporary folder and build it for real."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

BOOKS = Path(__file__).resolve().parent / "books"


@dataclass
class Result:
    code: int
    out: str
    err: str
    report: dict | None

    @property
    def executed(self) -> list[str]:
        return sorted(self.report["executed"]) if self.report else []

    def status(self, name: str) -> str:
        for row in self.report["notebooks"]:
            if row["name"] == name:
                return row["status"]
        raise KeyError(name)


class MiniBook:
    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text("utf-8")

    def write(self, rel: str, text: str) -> None:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        self.write(rel, text.replace(old, new))

    def octavo(self, *args: str, timeout: int = 600) -> Result:
        proc = subprocess.run([sys.executable, "-m", "octavo", *args], cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)
        report_path = self.root / "_build" / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        return Result(proc.returncode, proc.stdout, proc.stderr, report)

    def build(self, *args: str) -> Result:
        report_path = self.root / "_build" / "report.json"
        report_path.unlink(missing_ok=True)
        return self.octavo("build", *args)

    def html(self, docname: str) -> str:
        return (self.root / "_build" / "html" / f"{docname}.html").read_text("utf-8")


@pytest.fixture
def minibook(tmp_path):
    """Factory: ``minibook("basic")`` copies tests/books/basic into a fresh folder."""

    def make(name: str | None = None, files: dict[str, str] | None = None) -> MiniBook:
        root = tmp_path / (name or "book")
        if name:
            shutil.copytree(BOOKS / name, root)
        else:
            root.mkdir()
        book = MiniBook(root)
        for rel, text in (files or {}).items():
            book.write(rel, text)
        return book

    return make
