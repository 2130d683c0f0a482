"""Whole builds of mini-books with real Jupyter kernels and Sphinx."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

PAGES = ["chapter/plain.md", "chapter/uses_data.md", "chapter/uses_module.md"]


def test_incremental_builds_execute_exactly_what_changed(minibook):
    book = minibook("basic")
    first = book.build()
    assert first.code == 0, first.err
    assert first.executed == PAGES
    assert first.status("index.md") == "no code"
    html = book.html("chapter/uses_module")
    assert "double 42" in html
    assert "number 7" in book.html("chapter/uses_data")
    plain = book.html("chapter/plain")
    assert "plain 42" in plain and "<img" in plain and "dot.svg" in plain
    assert (book.root / "_build" / "notebooks" / "chapter" / "plain.ipynb").is_file()

    assert book.build().executed == []  # nothing changed

    book.replace("chapter/plain.md", "are numbered.", "are numbered, freshly.")
    prose = book.build()
    assert prose.code == 0 and prose.executed == []
    assert "freshly" in book.html("chapter/plain")
    assert "plain 42" in book.html("chapter/plain")  # outputs kept with the new prose

    book.replace("chapter/plain.md", "6 * 7", "6 * 8")
    code = book.build()
    assert code.executed == ["chapter/plain.md"]
    assert "plain 48" in book.html("chapter/plain")

    book.replace("chapter/helper.py", "2 * x", "3 * x")
    module = book.build()
    assert module.executed == ["chapter/uses_module.md"]
    assert "double 63" in book.html("chapter/uses_module")

    book.write("data/number.txt", "8\n")
    data = book.build()
    assert data.executed == ["chapter/uses_data.md"]
    assert "number 8" in book.html("chapter/uses_data")

    assert book.build("--rerun", "chapter/plain*").executed == ["chapter/plain.md"]
    assert book.build("--force", "-j", "1").executed == PAGES


def test_failing_cell_reported_at_its_line_and_others_still_build(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    published = book.html("index")
    book.replace("chapter/index.md", "plain\n", "plain\nbroken\n")
    book.write("chapter/broken.md", "# Broken\n\n```{code-cell} python\nx = 1\n\n"
                                    "def f():\n    return 1 / 0\n\nf()\n```\n")
    book.replace("chapter/plain.md", "6 * 7", "6 * 9")
    result = book.build()
    assert result.code == 1
    assert result.executed == ["chapter/broken.md", "chapter/plain.md"]
    assert result.status("chapter/broken.md") == "failed"
    assert result.status("chapter/plain.md") == "executed"
    message = re.search(r"^chapter/broken\.md:3: cell failed \(line 9\): "
                        r"ZeroDivisionError: division by zero$", result.err, re.M)
    assert message, result.err
    assert "return 1 / 0" in result.err  # the last frames of the traceback
    # the published site is not replaced by a build with a failure
    assert book.html("index") == published
    assert not (book.root / "_build" / "html" / "chapter" / "broken.html").exists()
    # the failure is not cached: the next build runs it again
    again = book.build()
    assert again.executed == ["chapter/broken.md"] and again.code == 1


def test_damaged_cache_entry_is_executed_again(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    entries = sorted((book.root / "_build" / ".cache" / "notebooks").rglob("*.json"))
    assert len(entries) == 3
    state = json.loads((book.root / "_build" / ".cache" / "pages.json").read_text())
    key = state["chapter/plain.md"]["key"]
    victim = next(e for e in entries if e.stem == key)
    victim.write_bytes(victim.read_bytes()[:-40])  # truncated
    other = next(e for e in entries if e.stem != key)
    entry = json.loads(other.read_text())
    entry["notebook"] = entry["notebook"].replace("double 42", "double 41")  # tampered
    other.write_text(json.dumps(entry))
    result = book.build()
    assert result.code == 0
    assert sorted(result.executed) == sorted(["chapter/plain.md", "chapter/uses_module.md"])
    assert "double 42" in book.html("chapter/uses_module")


def test_timeout_and_dead_kernel_fail_their_pages_only(minibook):
    book = minibook("basic")
    book.replace("chapter/index.md", "plain\n", "plain\nslow\ndies\n")
    book.write("chapter/slow.md", "---\noctavo:\n  timeout: 2\n---\n# Slow\n\n"
                                  "```{code-cell} python\nimport time\ntime.sleep(60)\n```\n")
    book.write("chapter/dies.md", "# Dies\n\n```{code-cell} python\nimport os, signal\n"
                                  "os.kill(os.getpid(), signal.SIGKILL)\n```\n")
    start = time.monotonic()
    result = book.build()
    assert time.monotonic() - start < 50
    assert result.code == 1
    assert result.status("chapter/slow.md") == "failed"
    assert result.status("chapter/dies.md") == "failed"
    for page in PAGES:
        assert result.status(page) == "executed"
    assert "chapter/slow.md:7: cell failed: cell timed out after 2 s" in result.err
    assert "chapter/dies.md:3: cell failed: the kernel died" in result.err


def test_source_problems_reported_together_and_nothing_built(minibook):
    book = minibook("basic")
    book.replace("chapter/index.md", "plain\n", "plain\nnothere\n../../escape\n")
    book.write("chapter/uses_module.md", book.read("chapter/uses_module.md").replace(
        "kernelspec:", "kernelspec: [oops"))
    book.path("chapter/plain.md").write_bytes(b"# Plain\n\n\xff\xfe\n")
    result = book.build()
    assert result.code == 1
    err = result.err
    assert "chapter/index.md:8: toctree entry 'nothere' does not exist" in err
    assert "chapter/index.md:9: toctree entry '../../escape' leads outside the book's folder" in err
    assert re.search(r"chapter/uses_module\.md:\d+: broken YAML front matter", err)
    assert "chapter/plain.md:3: not valid UTF-8" in err
    assert "4 problems found; nothing was built." in err
    assert not (book.root / "_build" / "html").exists()


def test_config_problems_reported_together(minibook):
    book = minibook("basic")
    book.write("octavo.toml", '[project]\ntitle = 1\n[build]\ntimeout = "x"\nbogus = 1\n')
    result = book.build()
    assert result.code == 2
    assert "octavo.toml:2: [project] title = 1: expected a string" in result.err
    assert "octavo.toml:4: [build] timeout = 'x': expected an integer" in result.err
    assert "octavo.toml:5: unknown key 'bogus' in [build]" in result.err


def test_render_problems_located_and_site_kept(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    published = book.html("chapter/plain")
    book.replace("chapter/plain.md", "are numbered.",
                 "are numbered.\n\n```{nosuch}\nx\n```\n\nSee {badrole}`x` and {ref}`nolabel`.")
    result = book.build()
    assert result.code == 1 and result.executed == []
    assert "chapter/plain.md:26: Unknown directive type: 'nosuch'" in result.err
    assert "chapter/plain.md:30: Unknown interpreted text role \"badrole\"" in result.err
    assert "chapter/plain.md:30: undefined label: 'nolabel'" in result.err
    assert book.html("chapter/plain") == published
    # problems stay reported until fixed, even though the page is unchanged since
    assert book.build().code == 1
    book.replace("chapter/plain.md", "\n\n```{nosuch}\nx\n```\n\nSee {badrole}`x` and {ref}`nolabel`.",
                 "")
    assert book.build().code == 0


def test_no_exec_renders_cache_and_marks_the_rest(minibook):
    book = minibook("basic")
    result = book.build("--no-exec")
    assert result.code == 0 and result.executed == []
    assert result.status("chapter/plain.md") == "not executed"
    assert "has not been executed yet" in book.html("chapter/plain")
    assert "plain 42" not in book.html("chapter/plain")
    book.build("--rerun", "chapter/plain.md")
    later = book.build("--no-exec")
    assert later.status("chapter/plain.md") == "cached"
    assert later.status("chapter/uses_module.md") == "executed" or \
        later.status("chapter/uses_module.md") == "cached"


def _kernels_under(root) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if "ipykernel" in " ".join(proc.info["cmdline"] or []) and \
                    str(proc.info["cwd"] or "").startswith(str(root)):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def test_ctrl_c_shuts_every_kernel_down(minibook):
    book = minibook("basic")
    book.write("chapter/plain.md", "# Plain\n\n```{code-cell} python\nimport time\n"
                                   "time.sleep(120)\n```\n")
    book.write("chapter/uses_data.md", book.read("chapter/plain.md"))
    proc = subprocess.Popen([sys.executable, "-m", "octavo", "build", "-j", "2"], cwd=book.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_kernels_under(book.root)) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(_kernels_under(book.root)) == 2
    time.sleep(1.5)  # let the cells start running
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    time.sleep(0.5)
    assert _kernels_under(book.root) == []


def test_new_scaffold_builds_with_citation_math_and_figure(tmp_path):
    folder = tmp_path / "mybook"
    subprocess.run([sys.executable, "-m", "octavo", "new", str(folder)], check=True)
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", "--book", str(folder)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    html = (folder / "_build" / "html" / "chapter_intro" / "first_steps.html").read_text()
    assert "Knuth" in html  # the bibliography
    assert "Fig. 1.1" in html or "Fig. 1" in html  # numbered figure from a code output
    assert "5.5" in html  # the executed mean
    assert "(1.1.1)" in html or "eq_mean" in html
    again = subprocess.run([sys.executable, "-m", "octavo", "new", str(folder)],
                           capture_output=True, text=True)
    assert again.returncode != 0 and "would overwrite" in again.stderr


def test_clean_keeps_the_cache(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    assert book.octavo("clean").code == 0
    assert not (book.root / "_build" / "html").exists()
    assert book.build().executed == []
    assert book.octavo("clean", "--all").code == 0
    assert not (book.root / "_build").exists()


def test_every_kind_of_output_is_rendered(minibook):
    book = minibook("outputs")
    result = book.build()
    assert result.code == 0, result.err
    html = book.html("kinds")
    assert "to stdout" in html and "to stderr" in html
    assert "<table class='made-by-code'>" in html or 'class="made-by-code"' in html
    images = re.findall(r'<img[^>]*src="(_images/[^"]+)"', html)
    svgs = [i for i in images if i.endswith(".svg")]
    assert len(svgs) == 2 and any(i.endswith(".png") for i in images)  # SVG, SVG plot, PNG
    site = book.root / "_build" / "html"
    assert any("made-by-code" in (site / s).read_text() for s in svgs)
    assert "\\frac{n(n+1)}{2}" in html  # LaTeX output, left for MathJax
    assert "ValueError" in html and "shown on purpose" in html  # an expected error
    assert "after the error" in html
    assert "copybutton" in html


def test_a_second_build_at_the_same_time_is_refused(minibook):
    book = minibook("basic")
    book.write("chapter/plain.md", "(sec_plain)=\n# Plain\n\n```{code-cell} python\n"
                                   "import time\ntime.sleep(6)\n```\n")
    first = subprocess.Popen([sys.executable, "-m", "octavo", "build"], cwd=book.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = book.root / "_build" / ".lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    second = subprocess.run([sys.executable, "-m", "octavo", "build"], cwd=book.root,
                            capture_output=True, text=True)
    assert second.returncode == 1
    assert f"another octavo build is running here (pid {first.pid})" in second.stderr
    first.communicate(timeout=120)
    assert first.returncode == 0
