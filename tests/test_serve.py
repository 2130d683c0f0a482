"""`octavo serve`: the preview follows edits to the sources."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request


def test_preview_rebuilds_when_a_page_changes(minibook):
    book = minibook("basic")
    proc = subprocess.Popen([sys.executable, "-m", "octavo", "serve", "--port", "0",
                             "--interval", "0.3"], cwd=book.root, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"serving (http://127\.0\.0\.1:\d+/)html/index.html", line)
            if m:
                url = m.group(1)
        assert url, "the server did not start"
        page = url + "html/chapter/plain.html"
        assert "plain 42" in urllib.request.urlopen(page).read().decode()
        book.replace("chapter/plain.md", "6 * 7", "6 * 9")
        deadline = time.monotonic() + 120
        html = ""
        while "plain 54" not in html and time.monotonic() < deadline:
            time.sleep(0.5)
            html = urllib.request.urlopen(page).read().decode()
        assert "plain 54" in html
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
