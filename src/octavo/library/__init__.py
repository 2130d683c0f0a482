"""The book's library: ``#@save`` blocks extracted into importable modules."""
