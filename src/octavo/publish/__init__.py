"""Publishing: a local preview server (deployment comes later)."""
