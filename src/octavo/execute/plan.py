"""Which notebooks must run: one job per page variant, its key, and a cache lookup."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field

import nbformat

from ..config import Config
from ..errors import Diagnostic
from ..source import Page
from ..source.tabs import variants
from .cache import Cache
from .keys import METADATA_CACHE, KeyParts, compute_key
from .resources import Inventory, Request, impossible, page_request, parse_memory


@dataclass
class Job:
    page: Page
    variant: str  # "" for a book without tabs, else the tab name
    notebook: nbformat.NotebookNode  # unexecuted
    key: KeyParts
    kernel: str
    timeout: int
    allow_errors: bool
    cell_map: list[int] = field(default_factory=list)  # notebook cell -> page cell
    request: Request = field(default_factory=Request)
    cached: nbformat.NotebookNode | None = None
    reason: str = ""  # why it runs, or "cached"
    expected: float = 0.0  # seconds it took last time

    @property
    def name(self) -> str:
        return self.page.rel + (f" [{self.variant}]" if self.variant else "")

    @property
    def state_id(self) -> str:
        return self.page.rel + (f"#{self.variant}" if self.variant else "")

    @property
    def has_code(self) -> bool:
        return any(c.cell_type == "code" and c.source.strip() for c in self.notebook.cells)


@dataclass
class Plan:
    jobs: list[Job]
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def to_run(self) -> list[Job]:
        """Jobs that need a kernel, longest-known first."""
        pending = [j for j in self.jobs if j.cached is None and j.has_code]
        return sorted(pending, key=lambda j: (-j.expected, j.state_id))


def _timeout(page: Page, config: Config, problems: list[Diagnostic]) -> int:
    value = page.octavo.get("timeout", config.build.timeout)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(Diagnostic(page.rel, 2, f"octavo.timeout = {value!r}: expected a whole "
                                   "number of seconds >= 1", "for example 'octavo: {timeout: 120}'"))
        return config.build.timeout
    return value


@functools.lru_cache(maxsize=None)
def kernel_language(name: str) -> str | None:
    """The language of an installed kernel, or None when there is no such kernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return KernelSpecManager().get_kernel_spec(name).language
    except NoSuchKernel:
        return None


def make_jobs(page: Page, config: Config, problems: list[Diagnostic],
              library=None) -> list[Job]:
    """One job per tab the page has (a single one for a book without tabs)."""
    kernel = page.kernel or config.build.kernel
    language = kernel_language(kernel) if page.code_cells else None
    if page.code_cells and language is None:
        from jupyter_client.kernelspec import find_kernel_specs

        problems.append(Diagnostic(page.rel, 2 if page.kernel else None,
                                   f"no Jupyter kernel named '{kernel}' (installed: "
                                   f"{', '.join(sorted(find_kernel_specs())) or 'none'})",
                                   "set kernelspec.name in the front matter or [build] kernel"))
    allow = bool(page.octavo.get("allow_errors", config.build.allow_errors))
    timeout = _timeout(page, config, problems)
    request = page_request(page.metadata, default_request(config), page.rel, problems)
    jobs = []
    for variant in variants(page, config.tabs, problems):
        nb = variant.notebook
        nb.metadata.setdefault("kernelspec", {"name": kernel, "display_name": kernel})
        nb.metadata.setdefault("language_info", {"name": language or "python"})
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        extra = {"tab": variant.tab}
        if library is not None:
            extra["library"] = library.key_part(variant.tab, sources)
        key, found = compute_key(page, sources, kernel=kernel, allow_errors=allow,
                                 root=config.source_path, extra=extra)
        problems.extend(found)
        jobs.append(Job(page, variant.tab, nb, key, kernel, timeout, allow, variant.cell_map,
                        request))
    return jobs


def default_request(config: Config) -> Request:
    memory = parse_memory(config.resources.memory) if config.resources.memory else 0
    return Request(config.resources.cpus, config.resources.gpus, memory)


def plan(pages: list[Page], config: Config, cache: Cache, *, force: bool = False,
         rerun: list[str] | None = None, library=None,
         inventory: Inventory | None = None) -> Plan:
    problems: list[Diagnostic] = []
    METADATA_CACHE[:] = [cache.root]
    state = cache.load_state()
    jobs: list[Job] = []
    for page in pages:
        for job in make_jobs(page, config, problems, library):
            before = state.get(job.state_id, {})
            job.expected = float(before.get("seconds", 0.0))
            digest = job.key.digest
            if not job.has_code:
                job.cached, job.reason = job.notebook, "no code"
            elif force:
                job.reason = "--force"
            elif rerun and any(fnmatch.fnmatch(page.rel, g) or fnmatch.fnmatch(page.docname, g)
                               for g in rerun):
                job.reason = "--rerun"
            else:
                job.cached = cache.get(digest)
                if job.cached is not None:
                    job.reason = "cached"
                elif digest in cache.damaged:
                    job.reason = "cache entry damaged"
                else:
                    job.reason = explain_change(before.get("parts"), job.key.summary())
            jobs.append(job)
    for pattern in rerun or []:
        if not any(fnmatch.fnmatch(p.rel, pattern) or fnmatch.fnmatch(p.docname, pattern)
                   for p in pages):
            problems.append(Diagnostic(None, None, f"--rerun {pattern}: no page matches",
                                       f"pages look like '{pages[-1].rel}'" if pages else ""))
    if inventory is not None:
        for job in jobs:
            why = impossible(job.request, inventory) if job.has_code else None
            if why and not any(p.path == job.page.rel and "needs" in p.message for p in problems):
                problems.append(Diagnostic(job.page.rel, 2, f"the page needs {why}; it can never "
                                           f"run here ({inventory.describe()})",
                                           "lower octavo.resources in its front matter, or run "
                                           "on a bigger machine (--executor dask)"))
    return Plan(jobs, problems)


def explain_change(before: dict | None, now: dict) -> str:
    """Which parts of the key differ from the last successful run."""
    if not before:
        return "never executed"
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    return "changed: " + ", ".join(changed) if changed else "not in cache"
