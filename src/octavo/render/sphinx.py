"""The one place that configures and runs Sphinx, from the typed config."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..book import Book
from ..errors import Diagnostic

STATIC = Path(__file__).resolve().parent.parent / "static"
WARNING = re.compile(
    r"^(?P<path>.+?)(?::(?P<line>\d+))?: (?P<level>WARNING|ERROR|CRITICAL|SEVERE): (?P<msg>.*)$"
)


@dataclass
class RenderResult:
    outdir: Path
    problems: list[Diagnostic] = field(default_factory=list)


def sphinx_config(book: Book, stage_dir: Path, excluded: list[str]) -> dict:
    """The Sphinx configuration (what a conf.py would say), built from octavo.toml."""
    cfg = book.config
    project, html = cfg.project, cfg.html
    extensions = ["myst_nb", "sphinx_design", "octavo.render.sphinx_ext"]
    if html.copy_button:
        extensions.append("sphinx_copybutton")
    bibfiles = sorted(p.relative_to(stage_dir).as_posix() for p in stage_dir.rglob("*.bib"))
    if bibfiles:
        extensions.append("sphinxcontrib.bibtex")
    theme_options: dict = {"show_toc_level": 2, "use_download_button": True}
    if html.repository_url:
        theme_options.update(repository_url=html.repository_url, use_repository_button=True)
    conf = {
        "project": project.title,
        "author": project.author,
        "copyright": project.copyright or project.author,
        "version": project.version,
        "release": project.version,
        "language": sphinx_language(project.language),
        "extensions": extensions,
        "root_doc": "index",
        "exclude_patterns": excluded,
        "numfig": True,
        "math_numfig": True,
        "numfig_secnum_depth": 2,
        "math_eqref_format": "({number})",
        "myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence", "deflist",
                                   "html_image", "substitution"],
        "myst_dmath_double_inline": True,
        "myst_heading_anchors": 3,
        "nb_execution_mode": "off",
        "nb_ipywidgets_js": {},
        "nb_merge_streams": True,
        "html_theme": html.theme,
        "html_title": project.title,
        "html_theme_options": theme_options,
        "html_static_path": [str(STATIC)],
        "html_css_files": ["octavo.css", *html.extra_css],
        "mathjax_path": "mathjax/tex-chtml-full.js",
        "html_last_updated_fmt": None,
        "html_show_sourcelink": False,
        "html_use_index": html.genindex,
        "octavo_tabs": [t for t in cfg.tabs if t],
    }
    if html.logo:
        conf["html_logo"] = str(book.source_dir / html.logo)
    if html.favicon:
        conf["html_favicon"] = str(book.source_dir / html.favicon)
    if bibfiles:
        conf["bibtex_bibfiles"] = bibfiles
        conf["bibtex_reference_style"] = "author_year"
    return conf


def sphinx_language(code: str) -> str:
    """Sphinx's name for a language ("zh" is "zh_CN" there)."""
    return {"zh": "zh_CN", "zh-cn": "zh_CN", "zh-tw": "zh_TW", "zh-hans": "zh_CN",
            "zh-hant": "zh_TW"}.get(code.lower(), code)


def parse_warnings(text: str, stage_dir: Path, staged: dict[str, str]) -> list[Diagnostic]:
    """Sphinx's warning stream → diagnostics located in the book's own files."""
    problems: list[Diagnostic] = []
    for raw in text.splitlines():
        m = WARNING.match(raw.strip())
        if not m:
            if problems and raw.strip():  # continuation of the previous message
                last = problems[-1]
                problems[-1] = Diagnostic(last.path, last.line, f"{last.message} {raw.strip()}",
                                          last.hint)
            continue
        path, line = m.group("path"), m.group("line")
        try:
            rel = Path(path).resolve().relative_to(stage_dir.resolve()).as_posix()
            path = staged.get(rel, rel)
        except ValueError:
            pass
        msg = re.sub(r"\s*\[[\w.]+\]$", "", m.group("msg"))
        problems.append(Diagnostic(path, int(line) if line else None, msg, _hint(msg)))
    return problems


def _hint(message: str) -> str:
    if "Unknown directive type" in message:
        return "check the directive's name, or enable the extension that provides it"
    if "Unknown interpreted text role" in message:
        return "check the role's name, or enable the extension that provides it"
    if "undefined label" in message or "reference target not found" in message:
        return "define the label with '(name)=' before a heading or ':name:' on a figure"
    if "image file not readable" in message:
        return "check the image path (relative to the page)"
    if "citation" in message.lower() and "not found" in message.lower():
        return "add the entry to references.bib"
    return ""


def run_sphinx(book: Book, stage_dir: Path, work: Path, staged: dict[str, str],
               excluded: list[str], builder: str = "html", fresh: bool = False,
               overrides: dict | None = None) -> RenderResult:
    """Build with Sphinx in-process; all warnings come back as located diagnostics."""
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor

    nocolor()
    outdir = work / builder
    doctrees = work / "doctrees"
    status, warnings = io.StringIO(), io.StringIO()
    conf = sphinx_config(book, stage_dir, excluded)
    extra = dict(overrides or {})
    conf["extensions"] = conf["extensions"] + extra.pop("extra_extensions", [])
    conf.update(extra)
    try:
        app = Sphinx(str(stage_dir), None, str(outdir), str(doctrees), builder,
                     confoverrides=conf, status=status, warning=warnings, freshenv=fresh)
        app.build()
    except Exception as exc:  # Sphinx stops on some errors; report them like warnings
        problems = parse_warnings(warnings.getvalue(), stage_dir, staged)
        problems.append(Diagnostic(None, None, f"Sphinx stopped: {type(exc).__name__}: {exc}"))
        return RenderResult(outdir, problems)
    problems = parse_warnings(warnings.getvalue(), stage_dir, staged)
    if problems:  # make the next build re-read every page, so its warnings come back
        (doctrees / "environment.pickle").unlink(missing_ok=True)
    return RenderResult(outdir, problems)
