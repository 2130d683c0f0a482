"""Run one notebook in one fresh Jupyter kernel.

The kernel starts in the page's folder, every cell has a timeout, and the
kernel is shut down on every path out (success, error, timeout, death,
cancellation by Ctrl-C).
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


class _Client(NotebookClient):
    """A client that uses a kernel we started and leaves signal handling to us."""

    current_index: int | None = None

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        if self.kc is None:
            await self.async_start_new_kernel_client()
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


async def run_notebook(nb: nbformat.NotebookNode, cwd: Path, *, kernel: str, timeout: int,
                       allow_errors: bool = False, env: dict | None = None,
                       frames: int = 12) -> RunResult:
    """Execute ``nb`` (a copy is made) and describe what happened."""
    nb = nbformat.from_dict(nb)
    start = time.perf_counter()
    scratch = tempfile.TemporaryDirectory(prefix="octavo-kernel-")
    log_path = Path(scratch.name) / "kernel.log"
    # IPC sockets in a private folder: no TCP ports, nothing written beside the page
    km = AsyncKernelManager(kernel_name=kernel, transport="ipc",
                            ip=str(Path(scratch.name) / "kernel"))
    client = _Client(nb, km=km, timeout=timeout, allow_errors=allow_errors, kernel_name=kernel,
                     record_timing=False, shutdown_kernel="immediate")
    result = RunResult(True, nb, 0.0)
    try:
        _LIVE.add(km)
        with open(log_path, "wb") as log:
            await km.start_kernel(cwd=str(cwd), env={**os.environ, **(env or {})},
                                  stdout=log, stderr=subprocess.STDOUT)
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
                           traceback=_tail(log_path, frames))
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
                           error=f"{type(exc).__name__}: {exc}")
    finally:
        await _shutdown(km)
        scratch.cleanup()
    result.seconds = time.perf_counter() - start
    return result


def _tail(path: Path, lines: int) -> list[str]:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return []
    return [ln for ln in _plain(text) if ln.strip() and "without encryption" not in ln][-lines:]


_LIVE: set[AsyncKernelManager] = set()


async def _shutdown(km: AsyncKernelManager) -> None:
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except BaseException:
        kill(km)
        raise
    finally:
        _LIVE.discard(km)


def kill(km: AsyncKernelManager) -> None:
    """Kill a kernel's process at once (used when the event loop is going away)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def kill_all() -> int:
    """Kill every kernel still alive; return how many there were."""
    live = list(_LIVE)
    for km in live:
        kill(km)
        _LIVE.discard(km)
    return len(live)
