"""``octavo build``: read → plan → execute → stage → render → publish."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .book import Book, load_book
from .config import Config
from .errors import Collector, Diagnostic, OctavoError, SourceError
from .execute.cache import Cache
from .execute.local import run_jobs
from .execute.plan import Job, plan
from .execute.resources import Inventory
from .fsutil import atomic_write, write_if_changed
from .progress import Progress, Row, summary_table
from .render.sphinx import run_sphinx
from .library.extract import Library
from .render.latex import build_pdf
from .render.links import NOTEBOOKS, SOURCES, add_links, colab_notebook
from .render.stage import publish, stage, static_signature, tree_digest
from .source.tabs import merge, variants

NOT_EXECUTED = (":::{warning}\nThis page has not been executed yet: its code cells show no "
                "output. Build without `--no-exec` to run it.\n:::")


@dataclass
class BuildOptions:
    jobs: int | None = None
    force: bool = False
    rerun: list[str] = field(default_factory=list)
    no_exec: bool = False
    targets: tuple[str, ...] = ("html",)
    warm: bool = True
    executor: str = "local"
    scheduler: str | None = None
    inventory: Inventory | None = None


@dataclass
class BuildReport:
    rows: list[Row] = field(default_factory=list)
    failures: list[Diagnostic] = field(default_factory=list)
    render_problems: list[Diagnostic] = field(default_factory=list)
    pdf_problems: list[Diagnostic] = field(default_factory=list)
    pdf_skipped: str = ""
    pdfs: list[Path] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    published: bool = False
    site: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (not self.failures and not self.render_problems and not self.pdf_problems
                and not self.pdf_skipped and all(r.ok for r in self.rows))


def _failure(job: Job, result) -> Diagnostic:
    cell = None
    if result.cell_index is not None and result.cell_index < len(job.cell_map):
        cell = job.page.cells[job.cell_map[result.cell_index]]
    line = cell.line if cell else None
    where = ""
    if cell is not None and result.line_in_cell:
        where = f" (line {cell.body_line + result.line_in_cell - 1})"
    tab = f" [{job.variant}]" if job.variant else ""
    message = f"{'cell' if cell else 'notebook'} failed{tab}{where}: {result.error}"
    frames = "\n".join("    " + f for f in result.traceback)
    return Diagnostic(job.page.rel, line, message + (f"\n{frames}" if frames else ""))


@dataclass
class Executed:
    """Per page and tab: the notebook to publish and the map to the page's cells."""

    runs: dict[str, dict[str, tuple[nbformat.NotebookNode, list[int]]]] = field(default_factory=dict)
    not_executed: set[str] = field(default_factory=set)  # page rel paths
    failed: set[tuple[str, str]] = field(default_factory=set)  # (page rel, tab)


def execute(book: Book, cache: Cache, options: BuildOptions, report: BuildReport,
            progress_stream=None, library=None) -> Executed:
    """Run what must run; return every page's notebooks, executed or cached."""
    config = book.config
    problems = Collector()
    inventory = options.inventory or Inventory.detect()
    the_plan = plan(book.pages, config, cache, force=options.force, rerun=options.rerun,
                    library=library, inventory=inventory)
    problems.extend(the_plan.problems)
    problems.raise_if_any(SourceError)
    state = cache.load_state()
    to_run = [] if options.no_exec else the_plan.to_run
    progress = Progress(len(to_run), progress_stream)
    results = {}
    if to_run:
        workers = options.jobs or config.jobs
        progress.message(f"executing {len(to_run)} notebook(s) with {min(workers, len(to_run))} "
                         f"worker(s); {len(the_plan.jobs) - len(to_run)} cached or without code")

        def done(job: Job, result) -> None:
            if result.ok:
                cache.put(job.key.digest, result.notebook, result.seconds)
                state[job.state_id] = {"seconds": round(result.seconds, 3),
                                       "parts": job.key.summary(), "key": job.key.digest,
                                       "detail": job.key.detail()}
                cache.save_state(state)
            progress.finished(job.name, result.ok, result.seconds)

        try:
            env = library.kernel_env() if library else None
            if options.executor == "dask":
                from .execute.dask import run_jobs_dask

                results = run_jobs_dask(to_run, config, lambda job: progress.started(job.name),
                                        done, env=env, scheduler=options.scheduler,
                                        workers=workers)
            else:
                results = run_jobs(to_run, workers, config.source_path,
                                   lambda job: progress.started(job.name), done, env=env,
                                   inventory=inventory, warm=options.warm)
        finally:
            progress.close()
    out = Executed()
    for job in the_plan.jobs:
        result = results.get(job.state_id)
        if result is not None:
            nb = result.notebook
            report.executed.append(job.name)
            report.rows.append(Row(job.name, "executed" if result.ok else "failed",
                                   result.seconds, result.ok, result.peak_memory, result.worker,
                                   job.page.rel, job.variant, result.warm))
            if not result.ok:
                report.failures.append(_failure(job, result))
                out.failed.add((job.page.rel, job.variant))
        elif job.cached is not None:
            nb = job.cached
            status = "no code" if job.reason == "no code" else "cached"
            report.rows.append(Row(job.name, status, None, True, page=job.page.rel,
                                   tab=job.variant))
        else:
            nb = job.notebook
            out.not_executed.add(job.page.rel)
            report.rows.append(Row(job.name, "not executed", None, True, page=job.page.rel,
                                   tab=job.variant))
        out.runs.setdefault(job.page.rel, {})[job.variant] = (nb, job.cell_map)
    return out


def with_outputs(current: nbformat.NotebookNode, executed: nbformat.NotebookNode):
    """The notebook as it is now (prose, metadata) with the outputs of an executed run.

    A run is reused only when the code is unchanged, so the code cells of both
    notebooks pair up in order.
    """
    nb = nbformat.from_dict(current)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    for mine, theirs in zip(code, ran):
        mine["outputs"] = theirs.get("outputs", [])
        mine["execution_count"] = theirs.get("execution_count")
    if "language_info" in executed.metadata:
        nb.metadata["language_info"] = executed.metadata["language_info"]
    return nb


def render_notebooks(book: Book, executed: Executed) -> dict[str, nbformat.NotebookNode]:
    """The website's notebook for every page: tabs merged, outputs in place."""
    out = {}
    for page in book.pages:
        nb = merge(page, book.config.tabs, executed.runs[page.rel])
        add_links(nb, page, book.config, list(executed.runs[page.rel]))
        if page.rel in executed.not_executed:
            at = _after_title(nb)
            nb.cells.insert(at, nbformat.v4.new_markdown_cell(NOT_EXECUTED))
            nb.cells[at].id = "octavo-not-executed"
            smap = nb.metadata["source_map"]
            smap.insert(at, smap[min(at, len(smap) - 1)] if smap else 0)
        out[page.rel] = nb
    return out


def _after_title(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and any(l.startswith("# ") for l in cell.source.splitlines()):
            return i + 1
    return 0


def write_notebooks(book: Book, executed: Executed, jobs_by_page: dict, out: Path) -> list[Path]:
    """Each tab's executed notebooks for readers (pages that ran cleanly), and a zip per tab."""
    tabs = book.config.tabs
    written: dict[str, list[tuple[str, bytes]]] = {t: [] for t in tabs}
    for page in book.pages:
        for tab, (nb, _) in executed.runs[page.rel].items():
            if (page.rel, tab) in executed.failed or page.rel in executed.not_executed:
                continue
            clean = with_outputs(jobs_by_page[(page.rel, tab)], nb)
            clean.metadata.pop("source_map", None)
            data = nbformat.writes(clean).encode()
            folder = out / "notebooks" / tab if tab else out / "notebooks"
            write_if_changed(folder / f"{page.docname}.ipynb", data)
            written[tab].append((f"{page.docname}.ipynb", data))
            if book.config.launch.github_repo and page.code_cells:
                colab = out / "colab" / tab if tab else out / "colab"
                write_if_changed(colab / f"{page.docname}.ipynb",
                                 nbformat.writes(colab_notebook(clean, book.config)))
    zips = []
    slug = book.config.slug
    for tab, files in written.items():
        name = f"{slug}-{tab}.zip" if tab else f"{slug}.zip"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, data in sorted(files):
                info = zipfile.ZipInfo(f"{slug}-{tab}/{rel}" if tab else f"{slug}/{rel}",
                                       date_time=(2000, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        write_if_changed(out / name, buffer.getvalue())
        zips.append(out / name)
    return zips


def add_downloads(book: Book, out: Path, site: Path) -> None:
    """Executed notebooks and page sources, served beside the pages that link to them."""
    notebooks = out / "notebooks"
    if notebooks.exists():
        for path in notebooks.rglob("*.ipynb"):
            write_if_changed(site / NOTEBOOKS / path.relative_to(notebooks), path.read_bytes())
    for page in book.pages:
        write_if_changed(site / SOURCES / page.rel, page.path.read_bytes())


def render_digest(book: Book, stage_dir: Path, out: Path, excluded: list[str]) -> str:
    """Everything the rendered site depends on: staged sources, downloads, settings, versions."""
    from importlib.metadata import version

    from . import __version__
    from .render.sphinx import sphinx_config

    conf = sphinx_config(book, stage_dir, excluded)
    downloads = tree_digest(out / "notebooks") if (out / "notebooks").exists() else ""
    sources = [(p.rel, p.path.stat().st_size, hash_file(p.path)) for p in book.pages]
    return tree_digest(stage_dir, sorted(conf.items(), key=str), __version__, static_signature(),
                       version("sphinx"), version("myst-nb"), downloads, sources)


def hash_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def build_lock(out: Path):
    """One build at a time per output folder; a second one stops with a clear message."""
    import fcntl
    import os

    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise OctavoError(Diagnostic(out, None, f"another octavo build is running here "
                                         f"(pid {holder})", "wait for it to finish")) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(config: Config, options: BuildOptions, progress_stream=None) -> BuildReport:
    with build_lock(config.output_path):
        return _build(config, options, progress_stream)


def _build(config: Config, options: BuildOptions, progress_stream=None) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport()
    problems = Collector()
    book = load_book(config, problems)
    problems.raise_if_any(SourceError)
    out = config.output_path
    cache = Cache(config.cache_path)
    library = Library.from_book(book) if book.config.library_paths() else None
    if library is not None:
        library.write()
    executed = execute(book, cache, options, report, progress_stream, library)
    variants_now = {(p.rel, v.tab): v.notebook for p in book.pages
                    for v in variants(p, book.config.tabs, [])}
    write_notebooks(book, executed, variants_now, out)
    if "pdf" in options.targets:
        pdf = build_pdf(book, executed, variants_now, out)
        report.pdfs, report.pdf_problems, report.pdf_skipped = pdf.pdfs, pdf.problems, pdf.skipped
    if "html" in options.targets:
        work = out / ".sphinx"
        stage_dir = work / "src"
        staged = stage(book, render_notebooks(book, executed), stage_dir)
        excluded = sorted(a.relative_to(book.source_dir).as_posix() for a in book.assets
                          if a.suffix in (".md", ".ipynb"))
        digest = render_digest(book, stage_dir, out, excluded)
        marker = work / "html.digest"
        if (not report.failures and (out / "html" / "index.html").exists()
                and marker.exists() and marker.read_text() == digest):
            report.published = True  # nothing the site shows has changed
            report.site = out / "html"
        else:
            marker.unlink(missing_ok=True)
            rendered = run_sphinx(book, stage_dir, work, staged, excluded)
            report.render_problems = [d for d in rendered.problems
                                      if config.build.warnings_are_errors or
                                      d.message.startswith("Sphinx stopped")]
            add_downloads(book, out, rendered.outdir)
            if not report.failures and not report.render_problems:
                publish(rendered.outdir, out / "html")
                atomic_write(marker, digest)
                report.published = True
                report.site = out / "html"
            else:
                report.site = rendered.outdir
    report.seconds = time.perf_counter() - started
    write_report(report, out / "report.json")
    return report


def write_report(report: BuildReport, path: Path) -> None:
    """A machine-readable account of the build (what ran, what failed, why)."""
    data = {
        "ok": report.ok,
        "published": report.published,
        "seconds": round(report.seconds, 3),
        "notebooks": [{"name": r.name, "page": r.page, "tab": r.tab, "status": r.status,
                       "ok": r.ok, "seconds": None if r.seconds is None else round(r.seconds, 3),
                       "peak_memory": r.peak_memory, "worker": r.worker, "warm_kernel": r.warm}
                      for r in report.rows],
        "executed": report.executed,
        "failures": [str(d) for d in report.failures],
        "render_problems": [str(d) for d in report.render_problems],
        "pdf_problems": [str(d) for d in report.pdf_problems],
        "pdf_skipped": report.pdf_skipped,
        "pdfs": [str(p) for p in report.pdfs],
    }
    atomic_write(path, json.dumps(data, indent=1))


def render_report(report: BuildReport) -> str:
    lines = [summary_table(report.rows)]
    return "\n".join(lines)
