"""Octavo's own Sphinx extension: framework tab sets on every page."""

from __future__ import annotations

import json

from ..source.tabs import tab_label


def _add_tabs(app, config) -> None:
    tabs = [t for t in config.octavo_tabs if t]
    if len(tabs) < 1:
        return
    data = [{"name": t, "label": tab_label(t)} for t in tabs]
    app.add_js_file(None, body=f"window.OCTAVO_TABS = {json.dumps(data)};", priority=200)
    app.add_js_file("octavo-tabs.js", priority=210)


def setup(app):
    app.add_config_value("octavo_tabs", [], "html")
    app.connect("config-inited", _add_tabs)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
