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
        return cls(np.array([index], dtype=np.int64), np.array([delta], dtype=np.int64))

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        if not batches:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(np.concatenate([b.indices for b in batches]),
                   np.concatenate([b.deltas for b in batches]))


def _as_int64(values, what: str) -> np.ndarray:
    one = {"indices": "index", "deltas": "delta"}[what]
    arr = np.asarray(values)
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
    raise StreamError(f"{what} must be integers, got dtype {arr.dtype}")


def as_batch(indices, deltas=None) -> Batch:
    """Coerce ``(indices, deltas)``, a pair, or a :class:`Batch` into an int64 Batch."""
    if deltas is None:
        if isinstance(indices, Batch):
            return indices
        if isinstance(indices, tuple) and len(indices) == 2:
            indices, deltas = indices
        else:
            raise StreamError(
                f"an adversary must return a Batch or an (indices, deltas) pair, got {type(indices).__name__}")
    return Batch(indices, deltas)
