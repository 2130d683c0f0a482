"""Readers turn book files into :class:`Page` objects with a cell → line map."""

from .page import Cell, Page, read_page

__all__ = ["Cell", "Page", "read_page"]
