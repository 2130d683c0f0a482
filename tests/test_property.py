"""Random edit sequences: an incremental build always equals a forced build of the same state."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BOOKS

EXAMPLES = int(os.environ.get("OCTAVO_PROPERTY_EXAMPLES", "5"))
PAGES = ["ch/defines", "ch/user", "ch/module_user", "ch/plain"]
COUNTS = {"sequences": 0, "steps": 0, "executions": 0}


def edit(root: Path, kind: str, value: int) -> None:
    def sub(rel, pattern, new):
        path = root / rel
        text = path.read_text()
        path.write_text(re.sub(pattern, new, text, count=1))

    if kind == "prose":
        sub("ch/defines.md", r"Prose of the defining page\.[^\n]*",
            f"Prose of the defining page. Revision {value}.")
    elif kind == "page_code":
        sub("ch/plain.md", r'print\("plain", \d+\)', f'print("plain", {value})')
    elif kind == "used_function":
        sub("ch/defines.md", r"return x \+ \d+", f"return x + {value}")
    elif kind == "unused_function":
        sub("ch/defines.md", r"return \d+\n", f"return {value}\n")
    elif kind == "local_module":
        (root / "ch" / "helper_mod.py").write_text(f"VALUE = {value}\n")
    elif kind == "user_prose":
        sub("ch/user.md", r"Prose of the user page\.[^\n]*", f"Prose of the user page. {value}")


def build(root: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "octavo", "build", *args], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((root / "_build" / "report.json").read_text())


def outputs(root: Path) -> dict[str, list[str]]:
    found = {}
    for page in PAGES:
        nb = json.loads((root / "_build" / "notebooks" / f"{page}.ipynb").read_text())
        found[page] = ["".join(o.get("text", "")) for c in nb["cells"]
                       if c["cell_type"] == "code" for o in c["outputs"]]
    return found


EDITS = st.lists(st.tuples(st.sampled_from(["prose", "page_code", "used_function",
                                            "unused_function", "local_module", "user_prose"]),
                           st.integers(min_value=0, max_value=3)), min_size=2, max_size=5)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=EDITS)
def test_incremental_equals_forced(tmp_path_factory, edits):
    work = tmp_path_factory.mktemp("incremental")
    root = work / "book"
    shutil.copytree(BOOKS / "prop", root)
    build(root)
    COUNTS["sequences"] += 1
    for kind, value in edits:
        edit(root, kind, value)
        report = build(root)
        COUNTS["steps"] += 1
        COUNTS["executions"] += len(report["executed"])
        fresh = work / f"forced-{COUNTS['steps']}"
        shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("_build", "__pycache__"))
        build(fresh, "--force")
        assert outputs(root) == outputs(fresh), (kind, value)
        if kind in ("prose", "user_prose"):
            assert report["executed"] == []
        shutil.rmtree(fresh)


def test_zz_report_property_counts():
    print(f"\nproperty test: {COUNTS['sequences']} sequences, {COUNTS['steps']} steps, "
          f"{COUNTS['executions']} notebook executions, 0 stale pages")
    assert COUNTS["sequences"] == 0 or COUNTS["steps"] >= COUNTS["sequences"] * 2
