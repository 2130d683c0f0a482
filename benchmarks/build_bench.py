#!/usr/bin/env python3
"""Build speed and correctness: Octavo against Jupyter Book 1.x, side by side, in one run.

    .venv/bin/python benchmarks/build_bench.py                # 30 pages, 3 repetitions
    .venv/bin/python benchmarks/build_bench.py --pages 3 --repeat 1   # smoke run

It writes the same benchmark book in each tool's format, installs Jupyter Book
into its own virtual environment (benchmarks/.peer-venv), then runs every
scenario for both tools, alternating, and checks every page's output against
the value it must show, counting stale pages. Results: a table on stdout and
JSON (--json, default benchmarks/results/build_bench.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = HERE / ".peer-venv"
PEER_REQUIREMENT = "jupyter-book>=1,<2"
PEER_KERNEL_PACKAGES = ["numpy", "matplotlib", "ipykernel"]

JUPYTEXT_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
"""

PAGE = """{header}
# Page {i}

The quantity computed on this page is $q_{i} = \\sum_{{k=1}}^{{n}} k^2 \\bmod m$, and

$$
r_{i} = q_{i} + s \\cdot {i}.
$$

{prose}

```{{code-cell}} python
import numpy as np
rng = np.random.default_rng({i})
A = rng.standard_normal((260, 260))
for _ in range({work}):
    A = np.tanh(A @ A.T / 260)
q = int(sum(k * k for k in range({loop})) % 1000003)
```

```{{code-cell}} python
{shared_code}
print("RESULT", {i}, q + s * ({i} + 1) + {bump})
```

```{{code-cell}} python
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot(np.arange(10), np.arange(10) ** 2 * {i});
```
"""

SAVED = """
The helper below is saved to the book's library (Octavo only).

```{code-cell} python
def scale(x):  #@save
    \"\"\"The shared scale factor, applied to x.\"\"\"
    return x * 3
```
"""


@dataclass
class Book:
    tool: str  # "octavo" or "jupyter-book"
    root: Path
    pages: int
    library: bool  # Octavo: one third of the pages also use a #@save function

    @property
    def source(self) -> Path:
        return self.root / "book"


def shared_code(i: int, tool: str, library: bool) -> str:
    if i % 3 == 0:
        code = "import shared\ns = shared.VALUE"
        if tool == "octavo" and library:
            code += ("\nfrom benchlib import default as benchlib\n"
                     "s = s + benchlib.scale(1) - 3  # 0 until the saved function changes")
        return code
    return "s = 7"


def write_book(book: Book, work: int, loop: int) -> None:
    src = book.source
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    names = []
    for i in range(book.pages):
        prose = "Prose of this page."
        text = PAGE.format(header=JUPYTEXT_HEADER, i=i, prose=prose, work=work, loop=loop,
                           shared_code=shared_code(i, book.tool, book.library), bump=0)
        if book.tool == "octavo" and book.library and i == 1:
            text += SAVED
        (src / f"page_{i:02d}.md").write_text(text)
        names.append(f"page_{i:02d}")
    (src / "shared.py").write_text("VALUE = 11\n")
    if book.tool == "octavo":
        (src / "index.md").write_text("# Benchmark\n\n```{toctree}\n" + "\n".join(names)
                                      + "\n```\n")
        lib = ("\n[library]\nname = \"benchlib\"\npath = \"../lib/benchlib/default\"\n"
               if book.library else "")
        (src / "octavo.toml").write_text('[project]\ntitle = "Benchmark"\n\n[build]\n'
                                         'output_dir = "../_build"\ntimeout = 600\n' + lib)
    else:
        (src / "intro.md").write_text("# Benchmark\n\nA benchmark book.\n")
        (src / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                      + "".join(f"- file: {n}\n" for n in names))
        (src / "_config.yml").write_text(
            "title: Benchmark\nauthor: Bench\nexecute:\n  execute_notebooks: cache\n"
            "  timeout: 600\nsphinx:\n  config:\n    html_show_copyright: false\n")


def expected(book: Book, state: dict) -> dict[int, int]:
    """The value each page must print in the current state."""
    out = {}
    for i in range(book.pages):
        q = sum(k * k for k in range(state["loop"])) % 1000003
        s = 7
        if i % 3 == 0:
            s = state["shared"] + (state["scale_factor"] - 3 if book.library else 0)
        out[i] = q + s * (i + 1) + state["bumps"].get(i, 0)
    return out


def html_path(book: Book, i: int) -> Path:
    if book.tool == "octavo":
        return book.root / "_build" / "html" / f"page_{i:02d}.html"
    return book.source / "_build" / "html" / f"page_{i:02d}.html"


def stale_pages(book: Book, state: dict) -> int:
    want = expected(book, state)
    stale = 0
    for i, value in want.items():
        try:
            html = html_path(book, i).read_text()
        except FileNotFoundError:
            stale += 1
            continue
        m = re.search(rf"RESULT {i} (-?\d+)", html)
        if not m or int(m.group(1)) != value:
            stale += 1
    return stale


def octavo_cmd(book: Book, jobs: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "octavo", "build", "--book", str(book.source)]
    return cmd + (["-j", str(jobs)] if jobs else [])


def peer_cmd(book: Book) -> list[str]:
    return [str(PEER_VENV / "bin" / "jupyter-book"), "build", str(book.source)]


def executed_count(book: Book, output: str) -> int | None:
    if book.tool == "octavo":
        report = book.root / "_build" / "report.json"
        return len(json.loads(report.read_text())["executed"]) if report.exists() else None
    # jupyter-cache logs one "Executing" line per notebook it runs
    return len(re.findall(r"Executing notebook using", output)) or \
        len(re.findall(r"Executing: ", output))


def run(cmd: list[str], env: dict | None = None) -> tuple[float, str, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def ensure_peer() -> str:
    if not (PEER_VENV / "bin" / "jupyter-book").exists():
        print(f"installing {PEER_REQUIREMENT} into {PEER_VENV} ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", PEER_REQUIREMENT,
                        *PEER_KERNEL_PACKAGES], check=True)
    out = subprocess.run([str(PEER_VENV / "bin" / "pip"), "show", "jupyter-book"],
                         capture_output=True, text=True).stdout
    return re.search(r"Version: (\S+)", out).group(1)


def peer_env() -> dict:
    env = {**os.environ, "PATH": f"{PEER_VENV / 'bin'}:{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    return env


SCENARIOS = ["cold", "no-op", "prose edit", "code edit", "module edit", "saved-function edit"]


def edited_pages(book: Book) -> tuple[int, int]:
    """The page whose prose changes and the page whose code changes."""
    return min(4, book.pages - 1), min(5, book.pages - 1) if book.pages > 2 else 0


def apply(scenario: str, book: Book, state: dict, rep: int) -> None:
    src = book.source
    if scenario == "prose edit":
        p = src / f"page_{edited_pages(book)[0]:02d}.md"
        p.write_text(re.sub(r"Prose of this page[^\n]*", f"Prose of this page, revision {rep}.",
                            p.read_text()))
    elif scenario == "code edit":
        page = edited_pages(book)[1]
        p = src / f"page_{page:02d}.md"
        old = state["bumps"].get(page, 0)
        p.write_text(p.read_text().replace(f"+ {old})", f"+ {old + 1})"))
        state["bumps"][page] = old + 1
    elif scenario == "module edit":
        state["shared"] += 1
        (src / "shared.py").write_text(f"VALUE = {state['shared']}\n")
    elif scenario == "saved-function edit" and book.tool == "octavo" and book.library:
        p = src / "page_01.md"
        state["scale_factor"] += 1
        p.write_text(re.sub(r"return x \* \d+", f"return x * {state['scale_factor']}",
                            p.read_text()))


@dataclass
class Measure:
    seconds: list[float] = field(default_factory=list)
    executed: list[int | None] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    failed: int = 0


def bench(args) -> dict:
    versions = {"python": platform.python_version()}
    tools = ["octavo", "octavo -j1"]
    if args.peer:
        versions["jupyter-book"] = ensure_peer()
        tools.append("jupyter-book")
    from importlib.metadata import version

    versions["octavo"] = version("octavo")
    results: dict[str, dict[str, Measure]] = {t: {s: Measure() for s in SCENARIOS} for t in tools}
    for rep in range(args.repeat):
        for tool in tools:  # alternate the tools inside each repetition
            with tempfile.TemporaryDirectory(prefix="octavo-bench-") as tmp:
                book = Book("octavo" if tool.startswith("octavo") else "jupyter-book",
                            Path(tmp), args.pages, library=tool.startswith("octavo"))
                write_book(book, args.work, args.loop)
                state = {"shared": 11, "bumps": {}, "scale_factor": 3, "loop": args.loop}
                for scenario in SCENARIOS:
                    if scenario == "saved-function edit" and book.tool != "octavo":
                        continue
                    apply(scenario, book, state, rep + 1)
                    if tool == "jupyter-book":
                        seconds, output, code = run(peer_cmd(book), peer_env())
                    else:
                        jobs = 1 if tool == "octavo -j1" else None
                        seconds, output, code = run(octavo_cmd(book, jobs))
                    m = results[tool][scenario]
                    m.seconds.append(seconds)
                    m.executed.append(executed_count(book, output))
                    m.stale.append(stale_pages(book, state))
                    m.failed += code != 0
                    print(f"  rep {rep + 1} {tool:13} {scenario:20} {seconds:7.2f}s "
                          f"executed={m.executed[-1]} stale={m.stale[-1]} rc={code}", flush=True)
    return {"cpus": os.cpu_count(), "pages": args.pages, "repeat": args.repeat,
            "versions": versions, "results": {
                t: {s: {"median_s": statistics.median(m.seconds) if m.seconds else None,
                        "min_s": min(m.seconds) if m.seconds else None,
                        "max_s": max(m.seconds) if m.seconds else None,
                        "executed": m.executed, "stale": m.stale, "failed_runs": m.failed}
                    for s, m in per.items()} for t, per in results.items()}}


def table(data: dict) -> str:
    res = data["results"]
    peer = res.get("jupyter-book")
    lines = [f"{'scenario':20} {'octavo s':>10} {'octavo -j1':>11} {'jupyter-book':>13} "
             f"{'ratio':>7} {'oct exec':>9} {'peer exec':>10} {'oct stale':>10} {'peer stale':>11}"]
    for s in SCENARIOS:
        o, o1 = res["octavo"][s], res["octavo -j1"][s]
        p = peer[s] if peer else None

        def fmt(m):
            if not m or m["median_s"] is None:
                return "-"
            return f"{m['median_s']:.2f}±{(m['max_s'] - m['min_s']) / 2:.2f}"

        ratio = (f"{o['median_s'] / p['median_s']:.2f}" if p and p["median_s"] and o["median_s"]
                 else "-")
        lines.append(f"{s:20} {fmt(o):>10} {fmt(o1):>11} {fmt(p):>13} {ratio:>7} "
                     f"{str(max(o['executed'], key=lambda v: v or 0)):>9} "
                     f"{str(max(p['executed'], key=lambda v: v or 0)) if p and p['executed'] else '-':>10} "
                     f"{max(o['stale']) if o['stale'] else '-':>10} "
                     f"{max(p['stale']) if p and p['stale'] else '-':>11}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=int, default=40, help="matrix products per page")
    parser.add_argument("--loop", type=int, default=1_500_000, help="Python loop length per page")
    parser.add_argument("--no-peer", dest="peer", action="store_false",
                        help="measure Octavo only")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "build_bench.json")
    args = parser.parse_args(argv)
    data = bench(args)
    print()
    print(table(data))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=1))
    print(f"\nwrote {args.json} ({data['cpus']} CPUs; {data['versions']})")
    failed = sum(m["failed_runs"] for per in data["results"].values() for m in per.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
