"""dodl: the library of *Doing Deep Learning*, generated from the book's ``#@save`` cells.

Import the framework you use: ``from dodl import torch as dodl``.
"""

__version__ = "0.1.0"
