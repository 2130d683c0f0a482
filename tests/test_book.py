"""Table of contents: order, and every toctree problem reported at once."""

import pytest

from octavo.book import load_book, unreachable_pages
from octavo.config import parse_config
from octavo.errors import SourceError


def make(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / "book" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "book" / "octavo.toml").write_text("")
    return parse_config("", tmp_path / "book" / "octavo.toml")


def toc(*entries, opts=""):
    return "```{toctree}\n" + opts + "\n".join(entries) + "\n```\n"


def test_pages_in_toc_order(tmp_path):
    cfg = make(tmp_path, {
        "index.md": "# Root\n\n" + toc("pre", "ch/index"),
        "pre.md": "# Pre\n",
        "ch/index.md": "# Ch\n\n" + toc("Second title <b>", "a", opts=":maxdepth: 1\n"),
        "ch/a.md": "# A\n", "ch/b.md": "# B\n", "ch/orphan.md": "# O\n",
        "ch/data.csv": "1\n",
    })
    book = load_book(cfg)
    assert [p.rel for p in book.pages] == ["index.md", "pre.md", "ch/index.md", "ch/b.md",
                                           "ch/a.md"]
    assert unreachable_pages(book) == ["ch/orphan.md"]
    assert {a.name for a in book.assets} == {"data.csv", "octavo.toml"}


def test_all_toctree_problems_at_once(tmp_path):
    cfg = make(tmp_path, {
        "index.md": "# Root\n\n" + toc("ch/index", "missing", "../outside"),
        "ch/index.md": "# Ch\n\n" + toc("a"),
        "ch/a.md": "# A\n\n" + toc("../ch/index"),
        "bad.md": "",
    })
    with pytest.raises(SourceError) as info:
        load_book(cfg)
    found = sorted(str(d) for d in info.value.diagnostics)
    assert len(found) == 3, found
    assert found[0].startswith("ch/a.md:4: toctree cycle: ch/index -> ch/a -> ch/index")
    assert found[1].startswith("index.md:5: toctree entry 'missing' does not exist")
    assert found[2].startswith("index.md:6: toctree entry '../outside' leads outside")


def test_page_problems_collected_across_pages(tmp_path):
    cfg = make(tmp_path, {
        "index.md": "# Root\n\n" + toc("a", "b"),
        "a.md": "---\nx: [\n---\n# A\n",
    })
    (tmp_path / "book" / "b.md").write_bytes(b"# B\n\xff\n")
    with pytest.raises(SourceError) as info:
        load_book(cfg)
    found = sorted(str(d) for d in info.value.diagnostics)
    assert len(found) == 2
    assert found[0].startswith("a.md:") and "broken YAML front matter" in found[0]
    assert found[1].startswith("b.md:2: not valid UTF-8")


def test_symlink_out_of_the_book_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "page.md").write_text("# Elsewhere\n")
    cfg = make(tmp_path, {"index.md": "# Root\n\n" + toc("link/page")})
    (tmp_path / "book" / "link").symlink_to(outside)
    with pytest.raises(SourceError) as info:
        load_book(cfg)
    assert "leads outside the book's folder" in str(info.value)


def test_figures_and_includes_outside_the_book_are_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"x")
    cfg = make(tmp_path, {
        "index.md": "# Root\n\n```{figure} ../secret.png\nA caption.\n```\n\n"
                    "![alt](../secret.png) and ![ok](img/a.png) and ![web](https://x.org/a.png)\n\n"
                    "```{include} /../secret.png\n```\n\n<img src=\"../../secret.png\">\n",
        "img/a.png": "x",
    })
    with pytest.raises(SourceError) as info:
        load_book(cfg)
    found = [str(d) for d in info.value.diagnostics]
    assert [f.split(":")[1] for f in found] == ["3", "7", "9", "12"], found
    assert all("leads outside the book's folder" in f for f in found)
