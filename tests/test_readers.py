import json
from pathlib import Path

from octavo.source import read_page

PAGE = """---
kernelspec:
  name: python3
octavo:
  timeout: 5
---
(sec_x)=
# Title

Prose line.

````md
```{code-cell} python
not a cell: inside a longer fence
```
````

```{code-cell} python
:tags: [hide-input]
x = 1
x
```
+++ {"slide": true}

More prose

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: A figure.
    name: fig_a
---
print(2)
```
"""


def read(tmp_path, text, name="page.md"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_page(path, tmp_path)


def test_myst_cells_and_lines(tmp_path):
    page, problems = read(tmp_path, PAGE)
    assert problems == []
    assert page.metadata["octavo"] == {"timeout": 5}
    kinds = [(c.kind, c.line) for c in page.cells]
    assert kinds == [("markdown", 7), ("code", 18), ("markdown", 25), ("code", 27)]
    code = page.code_cells
    assert code[0].source == "x = 1\nx"
    assert code[0].body_line == 20
    assert code[0].tags == ["hide-input"]
    assert code[1].metadata["mystnb"]["figure"]["name"] == "fig_a"
    assert code[1].body_line == 34
    assert page.cells[2].metadata == {"slide": True}
    assert "not a cell" in page.cells[0].source
    assert page.title() == "Title"


def test_notebook_has_source_map_and_stable_ids(tmp_path):
    page, _ = read(tmp_path, PAGE)
    nb1, nb2 = page.to_notebook(), page.to_notebook()
    assert [c.id for c in nb1.cells] == [c.id for c in nb2.cells]
    assert len(nb1.metadata["source_map"]) == len(page.cells)
    assert all(c.outputs == [] for c in nb1.cells if c.cell_type == "code")


def test_broken_front_matter(tmp_path):
    page, problems = read(tmp_path, "---\ntitle: [unclosed\n---\n# T\n")
    assert len(problems) == 1
    assert problems[0].path == "page.md" and problems[0].line >= 2
    assert "broken YAML front matter" in problems[0].message


def test_front_matter_not_mapping(tmp_path):
    _, problems = read(tmp_path, "---\n- a\n- b\n---\n# T\n")
    assert "expected a mapping" in problems[0].message


def test_unclosed_code_cell(tmp_path):
    _, problems = read(tmp_path, "# T\n\n```{code-cell} python\nx = 1\n")
    assert problems[0].line == 3 and "never closed" in problems[0].message


def test_not_utf8(tmp_path):
    page, problems = read(tmp_path, b"# T\n\ncaf\xe9\n")
    assert page is None
    assert problems[0].line == 3 and "not valid UTF-8" in problems[0].message


def test_ipynb_reader(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Nb\n"]},
                    {"cell_type": "code", "id": "b", "metadata": {}, "source": ["1 + 1"],
                     "outputs": [], "execution_count": None}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "P"}},
          "nbformat": 4, "nbformat_minor": 5}
    page, problems = read(tmp_path, json.dumps(nb), "nb.ipynb")
    assert problems == []
    assert [c.kind for c in page.cells] == ["markdown", "code"]
    assert page.kernel == "python3" and page.title() == "Nb"
    assert page.docname == "nb"


def test_ipynb_unreadable(tmp_path):
    page, problems = read(tmp_path, "{not json", "nb.ipynb")
    assert page is None and "not a readable notebook" in problems[0].message
