#!/usr/bin/env python3
"""Set up and run the project on a fresh machine that has only python3.

    python3 dev.py build    build the bundled book (book/) into _build/ (HTML, notebooks, PDF)
    python3 dev.py test     run the test suite

Each command creates .venv if missing, installs the Python packages it needs
into it (pip), and, when run as root, the Debian packages too (apt-get). When
not root, it names the missing Debian packages and says what is skipped.
Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".octavo-installed"

# Debian packages, and what goes missing without them.
BOOK_DATA = {"dataset-fashion-mnist": "Fashion-MNIST is read from a download instead "
                                       "(or from DODL_DATA)"}
LATEX = {pkg: "the PDF is skipped" for pkg in (
    "texlive-xetex", "latexmk", "texlive-fonts-recommended", "texlive-latex-extra",
    "fonts-noto-cjk", "texlive-lang-chinese", "xindy", "librsvg2-bin", "fonts-dejavu-core")}
SYSTEM = {
    "build": {**BOOK_DATA, **LATEX},
    "test": {
        **BOOK_DATA,
        **{pkg: "PDF tests are skipped" for pkg in LATEX},
        "poppler-utils": "PDF tests are skipped",
        "chromium": "browser tests (tests marked 'browser') are skipped",
        "chromium-driver": "browser tests (tests marked 'browser') are skipped",
    },
}


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def missing_debian(packages) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for pkg in packages:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                             capture_output=True, text=True)
        if "install ok installed" not in out.stdout:
            missing.append(pkg)
    return missing


def apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say("apt-get install " + " ".join(packages))
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


def ensure_system(needs: dict[str, str]) -> None:
    missing = missing_debian(needs)
    if not missing:
        return
    if os.geteuid() == 0:
        apt_install(missing)
        return
    say("missing Debian packages (not root, so not installed): " + " ".join(missing))
    for pkg in missing:
        say(f"  without {pkg}: {needs[pkg]}")
    say("install them with: sudo apt-get install " + " ".join(missing))


def ensure_venv() -> None:
    if PY.exists():
        return
    say("creating .venv")
    try:
        run([sys.executable, "-m", "venv", VENV])
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
        pkg = f"python3.{sys.version_info.minor}-venv"
        if os.geteuid() == 0:
            apt_install([pkg])
            run([sys.executable, "-m", "venv", VENV])
        else:
            sys.exit(f"[dev] cannot create a virtual environment: install {pkg} "
                     f"(sudo apt-get install {pkg}) and run this again")


def ensure_python_packages() -> None:
    files = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    say("installing Python packages into .venv (pip)")
    run([PY, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([PY, "-m", "pip", "install", "-q", "-c", "constraints.txt", "-e", ".[book,test,dask]"])
    STAMP.write_text(digest)


def setup(verb: str) -> None:
    ensure_system(SYSTEM[verb])
    ensure_venv()
    ensure_python_packages()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "test"):
        print(__doc__)
        return 2
    verb, rest = argv[0], argv[1:]
    setup(verb)
    env = {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    if verb == "build":
        cmd = [VENV / "bin" / "octavo", "build", "html", "pdf", "--book", "book", *rest]
    else:
        cmd = [PY, "-m", "pytest", *(rest or ["tests"])]
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
