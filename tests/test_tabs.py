"""Tab assignment, tab blocks in prose, per-tab variants and the merged page."""

import nbformat

from octavo.source import read_page
from octavo.source.tabs import cell_tabs, merge, merged_markdown, variant_markdown, variants

TABS = ["pytorch", "jax"]
PAGE = """# T

:::{tab} pytorch
Torch words.
:::

:::{tab} jax
JAX words.
:::

```{code-cell} python
shared = 1
```

```{code-cell} python
:tab: pytorch
import torch
```

```{code-cell} python
:tab: jax
import jax
```

```{code-cell} python
:tab: all
print(shared)
```
"""


def page_of(tmp_path, text=PAGE):
    (tmp_path / "p.md").write_text(text)
    page, problems = read_page(tmp_path / "p.md", tmp_path)
    assert problems == []
    return page


def test_cell_assignment(tmp_path):
    page = page_of(tmp_path)
    code = page.code_cells
    assert [cell_tabs(c, TABS, "p.md", []) for c in code] == [
        ["pytorch"], ["pytorch"], ["jax"], ["pytorch", "jax"]]


def test_unknown_tab_is_an_error_at_the_cell(tmp_path):
    page = page_of(tmp_path, "# T\n\n```{code-cell} python\n:tab: pytorch, tf\nx = 1\n```\n")
    problems = []
    assert cell_tabs(page.code_cells[0], TABS, "p.md", problems) == ["pytorch"]
    assert len(problems) == 1
    assert str(problems[0]).startswith("p.md:3: unknown tab 'tf'")


def test_unknown_tab_in_prose_block(tmp_path):
    problems = []
    variant_markdown("a\n:::{tab} mxnet\nx\n:::\n", "pytorch", TABS, 10, "p.md", problems)
    assert str(problems[0]).startswith("p.md:11: unknown tab 'mxnet'")


def test_variant_markdown_keeps_only_its_tab():
    text = "Intro.\n:::{tab} pytorch\nTorch.\n:::\n:::{tab} jax\nJax.\n:::\nEnd."
    assert variant_markdown(text, "jax", TABS) == "Intro.\nJax.\nEnd."
    merged = merged_markdown(text, TABS)
    assert ":::{container} octavo-tab octavo-tab-pytorch\nTorch.\n:::" in merged


def test_variants_and_merge(tmp_path):
    page = page_of(tmp_path)
    out = variants(page, TABS, [])
    assert [v.tab for v in out] == ["pytorch", "jax"]
    torch_nb, jax_nb = out[0].notebook, out[1].notebook
    torch_code = [c.source for c in torch_nb.cells if c.cell_type == "code"]
    assert torch_code == ["shared = 1", "import torch", "print(shared)"]
    assert [c.source for c in jax_nb.cells if c.cell_type == "code"] == ["import jax",
                                                                          "print(shared)"]
    assert "Torch words." in torch_nb.cells[0].source and "JAX" not in torch_nb.cells[0].source
    # fake executions: every code cell prints its tab
    executed = {}
    for v in out:
        nb = nbformat.from_dict(v.notebook)
        for c in nb.cells:
            if c.cell_type == "code":
                c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=v.tab)]
        executed[v.tab] = (nb, v.cell_map)
    merged = merge(page, TABS, executed)
    code = [c for c in merged.cells if c.cell_type == "code"]
    # "shared = 1" is pytorch-only (untagged = default tab), so it is in a tab
    tags = [c.metadata.get("tags", []) for c in code]
    assert tags == [["octavo-tab-pytorch"], ["octavo-tab-pytorch"], ["octavo-tab-jax"], []]
    assert code[3].outputs[0].text == "pytorch"  # the shared cell shows once
    assert code[2].outputs[0].text == "jax"
    assert len(merged.metadata["source_map"]) == len(merged.cells)


def test_page_for_one_tab_says_so(tmp_path):
    page = page_of(tmp_path, "# T\n\n```{code-cell} python\n:tab: jax\nx = 1\n```\n")
    out = variants(page, TABS, [])
    assert [v.tab for v in out] == ["jax"]
    merged = merge(page, TABS, {"jax": (out[0].notebook, out[0].cell_map)})
    assert "available for JAX only" in merged.cells[1].source
