"""dev.py, the set-up behind the README's two commands."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_not_root_names_missing_packages_and_what_is_skipped(monkeypatch, capsys):
    dev = load_dev()
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(dev, "missing_debian", lambda packages: ["texlive-xetex", "chromium"])
    called = []
    monkeypatch.setattr(dev, "apt_install", lambda packages: called.append(packages))
    dev.ensure_system(dev.SYSTEM["test"])
    out = capsys.readouterr().out
    assert called == []  # nothing installed without root
    assert "missing Debian packages (not root, so not installed): texlive-xetex chromium" in out
    assert "without texlive-xetex: PDF tests are skipped" in out
    assert "without chromium: browser tests" in out
    assert "sudo apt-get install texlive-xetex chromium" in out


def test_root_installs_what_is_missing(monkeypatch):
    dev = load_dev()
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    monkeypatch.setattr(dev, "missing_debian", lambda packages: ["latexmk"])
    called = []
    monkeypatch.setattr(dev, "apt_install", lambda packages: called.append(packages))
    dev.ensure_system(dev.SYSTEM["build"])
    assert called == [["latexmk"]]


def test_build_needs_latex_and_the_data_test_needs_the_browser():
    dev = load_dev()
    assert "texlive-xetex" in dev.SYSTEM["build"] and "dataset-fashion-mnist" in dev.SYSTEM["build"]
    assert "chromium" in dev.SYSTEM["test"] and "poppler-utils" in dev.SYSTEM["test"]
