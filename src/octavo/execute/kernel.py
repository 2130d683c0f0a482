"""Run one notebook in one fresh Jupyter kernel.

A kernel serves exactly one notebook. It starts in the page's folder (or, when
it was started ahead of time by the warm pool, moves there before the first
cell), every cell has a timeout, and the kernel is shut down on every path out:
success, error, timeout, death, cancellation by Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


@dataclass
class RunResult:
    ok: bool
    notebook: nbformat.NotebookNode
    seconds: float
    cell_index: int | None = None  # index of the failing cell
    line_in_cell: int | None = None  # 1-based line of the failing statement in that cell
    error: str = ""  # one line: exception and message
    traceback: list[str] = field(default_factory=list)  # last frames, plain text
    peak_memory: int | None = None  # bytes, kernel and its children
    worker: str = ""
    warm: bool = False  # ran in a kernel started ahead of time


class Kernel:
    """A started kernel (IPC sockets in a private folder: no TCP ports, nothing beside the page)."""

    def __init__(self, name: str):
        self.name = name
        self.scratch = tempfile.TemporaryDirectory(prefix="octavo-kernel-")
        self.log_path = Path(self.scratch.name) / "kernel.log"
        self.km = AsyncKernelManager(kernel_name=name, transport="ipc",
                                     ip=str(Path(self.scratch.name) / "kernel"))
        self.cwd: Path | None = None

    async def start(self, cwd: Path, env: dict[str, str | None]) -> Kernel:
        full = {**os.environ}
        for key, value in env.items():
            if value is None:
                full.pop(key, None)
            else:
                full[key] = value
        _LIVE.add(self)
        with open(self.log_path, "wb") as log:
            await self.km.start_kernel(cwd=str(cwd), env=full, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.cwd = cwd
        return self

    @property
    def pid(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return process.pid if process is not None else None

    async def shutdown(self) -> None:
        try:
            if self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
        except BaseException:
            self.kill()
            raise
        finally:
            _LIVE.discard(self)
            self.scratch.cleanup()

    def kill(self) -> None:
        """Kill the kernel's process at once (used when the event loop is going away)."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        _LIVE.discard(self)


class _Client(NotebookClient):
    """A client that uses a kernel we started and leaves signal handling to us."""

    current_index: int | None = None
    move_to: Path | None = None  # chdir before the first cell (warm kernels)

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        if self.kc is None:
            await self.async_start_new_kernel_client()
        if self.move_to is not None:
            code = f"import os as _o; _o.chdir({str(self.move_to)!r}); del _o"
            msg_id = self.kc.execute(code, silent=True, store_history=False)
            await self.async_wait_for_reply(msg_id)
        try:
            yield
        finally:
            if self.kc is not None:
                self.kc.stop_channels()
                self.kc = None

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self.current_index = cell_index
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)


def _plain(lines) -> list[str]:
    text = "\n".join(lines) if isinstance(lines, list) else str(lines)
    return ANSI.sub("", text).splitlines()


def _error_output(nb, index: int | None):
    cells = nb.cells if index is None else [nb.cells[index]]
    for cell in cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return out
    return None


async def _sample_memory(pid: int | None, peak: list[int]) -> None:
    """Record the largest resident memory of the kernel and its children."""
    import psutil

    if pid is None:
        return
    try:
        process = psutil.Process(pid)
        while True:
            total = process.memory_info().rss
            for child in process.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            await asyncio.sleep(0.25)
    except psutil.Error:
        return


async def run_notebook(nb: nbformat.NotebookNode, cwd: Path, *, kernel: str, timeout: int,
                       allow_errors: bool = False, env: dict | None = None,
                       frames: int = 12, warm: Kernel | None = None) -> RunResult:
    """Execute ``nb`` (a copy is made) and describe what happened."""
    nb = nbformat.from_dict(nb)
    start = time.perf_counter()
    running = warm or Kernel(kernel)
    client = _Client(nb, km=running.km, timeout=timeout, allow_errors=allow_errors,
                     kernel_name=kernel, record_timing=False, shutdown_kernel="immediate")
    result = RunResult(True, nb, 0.0)
    peak = [0]
    sampler = None
    try:
        if warm is None:
            await running.start(cwd, env or {})
        elif Path(warm.cwd or "") != cwd:
            client.move_to = cwd
        sampler = asyncio.create_task(_sample_memory(running.pid, peak))
        await client.async_execute()
    except CellTimeoutError:
        result = RunResult(False, nb, 0.0, client.current_index,
                           error=f"cell timed out after {timeout} s",
                           traceback=["raise the timeout with 'octavo: {timeout: N}' in the page's "
                                      "front matter or [build] timeout in octavo.toml"])
    except DeadKernelError as exc:
        result = RunResult(False, nb, 0.0, client.current_index,
                           error=f"the kernel died ({exc or 'no reason given'}); it may have run "
                                 "out of memory (killed by the OOM killer)",
                           traceback=_tail(running.log_path, frames))
    except CellExecutionError as exc:
        out = _error_output(nb, client.current_index)
        error = f"{exc.ename}: {exc.evalue}" if getattr(exc, "ename", None) else str(exc)
        lines = _plain(out["traceback"]) if out else _plain(str(exc))
        in_cell = [int(m.group(1)) for line in lines for m in [CELL_LINE.search(line)] if m]
        result = RunResult(False, nb, 0.0, client.current_index,
                           in_cell[0] if in_cell else None, error,
                           [line for line in lines if line.strip()][-frames:])
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # kernel failed to start, protocol errors, ...
        result = RunResult(False, nb, 0.0, client.current_index,
                           error=f"{type(exc).__name__}: {exc}",
                           traceback=_tail(running.log_path, frames))
    finally:
        if sampler is not None:
            sampler.cancel()
        await running.shutdown()
    result.seconds = time.perf_counter() - start
    result.peak_memory = peak[0] or None
    result.warm = warm is not None
    return result


def _tail(path: Path, lines: int) -> list[str]:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return []
    return [ln for ln in _plain(text) if ln.strip() and "without encryption" not in ln][-lines:]


_LIVE: set[Kernel] = set()


def kill_all() -> int:
    """Kill every kernel still alive; return how many there were."""
    live = list(_LIVE)
    for kernel in live:
        kernel.kill()
    return len(live)
