"""The book's configuration: ``octavo.toml`` loaded into typed dataclasses.

Every field carries its help text in its metadata. Loading validates every
section and key and reports all problems at once, each with the file, the
line, the value found and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import Collector, ConfigError

CONFIG_NAME = "octavo.toml"


def _f(default, help: str, **kw):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class ProjectConfig:
    title: str = _f("Untitled Book", "Title shown on the site and the PDF cover.")
    author: str = _f("", "Author line.")
    language: str = _f("en", "Language code (en, zh, ja, ko, ...).")
    version: str = _f("0.1.0", "Version of the book.")
    copyright: str = _f("", "Copyright line; defaults to the author.")


@dataclass
class BuildConfig:
    source_dir: str = _f(".", "Folder of the sources, relative to octavo.toml.")
    output_dir: str = _f("_build", "Where outputs go, relative to octavo.toml.")
    cache_dir: str = _f("", "Execution cache; default <output_dir>/.cache.")
    exclude: list[str] = _f([], "Glob patterns of files that are not pages.")
    timeout: int = _f(600, "Per-cell timeout in seconds (front matter may override).", min=1)
    jobs: int = _f(0, "Parallel notebooks; 0 means the number of CPUs.", min=0)
    allow_errors: bool = _f(False, "Keep executing after a cell raises (outputs show the error).")
    kernel: str = _f("python3", "Default Jupyter kernel name.")
    warnings_are_errors: bool = _f(True, "Treat renderer warnings as build errors.")
    tabs: list[str] = _f([], "Framework tabs, e.g. [\"pytorch\", \"jax\"]; the first is the "
                             "default. Empty: a book without tabs.")


@dataclass
class HtmlConfig:
    theme: str = _f("sphinx_book_theme", "Sphinx HTML theme.")
    logo: str = _f("", "Logo image, relative to the source folder.")
    favicon: str = _f("", "Favicon, relative to the source folder.")
    repository_url: str = _f("", "Repository of the book's sources (adds 'Edit this page' links), "
                                 "e.g. https://github.com/org/repo.")
    edit_branch: str = _f("main", "Branch that 'Edit this page' links point to.")
    path_to_book: str = _f("", "Folder of the sources inside the repository, e.g. book.")
    copy_button: bool = _f(True, "Copy buttons on code cells.")
    genindex: bool = _f(False, "Generate the general index page (genindex.html).")
    extra_css: list[str] = _f([], "Extra CSS files, relative to the source folder.")


@dataclass
class ResourcesConfig:
    cpus: int = _f(1, "CPUs a page needs unless its front matter says otherwise.", min=1)
    gpus: int = _f(0, "GPUs a page needs unless its front matter says otherwise.", min=0)
    memory: str = _f("", "Memory a page needs (e.g. '2GB'); empty: no budget.")


@dataclass
class PdfConfig:
    main_font: str = _f("TeX Gyre Pagella", "Body font (Debian: texlive-fonts-recommended).")
    sans_font: str = _f("TeX Gyre Heros", "Sans-serif font for headings.")
    mono_font: str = _f("DejaVu Sans Mono", "Font of code and outputs (Debian: fonts-dejavu-core).")
    cjk_main_font: str = _f("", "CJK body font; default Noto Serif CJK for the book's language "
                                "(Debian: fonts-noto-cjk).")
    cjk_sans_font: str = _f("", "CJK sans-serif font; default Noto Sans CJK.")
    paper: str = _f("a4", "Paper size: a4 or letter.")
    timeout: int = _f(900, "Seconds LaTeX may run before it is stopped.", min=1)


@dataclass
class LaunchConfig:
    github_repo: str = _f("", "GitHub repository (org/name) that hosts the Colab notebooks "
                              "(_build/colab/); empty: no Colab links.")
    branch: str = _f("main", "Branch of that repository.")
    path: str = _f("", "Folder inside that repository that holds the tab folders.")
    install: str = _f("pip install {library}=={version}",
                      "First cell of Colab notebooks ({library} and {version} are filled in).")


@dataclass
class DiscussionConfig:
    url: str = _f("", "Forum topic URL with {id}, e.g. https://forum.example/t/{id}; pages "
                      "carry 'discussion: <id>' in their front matter.")


@dataclass
class LibraryConfig:
    name: str = _f("", "Name of the library built from #@save cells (e.g. dodl); empty: none.")
    path: str = _f("", "Package folder to generate, for a book without tabs "
                       "(relative to octavo.toml), e.g. src/mylib.")
    paths: dict[str, str] = _f({}, "Package folder per tab, e.g. {pytorch = \"src/dodl/torch\"}.")
    format: bool = _f(True, "Format the generated code (ruff format, when installed).")


@dataclass
class Config:
    project: ProjectConfig = field(default_factory=ProjectConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    html: HtmlConfig = field(default_factory=HtmlConfig)
    library: LibraryConfig = field(default_factory=LibraryConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    pdf: PdfConfig = field(default_factory=PdfConfig)
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    discussion: DiscussionConfig = field(default_factory=DiscussionConfig)
    root: Path = field(default=Path("."), metadata={"internal": True})

    @property
    def source_path(self) -> Path:
        return (self.root / self.build.source_dir).resolve()

    @property
    def output_path(self) -> Path:
        return (self.root / self.build.output_dir).resolve()

    @property
    def cache_path(self) -> Path:
        if self.build.cache_dir:
            return (self.root / self.build.cache_dir).resolve()
        return self.output_path / ".cache"

    @property
    def jobs(self) -> int:
        return self.build.jobs or (os.cpu_count() or 1)

    @property
    def slug(self) -> str:
        """The book's file-name stem (notebook zips, PDFs), from its title."""
        return re.sub(r"[^a-z0-9]+", "-", self.project.title.lower()).strip("-") or "book"

    @property
    def tabs(self) -> list[str]:
        """The book's tabs; a book without tabs has the single unnamed tab ""."""
        return list(self.build.tabs) or [""]

    @property
    def default_tab(self) -> str:
        return self.tabs[0]

    def library_paths(self) -> dict[str, Path]:
        """Package folder to generate for each tab (empty when there is no library)."""
        if not self.library.name:
            return {}
        if self.build.tabs:
            return {t: (self.root / p).resolve() for t, p in self.library.paths.items()}
        return {"": (self.root / self.library.path).resolve()} if self.library.path else {}


SECTIONS: dict[str, type] = {
    f.name: f.type if isinstance(f.type, type) else globals()[f.type]
    for f in fields(Config)
    if not f.metadata.get("internal")
}


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        (arg,) = typing.get_args(tp)
        return f"a list of {_type_name(arg)}"
    if origin is dict:
        key, value = typing.get_args(tp)
        return f"a table of {_type_name(value)}"
    return {str: "a string", int: "an integer", bool: "true or false", float: "a number"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _check(value, tp) -> bool:
    origin = typing.get_origin(tp)
    if origin is list:
        (arg,) = typing.get_args(tp)
        return isinstance(value, list) and all(_check(v, arg) for v in value)
    if origin is dict:
        key, arg = typing.get_args(tp)
        return isinstance(value, dict) and all(_check(v, arg) for v in value.values())
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(tp, types.UnionType):
        return any(_check(value, a) for a in typing.get_args(tp))
    return isinstance(value, tp)


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    """Map (section, key) to the line where the key is set; ("", section) to headers."""
    lines: dict[tuple[str, str], int] = {}
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"^\[\s*([A-Za-z0-9_.\-]+)\s*\]", line)
        if m:
            section = m.group(1)
            lines.setdefault(("", section), n)
            continue
        m = re.match(r"^([A-Za-z0-9_\-]+)\s*=", line)
        if m:
            lines.setdefault((section, m.group(1)), n)
    return lines


def _suggest(name: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else "valid keys: " + ", ".join(sorted(choices))


def parse_config(text: str, path: Path) -> Config:
    """Parse and validate TOML text; raise ConfigError listing every problem."""
    problems = Collector()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.add(path, int(m.group(1)) if m else None, f"invalid TOML: {exc}",
                     "fix the syntax (see https://toml.io)")
        problems.raise_if_any(ConfigError)
    lines = _key_lines(text)
    config = Config(root=path.parent.resolve())
    for section, value in data.items():
        if section not in SECTIONS:
            problems.add(path, lines.get(("", section)), f"unknown section [{section}]",
                         _suggest(section, SECTIONS).replace("keys", "sections"))
            continue
        if not isinstance(value, dict):
            problems.add(path, lines.get(("", section)), f"'{section}' must be a table [{section}]")
            continue
        cls = SECTIONS[section]
        target = getattr(config, section)
        known = {f.name: f for f in fields(cls)}
        hints = typing.get_type_hints(cls)
        for key, val in value.items():
            where = lines.get((section, key))
            if key not in known:
                problems.add(path, where, f"unknown key '{key}' in [{section}]", _suggest(key, known))
                continue
            tp = hints[key]
            if not _check(val, tp):
                problems.add(path, where,
                             f"[{section}] {key} = {val!r}: expected {_type_name(tp)}, "
                             f"found {type(val).__name__}",
                             known[key].metadata.get("help", ""))
                continue
            low = known[key].metadata.get("min")
            if low is not None and val < low:
                problems.add(path, where, f"[{section}] {key} = {val!r}: expected a value >= {low}")
                continue
            setattr(target, key, val)
    _check_together(config, lines, path, problems)
    problems.raise_if_any(ConfigError)
    return config


def _check_together(config: Config, lines, path: Path, problems: Collector) -> None:
    """Rules that involve more than one key."""
    tabs = config.build.tabs
    where = lines.get(("build", "tabs"))
    for tab in tabs:
        if not re.fullmatch(r"[a-z][a-z0-9_\-]*", tab):
            problems.add(path, where, f"[build] tabs: '{tab}' is not a valid tab name",
                         "use lowercase letters, digits, '-' and '_', e.g. 'pytorch'")
    if len(set(tabs)) != len(tabs):
        problems.add(path, where, f"[build] tabs = {tabs!r}: a tab is listed twice")
    if config.resources.memory:
        from .execute.resources import parse_memory

        try:
            parse_memory(config.resources.memory)
        except ValueError as exc:
            problems.add(path, lines.get(("resources", "memory")), f"[resources] memory: {exc}")
    if config.pdf.paper not in ("a4", "letter"):
        problems.add(path, lines.get(("pdf", "paper")),
                     f"[pdf] paper = {config.pdf.paper!r}: expected 'a4' or 'letter'")
    url = config.discussion.url
    if url and "{id}" not in url:
        problems.add(path, lines.get(("discussion", "url")),
                     f"[discussion] url = {url!r}: expected a URL containing {{id}}",
                     "e.g. https://forum.example/t/{id}")
    lib = config.library
    for tab in lib.paths:
        if tab not in tabs:
            problems.add(path, lines.get(("library.paths", tab)) or lines.get(("library", "paths")),
                         f"[library] paths names the tab '{tab}', which is not in [build] tabs "
                         f"({', '.join(tabs) or 'none'})", "add the tab or remove the path")
    if lib.name:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", lib.name):
            problems.add(path, lines.get(("library", "name")),
                         f"[library] name = {lib.name!r}: expected a Python identifier")
        if tabs and not lib.paths:
            problems.add(path, lines.get(("", "library")),
                         "[library] has no paths for the book's tabs",
                         "add [library.paths] with one package folder per tab")
        if not tabs and not lib.path:
            problems.add(path, lines.get(("", "library")), "[library] has no path",
                         "set path = \"src/<name>\" (the package folder to generate)")


def find_config(start: Path) -> Path:
    """The octavo.toml in ``start`` (a folder or the file itself)."""
    start = Path(start)
    candidate = start if start.name == CONFIG_NAME else start / CONFIG_NAME
    if not candidate.is_file():
        raise ConfigError([
            _diag(candidate, f"no {CONFIG_NAME} found",
                  "run 'octavo new DIR' to create a book, or pass --book DIR")
        ])
    return candidate


def _diag(path, message, hint=""):
    from .errors import Diagnostic

    return Diagnostic(path, None, message, hint)


def load_config(book: Path) -> Config:
    path = find_config(book)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([_diag(path, f"not UTF-8 ({exc.reason} at byte {exc.start})",
                                 "save the file as UTF-8")]) from None
    return parse_config(text, path)


def describe() -> str:
    """Every section and key with its type, default and help (for `octavo config`)."""
    out = []
    for section, cls in SECTIONS.items():
        out.append(f"[{section}]")
        hints = typing.get_type_hints(cls)
        inst = cls()
        for f in fields(cls):
            out.append(f"  {f.name} ({_type_name(hints[f.name])}, default "
                       f"{getattr(inst, f.name)!r}): {f.metadata.get('help', '')}")
    return "\n".join(out)
