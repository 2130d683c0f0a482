"""The printed book: real xelatex, checked with pdftotext and pdftoppm."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

needs_latex = pytest.mark.skipif(
    not (shutil.which("xelatex") and shutil.which("latexmk") and shutil.which("pdftotext")),
    reason="LaTeX or poppler-utils missing (Debian: texlive-xetex latexmk poppler-utils)")
pytestmark = [pytest.mark.slow]


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def render_pages(path, folder) -> list:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(folder / "page")], check=True)
    return sorted(folder.glob("page*.png"))


@needs_latex
def test_english_pdf_has_outputs_equations_and_figures(minibook, tmp_path):
    book = minibook("basic")
    # an unnumbered front-matter page before the numbered chapters
    book.write("preface.md", "# Preface\n\nWhy this book exists.\n")
    book.write("index.md", "# Basic\n\n```{toctree}\npreface\n```\n\n" + book.read("index.md")
               .split("\n", 2)[2])
    result = book.build("html", "pdf")
    assert result.code == 0, result.err
    assert "Fig. 1.3.1" in book.html("chapter/plain")
    pdf = book.root / "_build" / "pdf" / "basic.pdf"
    text = pdf_text(pdf)
    assert "double 42" in text and "number 7" in text  # executed outputs
    assert "(1.2.1)" in text  # the equation and its reference, numbered as on the web
    assert "Why this book exists." in text
    assert "Fig. 1.3.1: A dot drawn by hand." in text  # an SVG figure, converted
    assert "Table 1.3.1: Two numbers." in text
    pages = render_pages(pdf, tmp_path)
    assert len(pages) >= 3 and all(p.stat().st_size > 1000 for p in pages)
    assert (book.root / "_build" / "pdf" / "basic.log").is_file()
    assert book.build("pdf").executed == []  # the PDF uses the same cache


@needs_latex
def test_chinese_pdf(minibook, tmp_path):
    book = minibook("zh")
    result = book.build("pdf")
    assert result.code == 0, result.err
    text = pdf_text(book.root / "_build" / "pdf" / "book.pdf")
    assert "张量与数据操作" in text  # a heading (and the table of contents)
    assert text.count("张量与数据操作") >= 2
    assert "两个张量的形状必须相同" in text  # body text
    assert "正弦函数的图像" in text  # a figure caption
    assert "图 1.1.1" in text or "图 1.1.1" in text.replace("\u3000", " ")  # localized name
    assert "(1.1.1)" in text and "结果 45" in text  # equation number, executed output
    assert "目录" in text and "第1章" in text.replace(" ", "")  # localized contents, chapter
    assert render_pages(book.root / "_build" / "pdf" / "book.pdf", tmp_path)


@needs_latex
def test_latex_error_names_the_page_and_line(minibook):
    book = minibook("basic")
    assert book.build("pdf").code == 0
    good = (book.root / "_build" / "pdf" / "basic.pdf").read_bytes()
    book.replace("chapter/plain.md", "are numbered.", "are numbered. Broken math: $\\nosuchmacro{x}$.")
    result = book.build("pdf")
    assert result.code == 1
    assert "chapter/plain.md:24: LaTeX error (basic.tex:" in result.err
    assert "from the page chapter/plain.md): Undefined control sequence." in result.err
    assert "_build/pdf/basic.log" in result.err
    # the last good PDF is still there, untouched
    assert (book.root / "_build" / "pdf" / "basic.pdf").read_bytes() == good


def test_missing_latex_skips_the_pdf_once_and_builds_the_rest(minibook, tmp_path):
    book = minibook("basic")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", "html", "pdf"], cwd=book.root,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1  # not everything requested was produced
    assert proc.stderr.count("PDF skipped: xelatex and latexmk not found") == 1
    assert "texlive-xetex" in proc.stderr
    assert (book.root / "_build" / "html" / "chapter" / "plain.html").is_file()
    assert not (book.root / "_build" / "pdf").exists()


@needs_latex
def test_every_kind_of_output_reaches_the_pdf(minibook):
    book = minibook("outputs")
    result = book.build("pdf")
    assert result.code == 0, result.err
    text = pdf_text(book.root / "_build" / "pdf" / "outputs.pdf")
    assert "to stdout" in text and "to stderr" in text
    assert "ValueError: shown on purpose" in text and "after the error" in text
    assert "n(n + 1)" in text  # a LaTeX output, typeset
    converted = list((book.root / "_build" / ".sphinx" / "latex" / "latex").glob("*.pdf"))
    assert len(converted) >= 3  # both SVG outputs became PDF figures, beside the book


@needs_latex
@pytest.mark.parametrize("language, contents", [("ja", "目次"), ("ko", "차례")])
def test_japanese_and_korean_books_build(minibook, language, contents):
    book = minibook("zh")
    book.replace("octavo.toml", 'language = "zh"', f'language = "{language}"')
    result = book.build("pdf")
    assert result.code == 0, result.err
    text = pdf_text(book.root / "_build" / "pdf" / "book.pdf")
    assert contents in text and "两个张量的形状必须相同" in text
