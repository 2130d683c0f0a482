"""What a build shows while it runs, and the table it ends with."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass


@dataclass
class Row:
    name: str
    status: str  # cached | executed | failed | not executed | no code
    seconds: float | None
    ok: bool
    peak_memory: int | None = None
    worker: str = ""
    page: str = ""
    tab: str = ""
    warm: bool = False


class Progress:
    """A live line on a terminal; plain lines otherwise (CI logs)."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = total
        self.done = 0
        self.running: dict[str, float] = {}
        self.start = time.perf_counter()

    def _elapsed(self) -> str:
        return f"{time.perf_counter() - self.start:6.1f}s"

    def _status_line(self) -> str:
        names = ", ".join(sorted(self.running)) or "-"
        line = f"[{self.done}/{self.total}] {self._elapsed()} running: {names}"
        return line[:118]

    def _redraw(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K" + self._status_line())
            self.stream.flush()

    def message(self, text: str) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self._redraw()
        self.stream.flush()

    def started(self, name: str) -> None:
        self.running[name] = time.perf_counter()
        if not self.live:
            self.message(f"[{self.done}/{self.total}] {self._elapsed()} start {name}")
        self._redraw()

    def finished(self, name: str, ok: bool, seconds: float) -> None:
        self.running.pop(name, None)
        self.done += 1
        word = "ok" if ok else "FAILED"
        self.message(f"[{self.done}/{self.total}] {self._elapsed()} {word:6} {name} ({seconds:.1f}s)")

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def summary_table(rows: list[Row]) -> str:
    if not rows:
        return "no pages"
    width = max(len("notebook"), *(len(r.name) for r in rows))
    lines = [f"{'notebook':<{width}}  {'status':<12}  {'seconds':>8}  {'peak MB':>8}  "
             f"{'worker':<10}  result",
             f"{'-' * width}  {'-' * 12}  {'-' * 8}  {'-' * 8}  {'-' * 10}  ------"]
    for r in rows:
        secs = f"{r.seconds:8.1f}" if r.seconds is not None else f"{'-':>8}"
        peak = f"{r.peak_memory / 1e6:8.0f}" if r.peak_memory else f"{'-':>8}"
        lines.append(f"{r.name:<{width}}  {r.status:<12}  {secs}  {peak}  {r.worker or '-':<10}  "
                     f"{'ok' if r.ok else 'FAILED'}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return "\n".join(lines)
