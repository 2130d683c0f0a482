"""The bundled book builds, every page executes, and the committed library matches it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_committed_library_matches_the_book():
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", "lib", "--check",
                           "--book", str(ROOT / "book")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr


@pytest.mark.slow
def test_bundled_book_builds_and_every_page_executes(tmp_path):
    shutil.copytree(ROOT / "book", tmp_path / "book")
    shutil.copytree(ROOT / "src" / "dodl", tmp_path / "src" / "dodl")
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", "--book", "book"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    report = json.loads((tmp_path / "_build" / "report.json").read_text())
    assert report["ok"] and not report["failures"]
    assert all(row["status"] in ("executed", "no code") for row in report["notebooks"])
    pages = [row["name"] for row in report["notebooks"]]
    assert any("tensors" in p for p in pages)
    html = tmp_path / "_build" / "html"
    assert (html / "chapter_preliminaries" / "tensors.html").is_file()
    # the build regenerated the library in the copy exactly as committed
    for generated in (tmp_path / "src" / "dodl").rglob("*.py"):
        committed = ROOT / "src" / "dodl" / generated.relative_to(tmp_path / "src" / "dodl")
        assert committed.read_text() == generated.read_text(), generated
