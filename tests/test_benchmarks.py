"""Smoke runs of the benchmark harnesses (tiny sizes, one repetition): they keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_build_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "build_bench.py"),
                           "--pages", "3", "--repeat", "1", "--work", "2", "--loop", "1000",
                           "--json", str(out)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    data = json.loads(out.read_text())
    octavo = data["results"]["octavo"]
    assert octavo["cold"]["executed"] == [3]
    assert octavo["no-op"]["executed"] == [0] and octavo["prose edit"]["executed"] == [0]
    assert octavo["code edit"]["executed"] == [1]
    assert octavo["module edit"]["executed"] == [1]  # only the page that imports it
    assert all(m["stale"] == [0] for m in octavo.values())
    peer = data["results"]["jupyter-book"]
    assert peer["cold"]["stale"] == [0]
    assert peer["module edit"]["stale"] == [1]  # the peer serves the stale page
    assert "scenario" in proc.stdout and "ratio" in proc.stdout
