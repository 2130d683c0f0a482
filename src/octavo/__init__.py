"""Octavo: sources → executed, cached notebooks → a book (HTML, PDF, notebooks)."""

__version__ = "0.1.0"
