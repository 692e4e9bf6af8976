"""The Apache DataSketches Python package, imported on first use with a clear error if missing."""

from __future__ import annotations


def datasketches():
    """The ``datasketches`` module, or a clear ImportError naming the extra that installs it.

    >>> datasketches().hll_sketch(8).is_empty()
    True
    """
    try:
        import datasketches as ds
    except ImportError as err:  # pragma: no cover - the test extras install it
        raise ImportError("the DataSketches peers need the `datasketches` package: "
                          "pip install 'wbstream[peers]'") from err
    return ds
