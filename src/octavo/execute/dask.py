"""Run notebooks on a Dask distributed cluster.

Each page becomes one task. Its folder (local modules, declared inputs, files
beside it) and the book's library travel with it as a zip; the worker unpacks
them in a private folder, runs the notebook in a fresh kernel there, and sends
the executed notebook back, which enters the local cache exactly as a local
run would. A page's resources become Dask worker resources (``CPU``, ``GPU``,
``MEMORY``). If the worker running a page dies, Dask runs it again on another
worker once; a second death is reported as the page's failure, with the cause.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import nbformat

from ..config import Config
from .kernel import RunResult
from .plan import Job

MAX_BUNDLE_FILE = 64 * 2**20  # larger files beside a page are not sent


def _add_folder(zf: zipfile.ZipFile, folder: Path, arc: str, seen: set[str]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(p.startswith(".") or p in ("__pycache__", "_build") for p in rel.parts):
            continue
        name = f"{arc}/{rel.as_posix()}"
        if path.is_file() and name not in seen and path.stat().st_size <= MAX_BUNDLE_FILE:
            zf.write(path, name)
            seen.add(name)


def bundle(job: Job, root: Path, library_roots: list[Path]) -> bytes:
    """The files a page needs, as a zip: root/<book paths> and lib<i>/<packages>."""
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        folder = job.page.folder
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(".") \
                    and path.stat().st_size <= MAX_BUNDLE_FILE:
                name = f"root/{path.relative_to(root).as_posix()}"
                zf.write(path, name)
                seen.add(name)
        for part in ("modules", "inputs"):
            for rel in job.key.parts.get(part, {}):
                name = f"root/{rel}"
                if name not in seen and (root / rel).is_file():
                    zf.write(root / rel, name)
                    seen.add(name)
        for i, lib in enumerate(library_roots):
            _add_folder(zf, lib, f"lib{i}", seen)
    return buffer.getvalue()


def run_remote(payload: dict) -> dict:
    """Runs on a Dask worker: unpack, execute in a fresh kernel, return the notebook."""
    from .kernel import run_notebook

    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = "unknown"
    with tempfile.TemporaryDirectory(prefix="octavo-task-") as tmp:
        with zipfile.ZipFile(io.BytesIO(payload["bundle"])) as zf:
            zf.extractall(tmp)
        root = Path(tmp) / "root"
        cwd = root / payload["page_dir"]
        cwd.mkdir(parents=True, exist_ok=True)
        libs = sorted(str(p) for p in Path(tmp).glob("lib*"))
        env = dict(payload["env"])
        env["PYTHONPATH"] = os.pathsep.join([*libs, str(root)])
        nb = nbformat.reads(payload["notebook"], as_version=4)
        started = time.perf_counter()
        result = asyncio.run(run_notebook(nb, cwd, kernel=payload["kernel"],
                                          timeout=payload["timeout"],
                                          allow_errors=payload["allow_errors"], env=env))
    return {"ok": result.ok, "notebook": nbformat.writes(result.notebook),
            "seconds": result.seconds or time.perf_counter() - started,
            "cell_index": result.cell_index, "line_in_cell": result.line_in_cell,
            "error": result.error, "traceback": result.traceback,
            "peak_memory": result.peak_memory, "worker": worker}


def task_resources(job: Job) -> dict[str, float]:
    wanted: dict[str, float] = {}
    if job.request.cpus > 1:
        wanted["CPU"] = job.request.cpus
    if job.request.gpus:
        wanted["GPU"] = job.request.gpus
    if job.request.memory:
        wanted["MEMORY"] = job.request.memory
    return wanted


def _unmet(wanted: dict[str, float], workers: dict) -> str | None:
    if not wanted:
        return None
    for info in workers.values():
        offered = info.get("resources") or {}
        if all(offered.get(k, 0) >= v for k, v in wanted.items()):
            return None
    have = sorted({f"{k}={v:g}" for info in workers.values()
                   for k, v in (info.get("resources") or {}).items()}) or ["none"]
    need = ",".join(f"{k}={v:g}" for k, v in wanted.items())
    return (f"no Dask worker offers the resources this page needs ({need}; workers offer "
            f"{', '.join(have)}): start workers with --resources \"{need}\"")


def local_cluster(workers: int, config: Config):
    """A LocalCluster on 127.0.0.1 whose workers offer this machine's resources, shared out."""
    import dask
    from distributed import LocalCluster

    from .resources import Inventory

    inventory = Inventory.detect()
    per_worker = {"CPU": max(1, inventory.cpus // workers),
                  "MEMORY": inventory.memory // workers}
    dask.config.set({"distributed.scheduler.allowed-failures": 1,
                     "distributed.worker.daemon": False})
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=None, resources=per_worker,
                        silence_logs=40)


def run_jobs_dask(jobs: list[Job], config: Config, on_start: Callable, on_done: Callable,
                  env: dict | None = None, scheduler: str | None = None,
                  workers: int = 2) -> dict[str, RunResult]:
    from distributed import Client, as_completed
    from distributed.client import FutureCancelledError

    if not jobs:
        return {}
    cluster = local_cluster(workers, config) if scheduler is None else None
    client = Client(cluster if cluster is not None else scheduler, timeout="30s")
    roots = [Path(p) for p in (env or {}).get("PYTHONPATH", "").split(os.pathsep) if p]
    base_env = {k: v for k, v in (env or {}).items() if k != "PYTHONPATH"}
    base_env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    results: dict[str, RunResult] = {}
    try:
        info = client.scheduler_info().get("workers", {})
        futures = {}
        for job in jobs:
            wanted = task_resources(job)
            why = _unmet(wanted, info)
            if why:
                results[job.state_id] = RunResult(False, job.notebook, 0.0, error=why)
                on_done(job, results[job.state_id])
                continue
            payload = {"notebook": nbformat.writes(job.notebook), "kernel": job.kernel,
                       "timeout": job.timeout, "allow_errors": job.allow_errors,
                       "env": base_env,
                       "page_dir": job.page.folder.relative_to(config.source_path).as_posix(),
                       "bundle": bundle(job, config.source_path, roots)}
            on_start(job)
            future = client.submit(run_remote, payload, resources=wanted or None, pure=False,
                                   key=f"octavo-{job.key.digest[:16]}-{job.state_id}")
            futures[future] = job
        for future in as_completed(futures):
            job = futures[future]
            try:
                out = future.result()
                result = RunResult(out["ok"], nbformat.reads(out["notebook"], as_version=4),
                                   out["seconds"], out["cell_index"], out["line_in_cell"],
                                   out["error"], out["traceback"], out["peak_memory"],
                                   out["worker"])
            except FutureCancelledError:
                result = RunResult(False, job.notebook, 0.0, error="the task was cancelled")
            except Exception as exc:  # KilledWorker after a retry, worker errors
                name = type(exc).__name__
                cause = ("its worker died twice (the page ran on two workers; each died)"
                         if name == "KilledWorker" else f"{name}: {exc}")
                result = RunResult(False, job.notebook, 0.0, error=f"the page failed on Dask: "
                                   f"{cause}")
            results[job.state_id] = result
            on_done(job, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


__all__ = ["run_jobs_dask", "run_remote", "bundle"]
