"""Content-addressed store of executed notebooks.

An entry is one JSON file named by its key, holding the notebook text and its
sha256. Entries are written atomically and verified when read: an entry that
does not parse or whose digest does not match is deleted and reported as a
miss, so it is re-executed and never served. Only successful runs are stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import nbformat

from ..fsutil import atomic_write


class Cache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.damaged: list[str] = []

    def _path(self, key: str) -> Path:
        return self.root / "notebooks" / key[:2] / f"{key}.json"

    def get(self, key: str) -> nbformat.NotebookNode | None:
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(raw)
            text = entry["notebook"]
            if entry.get("key") != key or hashlib.sha256(text.encode()).hexdigest() != entry["sha256"]:
                raise ValueError("digest mismatch")
            return nbformat.reads(text, as_version=4)
        except Exception:
            self.damaged.append(key)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, nb: nbformat.NotebookNode, seconds: float) -> None:
        text = nbformat.writes(nb)
        entry = {
            "key": key,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "seconds": round(seconds, 3),
            "created": time.time(),
            "notebook": text,
        }
        atomic_write(self._path(key), json.dumps(entry))

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    # Remembered facts about pages (durations for ordering, key parts for --explain).
    def _state_path(self) -> Path:
        return self.root / "pages.json"

    def load_state(self) -> dict:
        try:
            data = json.loads(self._state_path().read_text("utf-8"))
            return data if isinstance(data, dict) else {}
        except (FileNotFoundError, ValueError):
            return {}

    def save_state(self, state: dict) -> None:
        atomic_write(self._state_path(), json.dumps(state, indent=1, sort_keys=True))
