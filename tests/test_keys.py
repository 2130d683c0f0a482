"""What changes a notebook's key, and what must not."""

from octavo.execute.keys import compute_key, imported_modules
from octavo.source import read_page

BASE = """---
kernelspec:
  name: python3
{front}---
# Page

Some prose.

```{{code-cell}} python
{tags}import helper
x = helper.VALUE
```
"""


def key_of(root, text, *, kernel="python3", allow_errors=False):
    (root / "page.md").write_text(text)
    page, problems = read_page(root / "page.md", root)
    assert problems == []
    sources = [c.source for c in page.code_cells]
    key, problems = compute_key(page, sources, kernel=kernel, allow_errors=allow_errors,
                                root=root)
    return key, problems


def page(front="", tags=""):
    return BASE.format(front=front, tags=tags)


def test_prose_and_display_metadata_do_not_change_the_key(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    base, _ = key_of(tmp_path, page())
    prose, _ = key_of(tmp_path, page().replace("Some prose.", "Other words entirely."))
    tags, _ = key_of(tmp_path, page(tags=":tags: [hide-input]\n"))
    timeout, _ = key_of(tmp_path, page(front="octavo:\n  timeout: 5\n"))
    assert base.digest == prose.digest == tags.digest == timeout.digest


def test_code_kernel_settings_change_the_key(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    base, _ = key_of(tmp_path, page())
    code, _ = key_of(tmp_path, page().replace("x = helper.VALUE", "x = helper.VALUE + 1"))
    kernel, _ = key_of(tmp_path, page(), kernel="other")
    allow, _ = key_of(tmp_path, page(), allow_errors=True)
    assert len({base.digest, code.digest, kernel.digest, allow.digest}) == 4
    assert base.parts["python"] and "code" in base.parts


def test_local_module_changes_the_key_transitively(tmp_path):
    (tmp_path / "helper.py").write_text("from inner import VALUE\n")
    (tmp_path / "inner.py").write_text("VALUE = 1\n")
    first, _ = key_of(tmp_path, page())
    assert set(first.parts["modules"]) == {"helper.py", "inner.py"}
    (tmp_path / "inner.py").write_text("VALUE = 2\n")
    second, _ = key_of(tmp_path, page())
    assert first.digest != second.digest
    assert [k for k, v in first.summary().items() if second.summary()[k] != v] == ["modules"]


def test_declared_inputs(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1,2\n")
    front = "octavo:\n  inputs: [data/a.csv]\n"
    first, problems = key_of(tmp_path, page(front=front))
    assert problems == [] and list(first.parts["inputs"]) == ["data/a.csv"]
    (tmp_path / "data" / "a.csv").write_text("1,3\n")
    second, _ = key_of(tmp_path, page(front=front))
    assert first.digest != second.digest


def test_bad_inputs_are_reported(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    book = tmp_path / "book"
    book.mkdir()
    (book / "helper.py").write_text("VALUE = 1\n")
    (tmp_path / "secret.txt").write_text("x")
    front = "octavo:\n  inputs: [missing.csv, ../secret.txt]\n"
    _, problems = key_of(book, page(front=front))
    messages = " | ".join(sorted(p.message for p in problems))
    assert len(problems) == 2
    assert "'missing.csv' matches no file" in messages
    assert "'../secret.txt' leads outside the book's folder" in messages


def test_package_versions_follow_imports(tmp_path):
    text = page().replace("import helper\n", "import yaml\nimport helper\n")
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    key, _ = key_of(tmp_path, text)
    assert "PyYAML" in key.parts["packages"] or "pyyaml" in key.parts["packages"]


def test_imported_modules_ignores_magics_and_relative():
    src = "%matplotlib inline\nimport a.b\nfrom c import d\nfrom . import e\n!ls\n"
    assert imported_modules(src) == {"a", "c"}
