"""Reader for MyST Markdown notebooks (jupytext's ``md:myst`` format).

A page is YAML front matter, then Markdown with code cells fenced as
```` ```{code-cell} python ````. Cell options follow the fence either as
``:key: value`` lines or as a YAML block between ``---`` lines. ``+++`` splits
Markdown cells. Each cell keeps the line it starts on.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import Diagnostic
from .page import Cell, Page

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
CODE_CELL = re.compile(r"^\{code-cell\}\s*(?P<lang>\S*)\s*$")
RAW_CELL = re.compile(r"^\{raw-cell\}\s*$")
OPTION = re.compile(r"^:(?P<key>[\w\-]+):\s*(?P<value>.*)$")


def split_front_matter(lines: list[str], rel: str) -> tuple[dict, int, list[Diagnostic]]:
    """Front matter mapping, number of lines it spans, problems."""
    if not lines or lines[0].rstrip() != "---":
        return {}, 0, []
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        return {}, 0, [Diagnostic(rel, 1, "front matter opened with '---' is never closed",
                                  "add a line '---' after the front matter")]
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return {}, end + 1, [Diagnostic(rel, line, f"broken YAML front matter: {problem}",
                                        "front matter must be a YAML mapping between '---' lines")]
    if not isinstance(data, dict):
        return {}, end + 1, [Diagnostic(rel, 2, f"front matter is a {type(data).__name__}, "
                                        "expected a mapping of keys to values",
                                        "write it as 'key: value' lines")]
    return data, end + 1, []


def _parse_options(lines: list[str], start: int, rel: str, problems: list[Diagnostic]):
    """Read cell options at ``lines[start:]``; return (options, index of first body line)."""
    options: dict = {}
    i = start
    if i < len(lines) and lines[i].rstrip() == "---":
        for j in range(i + 1, len(lines)):
            if lines[j].rstrip() == "---":
                try:
                    data = yaml.safe_load("\n".join(lines[i + 1 : j])) or {}
                    if not isinstance(data, dict):
                        raise yaml.YAMLError("cell options must be a mapping")
                    options.update(data)
                except yaml.YAMLError as exc:
                    problems.append(Diagnostic(rel, i + 1, f"broken YAML cell options: {exc}",
                                               "write options as 'key: value' lines"))
                return options, j + 1
        problems.append(Diagnostic(rel, i + 1, "cell options opened with '---' are never closed",
                                   "close them with a '---' line"))
        return options, i + 1
    while i < len(lines):
        m = OPTION.match(lines[i])
        if not m:
            break
        try:
            value = yaml.safe_load(m.group("value")) if m.group("value").strip() else True
        except yaml.YAMLError:
            value = m.group("value")
        options[m.group("key")] = value
        i += 1
    return options, i


def _cell_metadata(options: dict) -> dict:
    meta = dict(options)
    if "tags" in meta and isinstance(meta["tags"], str):
        meta["tags"] = [t.strip() for t in meta["tags"].split(",") if t.strip()]
    return meta


def parse(text: str, path: Path, rel: str) -> tuple[Page | None, list[Diagnostic]]:
    lines = text.splitlines()
    metadata, body_start, problems = split_front_matter(lines, rel)
    cells: list[Cell] = []
    md_start = body_start
    md_meta: dict = {}

    def flush_markdown(end: int) -> None:
        chunk = lines[md_start:end]
        first = 0
        while first < len(chunk) and not chunk[first].strip():
            first += 1
        last = len(chunk)
        while last > first and not chunk[last - 1].strip():
            last -= 1
        if first < last:
            line = md_start + first + 1
            cells.append(Cell("markdown", "\n".join(chunk[first:last]), line, dict(md_meta), line))

    i = body_start
    while i < len(lines):
        line = lines[i]
        if line.rstrip().startswith("+++") and not line.startswith(" "):
            flush_markdown(i)
            md_meta = {}
            rest = line.strip()[3:].strip()
            if rest:
                try:
                    md_meta = dict(yaml.safe_load(rest) or {})
                except (yaml.YAMLError, TypeError, ValueError):
                    problems.append(Diagnostic(rel, i + 1, f"bad cell metadata after '+++': {rest}",
                                               "use '+++ {\"key\": \"value\"}'"))
            md_start = i + 1
            i += 1
            continue
        m = FENCE.match(line)
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        # find the closing fence: same character, at least as long, nothing after it
        close = None
        for j in range(i + 1, len(lines)):
            cm = FENCE.match(lines[j])
            if (cm and cm.group("fence")[0] == fence[0] and len(cm.group("fence")) >= len(fence)
                    and not cm.group("info").strip()):
                close = j
                break
        code = CODE_CELL.match(info)
        raw = RAW_CELL.match(info)
        if (code or raw) and not m.group("indent"):
            if close is None:
                problems.append(Diagnostic(rel, i + 1, f"code cell opened with '{fence}' is never "
                                           "closed", f"add a line '{fence}' after the cell's code"))
                close = len(lines)
            options, body = _parse_options(lines, i + 1, rel, problems)
            flush_markdown(i)
            source = "\n".join(lines[body:close])
            kind = "code" if code else "raw"
            cells.append(Cell(kind, source, i + 1, _cell_metadata(options), body + 1))
            md_start = close + 1
            md_meta = {}
            i = close + 1
            continue
        i = (close + 1) if close is not None else len(lines)
    flush_markdown(len(lines))
    page = Page(path, rel, metadata, cells, "myst", body_start)
    return page, problems
