"""Download, Colab, discussion and edit links: present where configured, absent where not."""

from __future__ import annotations

import json

import nbformat

CONFIGURED = """
[launch]
github_repo = "example/two-tabs-notebooks"

[discussion]
url = "https://forum.example/t/{id}"
"""


def test_links_where_configured(minibook):
    book = minibook("tabs")
    book.write("octavo.toml", book.read("octavo.toml") + CONFIGURED +
               '\n[html]\nrepository_url = "https://github.com/example/two-tabs"\n'
               'path_to_book = "book"\n')
    book.write("basics/use.md", "---\ndiscussion: 42\n---\n" + book.read("basics/use.md"))
    result = book.build()
    assert result.code == 0, result.err
    html = book.html("basics/use")
    assert 'href="../_notebooks/numpy/basics/use.ipynb"' in html
    assert 'href="../_notebooks/torch/basics/use.ipynb"' in html
    assert 'href="../_sources_md/basics/use.md"' in html
    assert ("https://colab.research.google.com/github/example/two-tabs-notebooks/blob/main/"
            "torch/basics/use.ipynb") in html
    assert "https://github.com/example/two-tabs/edit/main/book/basics/use.md" in html
    assert 'href="https://forum.example/t/42"' in html
    site = book.root / "_build" / "html"
    nb = nbformat.read(site / "_notebooks" / "torch" / "basics" / "use.ipynb", 4)
    assert any("bumped 2" in json.dumps(c.get("outputs", [])) for c in nb.cells)
    assert (site / "_sources_md" / "basics" / "use.md").read_text().startswith("---\ndiscussion")
    colab = nbformat.read(book.root / "_build" / "colab" / "torch" / "basics" / "use.ipynb", 4)
    assert colab.cells[0].source == "!pip install minilib==0.1.0"
    # a page without a discussion id gets no discussion link
    assert "forum.example" not in book.html("basics/define")


def test_no_links_where_not_configured(minibook):
    book = minibook("tabs")
    assert book.build().code == 0
    html = book.html("basics/use")
    assert "colab.research.google.com" not in html
    assert "Edit this page" not in html
    assert "Discussions" not in html
    assert 'href="../_notebooks/torch/basics/use.ipynb"' in html  # downloads are always there
    assert not (book.root / "_build" / "colab").exists()
