"""Publish a value from the run so the book's prose can quote it.

In a chapter, ``glue("final_accuracy", acc, fmt=".1%")`` stores the value
under a name; the prose then writes ``{glue:text}`final_accuracy``` and the
rendered page shows the number the code produced, never one typed by hand.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_plain(value):
    """Turn NumPy / torch scalars into plain Python numbers (they format cleanly)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return value


def glue(name: str, value, fmt: str | None = None, display: bool = False):
    """Store ``value`` under ``name`` for the book; return the plain value.

    ``fmt`` (e.g. ``".3f"`` or ``".1%"``) formats a number into a string
    first, so the prose reads ``{glue:}`name``` with no format spec.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"glue name must be an identifier-like string, got {name!r}")
    value = as_plain(value)
    if fmt is not None:
        if not isinstance(value, numbers.Number):
            raise TypeError(f"fmt={fmt!r} needs a number, got {type(value).__name__}")
        value = format(value, fmt)
    from myst_nb import glue as myst_glue

    myst_glue(name, value, display=display)
    return value
