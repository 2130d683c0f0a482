"""Run jobs on this machine: at most N at once, within its CPUs, GPUs and memory.

Each notebook runs in its own fresh kernel. With the warm pool, kernels are
started ahead of time so that start-up overlaps the previous page's run; a
kernel still serves exactly one page, so no state passes between pages.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .kernel import Kernel, RunResult, kill_all, run_notebook
from .plan import Job
from .resources import Allocation, Inventory, Ledger


class WarmPool:
    """Kernels started ahead of time, for pages that need no GPU of their own."""

    def __init__(self, env: dict, size: int):
        self.env = env
        self.size = size
        self.ready: dict[tuple, list[asyncio.Task]] = {}
        self.folder = tempfile.TemporaryDirectory(prefix="octavo-warm-")

    def _key(self, job: Job, env: dict) -> tuple:
        return (job.kernel, tuple(sorted((k, v) for k, v in env.items() if v is not None)))

    def fill(self, pending: list[Job], env_of: Callable[[Job], dict | None]) -> None:
        """Start kernels for the next pages that can use one, up to the pool's size."""
        wanted: dict[tuple, int] = {}
        for job in pending:
            env = env_of(job)
            if env is None:
                continue
            key = self._key(job, env)
            wanted[key] = wanted.get(key, 0) + 1
        total = sum(len(v) for v in self.ready.values())
        for key, count in wanted.items():
            have = self.ready.setdefault(key, [])
            while len(have) < count and total < self.size:
                kernel = Kernel(key[0])
                have.append(asyncio.create_task(
                    kernel.start(Path(self.folder.name), {**self.env, **dict(key[1])})))
                total += 1

    async def take(self, job: Job, env: dict) -> Kernel | None:
        """A kernel that has finished starting, if there is one (never waits for one)."""
        tasks = self.ready.get(self._key(job, env), [])
        for task in tasks:
            if task.done():
                tasks.remove(task)
                if not task.cancelled() and task.exception() is None:
                    return task.result()
                return None  # a failed warm start: the page starts its own kernel
        return None

    async def close(self) -> None:
        for tasks in self.ready.values():
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is None:
                    await task.result().shutdown()
                else:
                    task.cancel()
                    try:
                        kernel = await task
                        await kernel.shutdown()
                    except BaseException:
                        pass
        self.ready.clear()
        self.folder.cleanup()


async def _run_all(jobs: list[Job], workers: int, inventory: Inventory, env: dict,
                   on_start: Callable, on_done: Callable, warm: bool) -> dict[str, RunResult]:
    ledger = Ledger(inventory, max(1, workers))
    pending = list(jobs)  # already ordered longest-known first
    running: dict[asyncio.Task, object] = {}
    results: dict[str, RunResult] = {}
    pool = WarmPool(env, max(1, workers)) if warm else None

    no_gpu_env = Allocation(1, [], 0, 0).env(inventory)

    def warm_env(job: Job) -> dict | None:
        """The environment of a kernel started ahead for ``job`` (None: start it cold)."""
        return None if job.request.gpus else no_gpu_env  # GPU ids are chosen at its start

    async def one(job: Job, allocation) -> None:
        job_env = {**env, **allocation.env(inventory)}
        kernel = None
        if pool is not None:
            if not allocation.gpus:
                kernel = await pool.take(job, warm_env(job))
            pool.fill(pending, warm_env)  # the next pages' kernels start while this one runs
        on_start(job)
        result = await run_notebook(job.notebook, job.page.folder, kernel=job.kernel,
                                    timeout=job.timeout, allow_errors=job.allow_errors,
                                    env=job_env, warm=kernel)
        result.worker = f"local-{allocation.slot}"
        results[job.state_id] = result
        on_done(job, result)

    try:
        while pending or running:
            for job in list(pending):
                allocation = ledger.take(job.request)
                if allocation is not None:
                    pending.remove(job)
                    running[asyncio.create_task(one(job, allocation))] = allocation
            if pool is not None:
                pool.fill(pending, warm_env)
            if not running:
                break  # nothing fits: cannot happen after planning, but never spin
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                ledger.give_back(running.pop(task))
                task.result()  # re-raise unexpected errors
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if pool is not None:
            await pool.close()
    return results


def run_jobs(jobs: list[Job], workers: int, source_dir: Path, on_start: Callable,
             on_done: Callable, env: dict | None = None, inventory: Inventory | None = None,
             warm: bool = True) -> dict[str, RunResult]:
    """Execute every job; kernels are shut down on every path, Ctrl-C included."""
    if not jobs:
        return {}
    extra = dict(env or {})
    path = os.pathsep.join(p for p in [extra.pop("PYTHONPATH", ""), str(source_dir),
                                       os.environ.get("PYTHONPATH", "")] if p)
    base = {**extra, "PYTHONPATH": path, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    try:
        return asyncio.run(_run_all(jobs, workers, inventory or Inventory.detect(), base,
                                    on_start, on_done, warm))
    finally:
        kill_all()
