"""``octavo build --explain PAGE``: why a page will (or will not) execute."""

from __future__ import annotations

import fnmatch

from .book import load_book
from .config import Config
from .errors import Collector, OctavoError, SourceError
from .execute.cache import Cache
from .execute.plan import make_jobs
from .library.extract import Library


def explain(config: Config, pattern: str) -> str:
    problems = Collector()
    book = load_book(config, problems)
    problems.raise_if_any(SourceError)
    pages = [p for p in book.pages if pattern in (p.rel, p.docname)
             or fnmatch.fnmatch(p.rel, pattern)]
    if not pages:
        raise OctavoError(f"no page matches '{pattern}' (pages look like "
                          f"'{book.pages[-1].rel}')")
    library = Library.from_book(book) if config.library_paths() else None
    cache = Cache(config.cache_path)
    state = cache.load_state()
    lines = []
    found: list = []
    for page in pages:
        for job in make_jobs(page, config, found, library):
            before = state.get(job.state_id)
            now = job.key.summary()
            head = f"{job.name}: key {job.key.digest[:12]}"
            if not job.has_code:
                lines.append(f"{head}\n  no code: nothing to execute")
            elif cache.has(job.key.digest):
                lines.append(f"{head}\n  cached: will not execute (a run with this exact key "
                             "is in the cache)")
            elif not before:
                lines.append(f"{head}\n  will execute: never executed successfully before")
            else:
                changed = [k for k in sorted(set(now) | set(before.get("parts", {})))
                           if now.get(k) != before["parts"].get(k)]
                lines.append(f"{head}\n  will execute: changed since the last successful run "
                             f"(key {before.get('key', '?')[:12]}): {', '.join(changed) or '?'}")
                detail_now, detail_before = job.key.detail(), before.get("detail", {})
                for part in changed:
                    a, b = detail_before.get(part, {}), detail_now.get(part, {})
                    for name in sorted(set(a) | set(b)):
                        if a.get(name) != b.get(name):
                            what = ("added" if name not in a else "removed" if name not in b
                                    else "changed")
                            lines.append(f"    {part}: {name} {what}")
                    if part == "code":
                        lines.append("    code: the page's code cells changed")
    return "\n".join(lines)
