"""The symbol graph of the library: which library objects a piece of code uses."""

from __future__ import annotations

import ast

from ..execute.keys import parse_code


def _alias_attributes(tree: ast.AST, aliases: set[str]) -> set[str]:
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in aliases}


def used_names(source: str, aliases: set[str]) -> set[str]:
    """Names that library code uses: plain names (objects of one library refer to
    each other directly) and ``alias.X``."""
    tree = parse_code(source)
    if tree is None:
        return set()
    plain = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return plain | _alias_attributes(tree, aliases)


def page_uses(source: str, aliases: set[str], package: str) -> set[str]:
    """Names a page takes from the library: ``alias.X`` and ``from <package>... import X``."""
    tree = parse_code(source)
    if tree is None:
        return set()
    names = _alias_attributes(tree, aliases)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.startswith(package + "."):
            names.update(a.name for a in node.names)
    return names


def library_aliases(source: str, libname: str) -> set[str]:
    """Names bound to the library (or one of its tab packages) by the code's imports."""
    tree = parse_code(source)
    if tree is None:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == libname or a.name.startswith(libname + "."):
                    found.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == libname:
                found.update(a.asname or a.name for a in node.names)
    return found


def closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    """Every node reachable from ``start`` (cycles allowed)."""
    seen: set[str] = set()
    stack = [n for n in start if n in graph]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(d for d in graph[name] if d in graph and d not in seen)
    return seen
