"""Builds through a real Dask scheduler and two workers, each its own process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _outputs(root: Path) -> dict[str, list]:
    found = {}
    for nb_path in sorted((root / "_build" / "notebooks").rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        found[nb_path.relative_to(root / "_build" / "notebooks").as_posix()] = [
            o.get("text") or o.get("data", {}).get("text/plain")
            for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    return found


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers started as separate processes."""
    file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", file],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    workers = []
    for _ in range(2):
        workers.append(subprocess.Popen(
            [BIN / "dask", "worker", "--scheduler-file", file, "--nthreads", "1", "--no-nanny",
             "--host", "127.0.0.1", "--no-dashboard", "--resources", "CPU=1,MEMORY=4e9"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield address, workers
    finally:
        for proc in workers + procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in workers + procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_dask_build_equals_local_build(minibook, cluster, tmp_path):
    address, _ = cluster
    remote = minibook("basic")
    result = remote.build("--executor", "dask", "--scheduler", address)
    assert result.code == 0, result.err
    workers = {r["worker"] for r in result.report["notebooks"] if r["status"] == "executed"}
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    local = tmp_path / "local"
    shutil.copytree(remote.root, local, ignore=shutil.ignore_patterns("_build"))
    subprocess.run([sys.executable, "-m", "octavo", "build"], cwd=local, check=True,
                   capture_output=True)
    assert _outputs(remote.root) == _outputs(local)
    assert "double 42" in remote.html("chapter/uses_module")
    # the remote results entered the local cache: nothing runs again
    assert remote.build().executed == []


def test_worker_killed_mid_page_is_retried_once(minibook, cluster, tmp_path):
    address, workers = cluster
    marker = tmp_path / "markers"
    marker.mkdir()
    book = minibook("basic")
    book.write("chapter/plain.md", "(sec_plain)=\n# Plain\n\n```{code-cell} python\nimport os, time\n"
                                   f"open(os.path.join({str(marker)!r}, str(os.getppid())), 'w')"
                                   ".close()\ntime.sleep(8)\nprint('survived')\n```\n")
    proc = subprocess.Popen([sys.executable, "-m", "octavo", "build", "--executor", "dask",
                             "--scheduler", address], cwd=book.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(marker.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    (first,) = list(marker.iterdir())
    victim = int(first.name)
    assert victim in [w.pid for w in workers]
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    runs = sorted(int(p.name) for p in marker.iterdir())
    assert len(runs) == 2 and victim in runs  # ran twice: once on each worker
    assert "survived" in book.html("chapter/plain")


def test_dask_without_a_scheduler_starts_a_local_cluster(minibook):
    book = minibook("basic")
    result = book.build("--executor", "dask")
    assert result.code == 0, result.err
    rows = [r for r in result.report["notebooks"] if r["status"] == "executed"]
    assert len(rows) == 3 and all(r["worker"].startswith("tcp://127.0.0.1:") for r in rows)
    assert "double 42" in book.html("chapter/uses_module")
