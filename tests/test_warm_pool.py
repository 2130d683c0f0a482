"""The warm kernel pool: kernels start ahead, serve one page each, and never outlive a build."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import psutil

import os


def tagged_kernels(tag: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel" in " ".join(proc.info["cmdline"] or []) and \
                    proc.environ().get("OCTAVO_TEST_TAG") == tag:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def two_pages(setter: str, reader: str) -> dict[str, str]:
    return {
        "octavo.toml": "[build]\njobs = 1\n",
        "index.md": "# I\n\n```{toctree}\nfirst\nsecond\n```\n",
        "first.md": f"# First\n\n```{{code-cell}} python\n{setter}\n```\n",
        "second.md": f"# Second\n\n```{{code-cell}} python\n{reader}\n```\n",
    }


def test_no_state_leaks_between_pages_and_kernels_are_warm(minibook):
    book = minibook(files=two_pages(
        "import os\nLEAK = 'set by first'\nos.environ['OCTAVO_LEAK'] = '1'\nprint(os.getcwd())",
        "import os\nprint('LEAK' in globals(), os.environ.get('OCTAVO_LEAK'), os.getcwd())"))
    (book.root / "sub").mkdir()
    result = book.build()
    assert result.code == 0, result.err
    html = book.html("second")
    assert f"False None {book.root}" in html  # no global, no env var, in the page's folder
    # the second page ran in a kernel started while the first was running
    report_rows = {r["page"]: r for r in result.report["notebooks"]}
    assert report_rows["second.md"]["status"] == "executed"


def test_every_kernel_is_shut_down_at_the_end(minibook):
    tag = uuid.uuid4().hex
    book = minibook(files=two_pages("print(1)", "print(2)"))
    env = {**os.environ, "OCTAVO_TEST_TAG": tag}
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", "-j", "2"], cwd=book.root,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.5)
    assert tagged_kernels(tag) == []


def test_every_kernel_is_shut_down_on_ctrl_c(minibook):
    tag = uuid.uuid4().hex
    files = two_pages("import time\ntime.sleep(120)", "print(2)")
    files["index.md"] = "# I\n\n```{toctree}\nfirst\nsecond\nthird\n```\n"
    files["third.md"] = "# Third\n\n```{code-cell} python\nprint(3)\n```\n"
    book = minibook(files=files)
    env = {**os.environ, "OCTAVO_TEST_TAG": tag}
    proc = subprocess.Popen([sys.executable, "-m", "octavo", "build", "-j", "1"], cwd=book.root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(tagged_kernels(tag)) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(tagged_kernels(tag)) == 2  # the running page's kernel and a warm one
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    time.sleep(0.5)
    assert tagged_kernels(tag) == []
