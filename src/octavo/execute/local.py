"""Run jobs on a pool of N workers, each notebook in its own fresh kernel."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from .kernel import RunResult, kill_all, run_notebook
from .plan import Job


async def _run_all(jobs: list[Job], workers: int, env: dict, on_start: Callable,
                   on_done: Callable) -> dict[str, RunResult]:
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:  # already ordered longest-known first
        queue.put_nowait(job)
    results: dict[str, RunResult] = {}

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            on_start(job)
            result = await run_notebook(job.notebook, job.page.folder, kernel=job.kernel,
                                        timeout=job.timeout, allow_errors=job.allow_errors,
                                        env=env)
            results[job.state_id] = result
            on_done(job, result)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, min(workers, len(jobs))))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return results


def run_jobs(jobs: list[Job], workers: int, source_dir: Path, on_start: Callable,
             on_done: Callable, env: dict | None = None) -> dict[str, RunResult]:
    """Execute every job; kernels are shut down on every path, Ctrl-C included."""
    if not jobs:
        return {}
    extra = dict(env or {})
    path = os.pathsep.join(p for p in [extra.pop("PYTHONPATH", ""), str(source_dir),
                                       os.environ.get("PYTHONPATH", "")] if p)
    env = {**extra, "PYTHONPATH": path, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    try:
        return asyncio.run(_run_all(jobs, workers, env, on_start, on_done))
    finally:
        kill_all()
