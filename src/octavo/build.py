"""``octavo build``: read → plan → execute → stage → render → publish."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .book import Book, load_book
from .config import Config
from .errors import Collector, Diagnostic, SourceError
from .execute.cache import Cache
from .execute.local import run_jobs
from .execute.plan import Job, plan
from .fsutil import atomic_write, write_if_changed
from .progress import Progress, Row, summary_table
from .render.sphinx import run_sphinx
from .render.stage import publish, stage

NOT_EXECUTED = (":::{warning}\nThis page has not been executed yet: its code cells show no "
                "output. Build without `--no-exec` to run it.\n:::")


@dataclass
class BuildOptions:
    jobs: int | None = None
    force: bool = False
    rerun: list[str] = field(default_factory=list)
    no_exec: bool = False
    render: bool = True


@dataclass
class BuildReport:
    rows: list[Row] = field(default_factory=list)
    failures: list[Diagnostic] = field(default_factory=list)
    render_problems: list[Diagnostic] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    published: bool = False
    site: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.render_problems and all(r.ok for r in self.rows)


def _failure(job: Job, result) -> Diagnostic:
    cell = job.page.cells[result.cell_index] if result.cell_index is not None else None
    line = cell.line if cell else None
    where = ""
    if cell is not None and result.line_in_cell:
        where = f" (line {cell.body_line + result.line_in_cell - 1})"
    message = f"{'cell' if cell else 'notebook'} failed{where}: {result.error}"
    frames = "\n".join("    " + f for f in result.traceback)
    return Diagnostic(job.page.rel, line, message + (f"\n{frames}" if frames else ""))


def execute(book: Book, cache: Cache, options: BuildOptions, report: BuildReport,
            progress_stream=None) -> dict[str, nbformat.NotebookNode]:
    """Run what must run; return the notebook to render for every page."""
    config = book.config
    problems = Collector()
    the_plan = plan(book.pages, config, cache, force=options.force, rerun=options.rerun)
    problems.extend(the_plan.problems)
    problems.raise_if_any(SourceError)
    state = cache.load_state()
    notebooks: dict[str, nbformat.NotebookNode] = {}
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
                                       "parts": job.key.summary(), "key": job.key.digest}
                cache.save_state(state)
            progress.finished(job.name, result.ok, result.seconds)

        try:
            results = run_jobs(to_run, workers, config.source_path,
                               lambda job: progress.started(job.name), done)
        finally:
            progress.close()
    for job in the_plan.jobs:
        result = results.get(job.state_id)
        if result is not None:
            notebooks[job.page.rel] = with_outputs(job.notebook, result.notebook)
            report.executed.append(job.name)
            report.rows.append(Row(job.name, "executed" if result.ok else "failed",
                                   result.seconds, result.ok))
            if not result.ok:
                report.failures.append(_failure(job, result))
        elif job.cached is not None:
            notebooks[job.page.rel] = with_outputs(job.notebook, job.cached)
            status = "no code" if job.reason == "no code" else "cached"
            report.rows.append(Row(job.name, status, None, True))
        else:
            nb = nbformat.from_dict(job.notebook)
            nb.metadata["octavo_not_executed"] = True
            notebooks[job.page.rel] = nb
            report.rows.append(Row(job.name, "not executed", None, True))
    return notebooks


def with_outputs(current: nbformat.NotebookNode, executed: nbformat.NotebookNode):
    """The page as it is now (prose, metadata) with the outputs of an executed run.

    A run is reused only when the code is unchanged, so the code cells of both
    notebooks pair up in order.
    """
    nb = nbformat.from_dict(current)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    for mine, theirs in zip(code, ran):
        mine["outputs"] = theirs.get("outputs", [])
        mine["execution_count"] = theirs.get("execution_count")
    for key in ("language_info",):
        if key in executed.metadata:
            nb.metadata[key] = executed.metadata[key]
    return nb


def _mark_not_executed(notebooks: dict, book: Book) -> dict:
    out = {}
    for rel, nb in notebooks.items():
        if nb.metadata.get("octavo_not_executed"):
            nb = nbformat.from_dict(nb)
            at = _after_title(nb)
            nb.cells.insert(at, nbformat.v4.new_markdown_cell(NOT_EXECUTED))
            nb.metadata["octavo_inserted"] = at
        out[rel] = nb
    return out


def _after_title(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and any(l.startswith("# ") for l in cell.source.splitlines()):
            return i + 1
    return 0


def write_notebooks(book: Book, notebooks: dict, report: BuildReport, out: Path) -> None:
    """Executed notebooks for readers, in ``_build/notebooks/`` (only pages that ran cleanly)."""
    failed = {d.path for d in report.failures}
    for page in book.pages:
        nb = notebooks[page.rel]
        if page.rel in failed or nb.metadata.get("octavo_not_executed"):
            continue
        clean = nbformat.from_dict(nb)
        clean.metadata.pop("source_map", None)
        write_if_changed(out / f"{page.docname}.ipynb", nbformat.writes(clean))


def build(config: Config, options: BuildOptions, progress_stream=None) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport()
    problems = Collector()
    book = load_book(config, problems)
    problems.raise_if_any(SourceError)
    out = config.output_path
    cache = Cache(config.cache_path)
    notebooks = execute(book, cache, options, report, progress_stream)
    write_notebooks(book, notebooks, report, out / "notebooks")
    if options.render:
        work = out / ".sphinx"
        stage_dir = work / "src"
        notebooks = _mark_not_executed(notebooks, book)
        staged = stage(book, notebooks, stage_dir)
        excluded = sorted(a.relative_to(book.source_dir).as_posix() for a in book.assets
                          if a.suffix in (".md", ".ipynb"))
        rendered = run_sphinx(book, stage_dir, work, staged, excluded)
        report.render_problems = [d for d in rendered.problems
                                  if config.build.warnings_are_errors or d.message.startswith(
                                      "Sphinx stopped")]
        if report.ok:
            publish(rendered.outdir, out / "html")
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
        "notebooks": [{"name": r.name, "status": r.status, "ok": r.ok,
                       "seconds": None if r.seconds is None else round(r.seconds, 3)}
                      for r in report.rows],
        "executed": report.executed,
        "failures": [str(d) for d in report.failures],
        "render_problems": [str(d) for d in report.render_problems],
    }
    atomic_write(path, json.dumps(data, indent=1))


def render_report(report: BuildReport) -> str:
    lines = [summary_table(report.rows)]
    return "\n".join(lines)
