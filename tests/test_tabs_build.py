"""Two tabs and a library, built for real: re-execution follows the library."""

from __future__ import annotations

import zipfile

import nbformat

DEFINE = ["basics/define.md [numpy]", "basics/define.md [torch]"]
USE = ["basics/use.md [numpy]", "basics/use.md [torch]"]


def test_library_edits_reexecute_exactly_their_users(minibook):
    book = minibook("tabs")
    first = book.build()
    assert first.code == 0, first.err
    assert len(first.executed) == 7
    assert (book.root / "lib" / "minilib" / "torch" / "basics.py").is_file()
    assert book.octavo("build", "lib", "--check").code == 0

    # per-tab notebooks and zips
    nb = nbformat.read(book.root / "_build" / "notebooks" / "torch" / "basics" / "use.ipynb", 4)
    assert any("bumped 2 total 4.0" in str(c.get("outputs")) for c in nb.cells)
    assert not (book.root / "_build" / "notebooks" / "numpy" / "basics" / "torch_only.ipynb").exists()
    with zipfile.ZipFile(book.root / "_build" / "two-tabs-numpy.zip") as zf:
        names = zf.namelist()
        assert "two-tabs-numpy/basics/define.ipynb" in names
        nbformat.reads(zf.read("two-tabs-numpy/basics/define.ipynb").decode(), 4)

    assert book.build().executed == []

    # prose in the page that defines the library: nothing runs
    book.replace("basics/define.md", "Torch prose.", "Torch prose, revised.")
    assert book.build().executed == []

    # an unused saved function: only its own page (its code changed)
    book.replace("basics/define.md", 'return "spare"', 'return "spare!"')
    assert book.build().executed == DEFINE
    assert 'return "spare!"' in book.read("lib/minilib/numpy/basics.py")

    # a used function, reached through another: its users run again
    book.replace("basics/define.md", "return float(ones(n).sum())",
                 "return float(ones(n).sum()) * 1")
    explain = book.octavo("build", "--explain", "basics/use.md")
    assert "changed since the last successful run" in explain.out
    assert "library: total changed" in explain.out
    assert "cached" not in explain.out
    assert book.build().executed == sorted(DEFINE + USE)
    assert "cached: will not execute" in book.octavo("build", "--explain", "basics/use.md").out

    # a framework-specific function used only through `total`: that tab's users only
    book.replace("basics/define.md", "return torch.ones(n)", "return torch.ones(n) + 0")
    assert book.build().executed == ["basics/define.md [torch]", "basics/use.md [torch]"]

    # a method merged into the class from a later page: the class's users run again
    book.replace("basics/use.md", "self.n += k", "self.n = self.n + k")
    assert book.build().executed == USE

    # a hand edit to the generated library is caught by --check
    lib = book.path("lib/minilib/numpy/basics.py")
    lib.write_text(lib.read_text() + "\n# hand edit\n")
    check = book.octavo("build", "lib", "--check")
    assert check.code == 1 and "+# hand edit" not in check.out and "-# hand edit" in check.out


def test_unknown_tab_is_reported_at_its_line(minibook):
    book = minibook("tabs")
    book.replace("basics/unused.md", ":tab: all", ":tab: jax")
    result = book.build()
    assert result.code == 1
    assert "basics/unused.md:4: unknown tab 'jax' in the cell's :tab: option" in result.err
