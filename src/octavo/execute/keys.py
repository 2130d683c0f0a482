"""What goes into a notebook's cache key, and what never does.

In: the code cells' source in order; the kernel name, the Python version and
the versions of the packages the code imports; settings that change results
(allow_errors); the content of local modules it imports (transitively) and of
the data files it declares in front matter (``octavo: inputs: [...]``).

Out: Markdown, display-only cell metadata (tags, mystnb options), the timeout,
file times, absolute paths.
"""

from __future__ import annotations

import ast
import functools
import glob
import hashlib
import importlib.metadata
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..book import inside
from ..errors import Diagnostic
from ..source import Page

KEY_VERSION = 1


@dataclass
class KeyParts:
    """The named ingredients of a key; ``digest`` hashes them all."""

    parts: dict[str, object] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        blob = json.dumps(self.parts, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def detail(self) -> dict[str, dict[str, str]]:
        """Per file or object digests of the parts that list several (to name what changed)."""
        return {name: {k: str(v)[:12] for k, v in value.items()}
                for name, value in self.parts.items()
                if name in ("modules", "inputs", "library", "packages") and isinstance(value, dict)}

    def summary(self) -> dict[str, str]:
        """A short hash per part, to say which part changed between two builds."""
        out = {}
        for name, value in self.parts.items():
            blob = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
            out[name] = hashlib.sha256(blob).hexdigest()[:12]
        return out


def _strip_magics(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def parse_code(source: str) -> ast.Module | None:
    """The code's syntax tree (IPython magics blanked out), or None if it does not parse."""
    try:
        return ast.parse(_strip_magics(source))
    except SyntaxError:
        return None


def imported_modules(source: str) -> set[str]:
    """Top-level names of modules imported by the code (absolute imports)."""
    tree = parse_code(source)
    if tree is None:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


METADATA_CACHE: list[Path] = []  # where to remember the installed packages between builds


def _site_fingerprint() -> str:
    """Changes whenever a package is installed, removed or upgraded on sys.path."""
    h = hashlib.sha256(sys.prefix.encode())
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_dir():
            try:
                names = sorted(n for n in os.listdir(folder)
                               if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")))
            except OSError:
                continue
            h.update(f"{folder}\0{names}".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def installed_packages() -> tuple[dict[str, list[str]], dict[str, str]]:
    """(top-level module -> distributions, distribution -> version), remembered on disk.

    Reading every package's metadata takes a while; the answer is kept in the
    cache folder and reused until the set of installed packages changes.
    """
    fingerprint = _site_fingerprint()
    path = METADATA_CACHE[0] / "packages.json" if METADATA_CACHE else None
    if path is not None:
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("fingerprint") == fingerprint:
                return data["modules"], data["versions"]
        except (OSError, ValueError, KeyError):
            pass
    modules = {k: list(v) for k, v in importlib.metadata.packages_distributions().items()}
    versions = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and name not in versions:
            versions[name] = dist.version
    if path is not None:
        from ..fsutil import atomic_write

        atomic_write(path, json.dumps({"fingerprint": fingerprint, "modules": modules,
                                       "versions": versions}))
    return modules, versions


def package_versions(modules: set[str]) -> dict[str, str]:
    """Versions of the installed distributions that provide the imported modules."""
    dists, known = installed_packages()
    versions = {}
    for module in sorted(modules):
        for dist in dists.get(module, []):
            if dist in known:
                versions[dist] = known[dist]
    return versions


def _local_module(name: str, search: list[Path]) -> list[Path]:
    for folder in search:
        single = folder / f"{name}.py"
        if single.is_file():
            return [single]
        package = folder / name
        if (package / "__init__.py").is_file():
            return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return []


def local_modules(sources: list[str], page: Page, root: Path) -> dict[str, str]:
    """Digest of every local module the code imports, followed through their imports."""
    search = [page.folder] + ([root] if root != page.folder else [])
    found: dict[str, str] = {}
    pending = set().union(*(imported_modules(s) for s in sources)) if sources else set()
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for path in _local_module(name, search):
            if not inside(path, root):
                continue
            found[path.relative_to(root).as_posix()] = file_digest(path)
            pending |= imported_modules(path.read_text("utf-8", errors="replace"))
    return found


def declared_inputs(page: Page, root: Path) -> tuple[dict[str, str], list[Diagnostic]]:
    """Digest of each data file named in ``octavo: inputs`` (globs and folders allowed)."""
    problems: list[Diagnostic] = []
    spec = page.octavo.get("inputs", [])
    if isinstance(spec, str):
        spec = [spec]
    if not isinstance(spec, list) or not all(isinstance(s, str) for s in spec):
        return {}, [Diagnostic(page.rel, 2, f"octavo.inputs = {spec!r}: expected a list of paths",
                               "write 'octavo: {inputs: [data/file.csv]}'")]
    digests: dict[str, str] = {}
    for pattern in spec:
        matches = sorted(glob.glob(str(page.folder / pattern), recursive=True))
        if not matches:
            problems.append(Diagnostic(page.rel, 2, f"declared input '{pattern}' matches no file",
                                       "fix the path (relative to the page's folder)"))
        for match in matches:
            path = Path(match)
            if not inside(path, root):
                problems.append(Diagnostic(page.rel, 2, f"declared input '{pattern}' leads "
                                           "outside the book's folder",
                                           "inputs must lie inside the source folder"))
                continue
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for f in files:
                digests[f.resolve().relative_to(root.resolve()).as_posix()] = file_digest(f)
    return digests, problems


def compute_key(page: Page, sources: list[str], *, kernel: str, allow_errors: bool,
                root: Path, extra: dict | None = None) -> tuple[KeyParts, list[Diagnostic]]:
    """The key of one notebook variant of ``page`` whose code cells are ``sources``."""
    modules = set().union(*(imported_modules(s) for s in sources)) if sources else set()
    inputs, problems = declared_inputs(page, root)
    parts = {
        "format": KEY_VERSION,
        "code": list(sources),
        "kernel": kernel,
        "python": sys.version.split()[0],
        "packages": package_versions(modules),
        "settings": {"allow_errors": allow_errors},
        "modules": local_modules(sources, page, root),
        "inputs": inputs,
    }
    parts.update(extra or {})
    return KeyParts(parts), problems
