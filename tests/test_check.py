"""`octavo check`: every kind of problem at its line; none on clean books."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BOOKS

ROOT = Path(__file__).resolve().parent.parent


def check(folder: Path, *args: str):
    return subprocess.run([sys.executable, "-m", "octavo", "check", "--book", str(folder), *args],
                          capture_output=True, text=True, cwd=folder)


def test_seeded_problems_are_all_found_with_lines():
    proc = check(BOOKS / "problems")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    expected = [
        "one.md:4: unresolved reference {ref}`sec_missing`",
        "one.md:4: citation 'nobody2020' is not in any .bib file",
        "one.md:6: missing image 'img/missing.png'",
        "one.md:12: broken link 'nowhere.md'",
        "one.md:14: unknown tab 'tensorflow'",
        "orphan.md: page is not reachable from the table of contents",
        "stored.ipynb: the notebook stores outputs in 1 cell(s)",
        "two.md:1: duplicate label 'sec_one' (first defined at one.md:1)",
        "two.md:4: unknown tab 'mxnet' in a tab block",
    ]
    assert len(lines) == len(expected), proc.stdout
    for line, want in zip(lines, expected):
        assert line.startswith(want), (line, want)
    assert "9 problems found" in proc.stderr


@pytest.mark.parametrize("name", ["basic", "tabs", "outputs", "zh"])
def test_clean_books_have_no_problems(name):
    proc = check(BOOKS / name)
    assert proc.returncode == 0, proc.stdout
    assert "no problems found" in proc.stdout


def test_bundled_book_is_clean_and_every_section_has_a_discussion_id():
    proc = check(ROOT / "book", "--require-discussion")
    assert proc.returncode == 0, proc.stdout


def test_require_discussion_lists_pages_without_an_id():
    proc = check(BOOKS / "basic", "--require-discussion")
    assert proc.returncode == 1
    assert "uses_module.md:1: no discussion id in the front matter" in proc.stdout
