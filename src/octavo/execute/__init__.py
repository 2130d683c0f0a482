"""Execution: keys, cache, kernels and the worker pool."""
