"""Rendering: executed notebooks → HTML (and later PDF, slides)."""
