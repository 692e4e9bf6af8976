"""Stream batches: the one shape in which updates travel.

An update is ``(index, delta)``; a batch is two equal-length int64 arrays. A
single update is a batch of one. :func:`as_batch` turns what an adversary
returns into a :class:`Batch`, refusing malformed input with a
:class:`StreamError` that names the position and the rule.

>>> b = as_batch([3, 5], [1, -2])
>>> b.indices.dtype, len(b)
(dtype('int64'), 2)
>>> as_batch([1, 2], [1.5, 2])
Traceback (most recent call last):
...
wbstream.engine.errors.StreamError: update 0: delta 1.5 is not an integer
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import StreamError


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of turnstile updates; ``indices[j]`` receives ``deltas[j]``.

    >>> Batch.single(7, -1)
    Batch(indices=array([7]), deltas=array([-1]))
    """

    indices: np.ndarray
    deltas: np.ndarray

    def __post_init__(self):
        idx, dlt = self.indices, self.deltas
        if type(idx) is not np.ndarray or idx.dtype != np.int64 or idx.ndim != 1:
            object.__setattr__(self, "indices", idx := _as_int64(idx, "indices"))
        if type(dlt) is not np.ndarray or dlt.dtype != np.int64 or dlt.ndim != 1:
            object.__setattr__(self, "deltas", dlt := _as_int64(dlt, "deltas"))
        if len(idx) != len(dlt):
            raise StreamError(f"mismatched lengths: {len(idx)} indices but {len(dlt)} deltas")

    def __len__(self) -> int:
        return len(self.indices)

    @classmethod
    def single(cls, index: int, delta: int) -> Batch:
        try:
            return cls(np.array([index], dtype=np.int64), np.array([delta], dtype=np.int64))
        except (OverflowError, TypeError, ValueError):  # not an int64: let the checks name it
            return cls([index], [delta])

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        if not batches:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(np.concatenate([b.indices for b in batches]),
                   np.concatenate([b.deltas for b in batches]))


class RowBatch(Batch):
    """A batch of whole real rows, appended to a row-insertion stream (a matrix with ``cols`` columns).

    ``rows`` is a float64 ``(m, w)`` array. As a :class:`Batch` it is the ``m * w``
    entries in row order: ``indices`` are the column of each entry (``np.tile(arange(w), m)``)
    and ``deltas`` their float64 values, so the round loop passes it through unchanged
    and an algorithm's ``update(indices, deltas)`` reads the rows as
    ``deltas.reshape(-1, w)``. A problem over integer entries refuses it (its deltas
    are not int64); a row problem checks width, finiteness and range before anything
    changes. One lone entry is refused here: the round loop's single-update fast
    path is for integer updates only, and no row problem has rows of width 1.

    >>> b = RowBatch([[1.0, 2.0], [3.0, 4.5]])
    >>> b.indices.tolist(), b.deltas.tolist(), b.rows.shape
    ([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.5], (2, 2))
    >>> RowBatch.from_entries([0, 1, 0, 1], [1.0, 2.0, 3.0, 4.5]).rows.tolist()
    [[1.0, 2.0], [3.0, 4.5]]
    >>> RowBatch([[7.0]])
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.StreamError: a row batch of one 1-wide row: rows must have at least 2 columns
    """

    rows: np.ndarray

    def __init__(self, rows):
        try:
            arr = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise StreamError("rows must be a 2-d array of real numbers") from None
        if arr.ndim == 1 and arr.size == 0:
            arr = arr.reshape(0, 0)
        if arr.ndim != 2:
            raise StreamError(f"rows must be a 2-d array (one row per line), got shape {arr.shape}")
        if arr.size == 1:
            raise StreamError("a row batch of one 1-wide row: rows must have at least 2 columns")
        arr.flags.writeable = False
        m, w = arr.shape
        object.__setattr__(self, "rows", arr)
        object.__setattr__(self, "indices", np.tile(np.arange(w, dtype=np.int64), m))
        object.__setattr__(self, "deltas", arr.reshape(-1))

    def __reduce__(self):
        return (RowBatch, (np.array(self.rows),))

    @classmethod
    def from_entries(cls, indices, deltas) -> RowBatch:
        """Rebuild a row batch from its entries (``indices`` restart at 0 on each row), e.g. from a transcript."""
        idx = np.asarray(indices, dtype=np.int64)
        w = int(idx.max()) + 1 if idx.size else 0
        if idx.size and (idx.size % w or not np.array_equal(idx, np.tile(np.arange(w), idx.size // w))):
            raise StreamError("these entries are not whole rows: indices must repeat 0, 1, ..., w-1")
        return cls(np.asarray(deltas, dtype=np.float64).reshape(-1, w) if w else np.zeros((0, 0)))


def _as_int64(values, what: str) -> np.ndarray:
    one = {"indices": "index", "deltas": "delta"}[what]
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError, OverflowError):  # ragged nesting, or an object numpy cannot read
        raise StreamError(f"{what} must be a one-dimensional array of integers") from None
    if arr.ndim != 1:
        raise StreamError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == np.int64:
        return arr
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise StreamError(f"{what} do not fit in int64")
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        raise StreamError(f"{what} must be integers, got booleans")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise StreamError(f"update {j}: {one} {arr[j]} is not a finite integer")
        frac = arr != np.round(arr)
        if frac.any():
            j = int(np.flatnonzero(frac)[0])
            raise StreamError(f"update {j}: {one} {arr[j]} is not an integer")
        if arr.size and np.abs(arr).max() >= 2.0**63:
            raise StreamError(f"{what} do not fit in int64")
        return arr.astype(np.int64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == object and all(type(v) is int for v in arr):  # Python ints beyond int64
        raise StreamError(f"{what} do not fit in int64")
    raise StreamError(f"{what} must be integers, got dtype {arr.dtype}")


def as_batch(indices, deltas=None) -> Batch:
    """Coerce ``(indices, deltas)``, a pair, or a :class:`Batch` into a checked Batch.

    A :class:`Batch` or :class:`RowBatch` comes back as it is: their constructors
    checked it. An instance of any subclass (which may skip those checks) is rebuilt
    through the checking constructor, so nothing unchecked reaches the referee.

    >>> class Unchecked(Batch):
    ...     def __post_init__(self):
    ...         pass
    >>> as_batch(Unchecked([1, 2], [3, 4])).deltas.dtype
    dtype('int64')
    >>> as_batch(Unchecked([1, 2], [0.5, 4]))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.StreamError: update 0: delta 0.5 is not an integer
    """
    if deltas is None:
        kind = type(indices)
        if kind is Batch or kind is RowBatch:
            return indices
        if isinstance(indices, RowBatch):
            return RowBatch(getattr(indices, "rows", None))
        if isinstance(indices, Batch):
            return Batch(getattr(indices, "indices", None), getattr(indices, "deltas", None))
        if isinstance(indices, tuple) and len(indices) == 2:
            indices, deltas = indices
        else:
            raise StreamError(
                f"an adversary must return a Batch or an (indices, deltas) pair, got {type(indices).__name__}")
    return Batch(indices, deltas)
