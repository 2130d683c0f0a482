"""The ``octavo`` command: parse arguments, call one function per verb."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .errors import Diagnostic, OctavoError


def _show(diag: Diagnostic, *roots: Path) -> str:
    if diag.path is not None and not Path(diag.path).is_absolute():
        for root in roots:
            candidate = root / diag.path
            if candidate.exists():
                diag = Diagnostic(os.path.relpath(candidate), diag.line, diag.message, diag.hint)
                break
    elif diag.path is not None:
        diag = Diagnostic(os.path.relpath(diag.path), diag.line, diag.message, diag.hint)
    return str(diag)


def cmd_build(args) -> int:
    from .build import BuildOptions, build
    from .config import load_config
    from .progress import summary_table

    config = load_config(Path(args.book))
    targets = args.targets or ["html"]
    unknown = [t for t in targets if t not in ("html", "pdf", "lib")]
    if unknown:
        raise OctavoError(f"unknown build target(s): {', '.join(unknown)} "
                          "(expected: html, pdf, lib)")
    if args.explain:
        from .explain import explain

        print(explain(config, args.explain))
        return 0
    if "lib" in targets:
        code = build_lib(config, check=args.check)
        if code or targets == ["lib"]:
            return code
        targets = [t for t in targets if t != "lib"]
    elif args.check:
        raise OctavoError("--check goes with the lib target: octavo build lib --check")
    options = BuildOptions(jobs=args.jobs, force=args.force, rerun=args.rerun or [],
                           no_exec=args.no_exec,
                           targets=tuple(t for t in targets if t in ("html", "pdf")),
                           warm=not args.no_warm, executor=args.executor,
                           scheduler=args.scheduler)
    if args.scheduler and args.executor != "dask":
        raise OctavoError("--scheduler goes with --executor dask")
    report = build(config, options)
    root = config.source_path
    print(summary_table(report.rows))
    if report.failures:
        print(f"\n{len(report.failures)} notebook(s) failed:", file=sys.stderr)
        for diag in report.failures:
            print(_show(diag, root), file=sys.stderr)
    if report.render_problems:
        print(f"\n{len(report.render_problems)} rendering problem(s):", file=sys.stderr)
        for diag in report.render_problems:
            print(_show(diag, root), file=sys.stderr)
    if report.pdf_skipped:
        print(f"\n{report.pdf_skipped}", file=sys.stderr)
    if report.pdf_problems:
        print(f"\n{len(report.pdf_problems)} PDF problem(s):", file=sys.stderr)
        for diag in report.pdf_problems:
            print(_show(diag, root), file=sys.stderr)
    for pdf in report.pdfs:
        print(f"built {os.path.relpath(pdf)}")
    if report.published:
        print(f"\nbuilt {os.path.relpath(report.site / 'index.html')} in {report.seconds:.1f}s")
    elif report.site is not None:
        print(f"\nthe site in {os.path.relpath(config.output_path / 'html')} was not replaced; "
              f"this build's pages are in {os.path.relpath(report.site)}", file=sys.stderr)
    return 0 if report.ok else 1


def build_lib(config, check: bool = False) -> int:
    from .book import load_book
    from .library.extract import Library

    if not config.library_paths():
        raise OctavoError(f"{config.root / 'octavo.toml'}: no library configured; add a "
                          "[library] section with name and path (or paths, one per tab)")
    library = Library.from_book(load_book(config))
    if check:
        diff = library.check()
        if diff:
            sys.stdout.write(diff)
            print("the library differs from the book: run 'octavo build lib' and commit the result",
                  file=sys.stderr)
            return 1
        print("the library matches the book")
        return 0
    changed = library.write()
    count = sum(len(o) for o in library.objects.values())
    print(f"library {library.name}: {count} objects; {len(changed)} file(s) updated")
    return 0


def cmd_clean(args) -> int:
    from .config import load_config

    config = load_config(Path(args.book))
    out = config.output_path
    if not out.exists():
        print(f"nothing to clean in {os.path.relpath(out)}")
        return 0
    keep = set() if args.all else {config.cache_path}
    for child in out.iterdir():
        if child in keep:
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    if args.all and out.exists() and not any(out.iterdir()):
        out.rmdir()
    print(f"cleaned {os.path.relpath(out)}" + ("" if args.all else " (execution cache kept)"))
    return 0


def cmd_check(args) -> int:
    from .check import check_book
    from .config import load_config

    config = load_config(Path(args.book))
    problems = check_book(config, require_discussion=args.require_discussion)
    for diag in sorted(problems, key=lambda d: (str(d.path), d.line or 0)):
        print(_show(diag, config.source_path))
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=sys.stderr)
        return 1
    print("no problems found")
    return 0


def cmd_serve(args) -> int:
    from .config import load_config
    from .publish.serve import serve

    config = load_config(Path(args.book))
    try:
        serve(config, Path(args.book), port=args.port, interval=args.interval)
    except KeyboardInterrupt:
        print("stopped")
    return 0


def cmd_new(args) -> int:
    from .scaffold import new_book

    folder = new_book(Path(args.folder), title=args.title)
    print(f"created a book in {os.path.relpath(folder)}; build it with:\n"
          f"  octavo build --book {os.path.relpath(folder)}")
    return 0


def cmd_config(args) -> int:
    from .config import describe

    print(describe())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="octavo", description="Build executable books.")
    sub = p.add_subparsers(dest="verb", required=True)

    b = sub.add_parser("build", help="execute what changed and render the book")
    b.add_argument("targets", nargs="*", help="what to build: html (default), pdf, lib")
    b.add_argument("-j", "--jobs", type=int, default=None,
                   help="notebooks run in parallel (default: [build] jobs, else CPU count)")
    b.add_argument("--force", action="store_true", help="re-execute every notebook")
    b.add_argument("--rerun", action="append", metavar="GLOB",
                   help="re-execute pages matching GLOB even if cached (repeatable)")
    b.add_argument("--no-exec", action="store_true",
                   help="execute nothing: render cached outputs, mark the rest not executed")
    b.add_argument("--book", default=".", help="folder holding octavo.toml (default: .)")
    b.add_argument("--check", action="store_true",
                   help="with 'lib': exit non-zero with a diff if the library differs from the book")
    b.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="where notebooks run: this machine (default) or a Dask cluster")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    b.add_argument("--no-warm", action="store_true",
                   help="start each kernel only when its page starts (no warm pool)")
    b.add_argument("--explain", metavar="PAGE",
                   help="say why PAGE will (or will not) execute, then stop")
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("clean", help="remove build outputs (the execution cache is kept)")
    c.add_argument("--all", action="store_true", help="also remove the execution cache")
    c.add_argument("--book", default=".", help="folder holding octavo.toml (default: .)")
    c.set_defaults(func=cmd_clean)

    k = sub.add_parser("check", help="find every problem in the sources (no execution)")
    k.add_argument("--book", default=".", help="folder holding octavo.toml (default: .)")
    k.add_argument("--require-discussion", action="store_true",
                   help="also list pages without a discussion id")
    k.set_defaults(func=cmd_check)

    v = sub.add_parser("serve", help="preview on 127.0.0.1; rebuild when a source changes")
    v.add_argument("--book", default=".", help="folder holding octavo.toml (default: .)")
    v.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks one)")
    v.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    v.set_defaults(func=cmd_serve)

    n = sub.add_parser("new", help="create a new book")
    n.add_argument("folder")
    n.add_argument("--title", default="My Book")
    n.set_defaults(func=cmd_new)

    k = sub.add_parser("config", help="list every octavo.toml key with its default")
    k.set_defaults(func=cmd_config)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except OctavoError as exc:
        roots = [Path(getattr(args, "book", ".")).resolve()]
        try:
            from .config import load_config

            roots.insert(0, load_config(roots[0]).source_path)
        except OctavoError:
            pass
        for diag in exc.diagnostics:
            print(_show(diag, *roots), file=sys.stderr)
        n = len(exc.diagnostics)
        print(f"{n} problem{'s' if n != 1 else ''} found; nothing was built.", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; all kernels were shut down", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
