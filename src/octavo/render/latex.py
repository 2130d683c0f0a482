"""The printed book: Sphinx's LaTeX builder, then xelatex through latexmk.

One PDF per tab (``<name>-<tab>.pdf``) when the book has tabs, else ``<name>.pdf``,
in ``_build/pdf/``. A LaTeX failure is reported with LaTeX's own message, the
line of the ``.tex`` file and the book page that produced it; the full log is
kept beside the PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..book import Book
from ..config import Config
from ..errors import Diagnostic
from ..source.tabs import tab_label
from importlib.metadata import version

from .. import __version__
from .sphinx import run_sphinx, sphinx_config
from .stage import stage, tree_digest

LATEX_PACKAGES = ["texlive-xetex", "latexmk", "texlive-fonts-recommended", "texlive-latex-extra",
                  "fonts-noto-cjk", "texlive-lang-chinese", "xindy", "librsvg2-bin"]
CHAPTER_NAMES = {"SC": ("第", "章"), "TC": ("第", "章"), "JP": ("第", "章"), "KR": ("제", "장")}
CONTENTS_NAMES = {"SC": ("目录", "索引"), "TC": ("目錄", "索引"), "JP": ("目次", "索引"),
                  "KR": ("차례", "찾아보기")}
CJK = {"zh": "SC", "zh_cn": "SC", "zh-cn": "SC", "zh_tw": "TC", "zh-tw": "TC", "ja": "JP",
       "ko": "KR"}
FILE_LINE_ERROR = re.compile(r"^(?P<file>[^\s:][^:]*\.(?:tex|cls|sty|def|cfg|ldf)):(?P<line>\d+): "
                             r"(?P<msg>.*)$")
DOC_LABEL = re.compile(r"\\label\{\\detokenize\{(?P<doc>[^}]*)::doc\}\}")


@dataclass
class PdfResult:
    pdfs: list[Path] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    skipped: str = ""


def missing_tools() -> list[str]:
    return [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]


def latex_overrides(config: Config, name: str, tab: str) -> dict:
    pdf = config.pdf
    title = config.project.title + (f" ({tab_label(tab)})" if tab else "")
    fonts = (f"\\setmainfont{{{pdf.main_font}}}\n\\setsansfont{{{pdf.sans_font}}}\n"
             f"\\setmonofont{{{pdf.mono_font}}}[Scale=0.88]\n")
    region = CJK.get(config.project.language.lower())
    if region:
        main = pdf.cjk_main_font or f"Noto Serif CJK {region}"
        sans = pdf.cjk_sans_font or f"Noto Sans CJK {region}"
        fonts += (("\\usepackage{xeCJK}\n" if region in ("JP", "KR") else "")
                  + f"\\setCJKmainfont{{{main}}}\n\\setCJKsansfont{{{sans}}}\n"
                  f"\\setCJKmonofont{{{sans}}}\n")
    elements = {}
    if region:
        before, after = CHAPTER_NAMES[region]
        elements = {
            "fncychap": "",
            "preamble": "\\usepackage{amsmath,amssymb}\n"
                        "\\titleformat{\\chapter}[display]{\\normalfont\\sffamily\\Huge\\bfseries}"
                        f"{{{before}\\,\\thechapter\\,{after}}}{{16pt}}{{\\Huge}}\n"
                        "\\providecommand{\\addto}[2]{}\n"
                        f"\\addto\\captionsenglish{{\\renewcommand{{\\contentsname}}"
                        f"{{{CONTENTS_NAMES[region][0]}}}}}\n"
                        f"\\renewcommand{{\\contentsname}}{{{CONTENTS_NAMES[region][0]}}}\n"
                        f"\\renewcommand{{\\indexname}}{{{CONTENTS_NAMES[region][1]}}}\n",
        }
    return {
        "latex_engine": "xelatex",
        "latex_documents": [("index", f"{name}.tex", title, config.project.author, "manual")],
        "latex_elements": {
            "papersize": "a4paper" if pdf.paper == "a4" else "letterpaper",
            "pointsize": "11pt",
            "fontpkg": fonts,
            "preamble": "\\usepackage{amsmath,amssymb}\n",
            "figure_align": "H",
            **elements,
        },
        "latex_show_urls": "footnote",
        "latex_toplevel_sectioning": "chapter",
        # Sphinx picks pLaTeX classes for Japanese; xelatex with xeCJK needs the standard ones
        "latex_docclass": {"manual": "report", "howto": "article"} if region == "JP" else {},
        "nb_mime_priority_overrides": [("latex", "image/svg+xml", 15)],
        "extra_extensions": ["sphinxcontrib.rsvgconverter"],
    }


def tab_notebooks(book: Book, executed, tab: str, variants_now: dict) -> dict:
    """The notebook of every page as readers of ``tab`` see it, outputs in place."""
    from ..build import with_outputs  # the same pairing of code cells as the site

    notebooks = {}
    for page in book.pages:
        runs = executed.runs[page.rel]
        if tab in runs:
            nb = with_outputs(variants_now[(page.rel, tab)], runs[tab][0])
        else:  # no code for this tab: the prose, and a note saying so
            nb = page.to_notebook()
            nb.cells = [c for c in nb.cells if c.cell_type != "code"]
            nb.metadata["source_map"] = [c.line - 2 for c in page.cells if c.kind != "code"]
            note = nbformat.v4.new_markdown_cell(
                f":::{{note}}\nThe code of this section is not available for {tab_label(tab)}.\n:::")
            note.id = "octavo-no-tab"
            nb.cells.append(note)
            nb.metadata["source_map"].append(nb.metadata["source_map"][-1]
                                             if nb.metadata["source_map"] else 0)
        notebooks[page.rel] = nb
    return notebooks


def build_pdf(book: Book, executed, variants_now: dict, out: Path) -> PdfResult:
    config = book.config
    result = PdfResult()
    missing = missing_tools()
    if missing:
        result.skipped = (f"PDF skipped: {' and '.join(missing)} not found; install the Debian "
                          f"packages {' '.join(LATEX_PACKAGES)} (run 'python3 dev.py build' as "
                          "root to have them installed)")
        return result
    name = config.slug
    excluded = sorted(a.relative_to(book.source_dir).as_posix() for a in book.assets
                      if a.suffix in (".md", ".ipynb"))
    pdf_dir = out / "pdf"
    for tab in config.tabs:
        target = f"{name}-{tab}" if tab else name
        work = out / ".sphinx" / (f"latex-{tab}" if tab else "latex")
        staged = stage(book, tab_notebooks(book, executed, tab, variants_now), work / "src")
        overrides = latex_overrides(config, target, tab)
        digest = tree_digest(work / "src", sorted(overrides.items(), key=str), __version__,
                             "front-matter-1", numbered_start(book),
                             version("sphinx"), version("myst-nb"),
                             sorted(sphinx_config(book, work / "src", excluded).items(), key=str))
        marker = work / "pdf.digest"
        if (pdf_dir / f"{target}.pdf").exists() and marker.exists() and \
                marker.read_text() == digest:
            result.pdfs.append(pdf_dir / f"{target}.pdf")  # unchanged since the last PDF
            continue
        marker.unlink(missing_ok=True)
        rendered = run_sphinx(book, work / "src", work, staged, excluded, builder="latex",
                              overrides=overrides)
        result.problems.extend(rendered.problems)
        if any(d.message.startswith("Sphinx stopped") for d in rendered.problems):
            continue
        unnumber_front_matter(rendered.outdir / f"{target}.tex", numbered_start(book))
        problems = run_latex(rendered.outdir, target, staged, config.pdf.timeout,
                             book.source_dir)
        log = rendered.outdir / f"{target}.log"
        if log.exists():
            pdf_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, pdf_dir / f"{target}.log")
        if problems:
            result.problems.extend(problems)
            continue
        pdf_dir.mkdir(parents=True, exist_ok=True)
        tmp = pdf_dir / f".{target}.pdf.tmp"
        shutil.copyfile(rendered.outdir / f"{target}.pdf", tmp)
        tmp.replace(pdf_dir / f"{target}.pdf")
        marker.write_text(digest)
        result.pdfs.append(pdf_dir / f"{target}.pdf")
    return result


def numbered_start(book: Book) -> str | None:
    """The first page of the root's numbered table of contents (None: everything numbered)."""
    trees = book.toctrees.get("index", [])
    if not any(t.options.get("numbered") for t in trees):
        return None
    if all(t.options.get("numbered") for t in trees):
        return None
    for tree in trees:
        if tree.options.get("numbered") and tree.entries:
            first = tree.entries[0].target
            return next((p.docname for p in book.pages if p.docname == first.lstrip("/")), first)
    return None


def unnumber_front_matter(tex_path: Path, first_numbered: str | None) -> None:
    """Chapters before the first numbered one (preface, ...) get no number, as on the web.

    With ``secnumdepth`` at -1 a chapter neither shows nor counts a number, so the
    numbered chapters, figures and equations start at 1 exactly as on the website.
    """
    if first_numbered is None:
        return
    lines = tex_path.read_text("utf-8").splitlines()
    depth = next((m.group(1) for line in lines
                  for m in [re.search(r"\\setcounter\{secnumdepth\}\{(-?\d+)\}", line)] if m), "2")
    label = f"\\label{{\\detokenize{{{first_numbered}::doc}}}}"
    at = next((i for i, line in enumerate(lines) if label in line), None)
    if at is None:
        return
    chapter = next((i for i in range(at, -1, -1) if lines[i].startswith("\\chapter")), None)
    first = next((i for i, line in enumerate(lines) if line.startswith("\\chapter")), None)
    if chapter is None or first is None or first == chapter:
        return
    lines.insert(chapter, f"\\setcounter{{secnumdepth}}{{{depth}}}")
    lines.insert(first, "\\setcounter{secnumdepth}{-1}")
    tex_path.write_text("\n".join(lines) + "\n", "utf-8")


def run_latex(folder: Path, name: str, staged: dict[str, str], timeout: int,
              source_root: Path | None = None) -> list[Diagnostic]:
    """latexmk with xelatex; LaTeX errors come back located in the .tex file and the book."""
    (folder / f"{name}.pdf").unlink(missing_ok=True)
    cmd = ["latexmk", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error",
           "-file-line-error", f"{name}.tex"]
    try:
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=timeout,
                              errors="replace")
    except subprocess.TimeoutExpired:
        return [Diagnostic(folder / f"{name}.tex", None, f"LaTeX ran past {timeout} s and was "
                           "stopped", "raise [pdf] timeout, or look for a loop in the log")]
    if proc.returncode == 0 and (folder / f"{name}.pdf").exists():
        return []
    log_path = folder / f"{name}.log"
    log = log_path.read_text("utf-8", errors="replace") if log_path.exists() else proc.stdout
    return latex_errors(log, folder, name, staged, source_root) or [
        Diagnostic(folder / f"{name}.tex", None, "LaTeX failed: "
                   + (proc.stderr.strip().splitlines() or ["no message"])[-1],
                   f"see the full log in _build/pdf/{name}.log")]


def _source_line(root: Path, page: str, context: list[str]) -> int | None:
    """The page's line that holds the text LaTeX quoted around the error, if it can be found."""
    quoted = " ".join(re.sub(r"^l\.\d+\s*", "", c) for c in context)
    plain = re.sub(r"\\[A-Za-z]+|[{}()\[\]$\\]", "\x00", quoted)  # cut at LaTeX markup
    words = re.findall(r"[A-Za-z][A-Za-z0-9,.;:'!?-]*(?:[ \t]+[A-Za-z][A-Za-z0-9,.;:'!?-]*)*",
                       plain)
    try:
        lines = (root / page).read_text("utf-8").splitlines()
    except OSError:
        return None
    for run in sorted(words, key=len, reverse=True):
        if len(run) < 8:
            break
        for number, text in enumerate(lines, 1):
            if run in text:
                return number
    return None


def latex_errors(log: str, folder: Path, name: str, staged: dict[str, str],
                 source_root: Path | None = None) -> list[Diagnostic]:
    tex_path = folder / f"{name}.tex"
    tex = tex_path.read_text("utf-8", errors="replace").splitlines() if tex_path.exists() else []
    lines = log.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = FILE_LINE_ERROR.match(line)
        if not m:
            continue
        line_no = int(m.group("line"))
        message = m.group("msg").strip()
        context = [l for l in lines[i + 1:i + 4] if l.strip() and not l.startswith("See the")]
        if context:
            message += " — " + " ".join(c.strip() for c in context[:2])
        own = m.group("file").endswith(f"{name}.tex")
        page = _page_at(tex, line_no, staged) if own else None
        where = (f"{tex_path.name}:{line_no}" if own else f"{m.group('file')}:{line_no}") + \
            (f", from the page {page}" if page else "")
        source_line = _source_line(source_root, page, context) if page and source_root else None
        found.append(Diagnostic(page or tex_path, source_line, f"LaTeX error ({where}): {message}",
                                f"the full log is _build/pdf/{name}.log"))
    return found


def _page_at(tex: list[str], line_no: int, staged: dict[str, str]) -> str | None:
    for text in reversed(tex[: line_no]):
        m = DOC_LABEL.search(text)
        if m:
            doc = m.group("doc")
            return staged.get(f"{doc}.ipynb", doc)
    return None
