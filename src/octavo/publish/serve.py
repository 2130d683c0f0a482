"""``octavo serve``: preview the site on 127.0.0.1 and rebuild it when a source changes.

Each rebuild runs ``octavo build`` in a child process, so it is incremental
(only what changed executes) and a failing build leaves the last good site
being served.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..book import source_files
from ..config import Config


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def fingerprint(config: Config) -> tuple:
    """Names, sizes and modification times of the book's sources (cheap to poll)."""
    root = config.source_path
    found = []
    for rel in source_files(config):
        try:
            stat = (root / rel).stat()
        except FileNotFoundError:
            continue
        found.append((rel, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def rebuild(book_dir: Path, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "octavo", "build", "--book", str(book_dir), *extra]
    return subprocess.run(cmd).returncode


def serve(config: Config, book_dir: Path, port: int = 8000, interval: float = 1.0,
          extra: list[str] | None = None, cycles: int | None = None) -> None:
    """Serve ``_build/html`` and rebuild on change until interrupted (or ``cycles`` polls)."""
    site = config.output_path / "html"
    seen = fingerprint(config)  # before building: an edit made during the build is seen
    rebuild(book_dir, extra or [])
    site.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Quiet, directory=str(site.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"serving http://127.0.0.1:{server.server_address[1]}/html/index.html "
          "(Ctrl-C to stop)", flush=True)
    try:
        count = 0
        while cycles is None or count < cycles:
            time.sleep(interval)
            count += 1
            now = fingerprint(config)
            if now != seen:
                seen = now
                print("sources changed: rebuilding", flush=True)
                rebuild(book_dir, extra or [])
    finally:
        server.shutdown()
        server.server_close()
