"""A ``depth x width`` table of bucket sums: the body of Count-Min and of CountSketch.

Row r adds ``s_r(i) * delta`` to bucket ``h_r(i)``, where ``h_r`` is a pairwise
independent polynomial hash and ``s_r`` a 4-wise independent sign (CountSketch)
or 1 (Count-Min). Both hashes are drawn from the coins under ``"<label>/buckets"``
and ``"<label>/signs"`` and kept in the state, so the whole sketch matrix can be
rebuilt by a reader of the state (:meth:`BucketTable.matrix`).

>>> from wbstream.engine.coins import Coins
>>> t = BucketTable(Coins.from_seed(0, "doc"), "demo", depth=3, width=8, signed=True)
>>> t.add(np.array([5, 5, 9]), np.array([2, 1, 4]))
>>> t.votes(np.array([5])).ravel().tolist()  # row 1: item 9 shares 5's bucket with the other sign
[3, -1, 3]
>>> S = BucketTable.matrix(t.state(), np.array([5, 9]))
>>> bool((S @ np.array([3, 4]) == t.table.ravel()).all())
True
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import numpy as np

from wbstream.algorithms.hashing import PolynomialHash, bucket_matrix
from wbstream.engine.coins import Coins

#: Universe items scanned per step of a full query.
SCAN_CHUNK = 1 << 16


class BucketTable:
    """The table, its bucket hash and (if ``signed``) its sign hash."""

    def __init__(self, coins: Coins, label: str, *, depth: int, width: int, signed: bool):
        self.buckets = PolynomialHash.draw(coins, f"{label}/buckets", rows=depth, independence=2)
        self.signs = PolynomialHash.draw(coins, f"{label}/signs", rows=depth, independence=4) if signed else None
        self.table = np.zeros((depth, width), dtype=np.int64)
        self._offsets = (np.arange(depth, dtype=np.int64) * width)[:, None]

    def blank(self) -> BucketTable:
        """A table with the same hashes (keys) and all counts zero."""
        twin = copy.copy(self)
        twin.table = np.zeros_like(self.table)
        return twin

    @property
    def depth(self) -> int:
        return self.table.shape[0]

    @property
    def width(self) -> int:
        return self.table.shape[1]

    @property
    def key_bits(self) -> int:
        return self.buckets.key_bits + (self.signs.key_bits if self.signs is not None else 0)

    def add(self, indices: np.ndarray, deltas: np.ndarray, table: np.ndarray | None = None) -> None:
        """Add a batch to ``table`` (default: the sketch's own table)."""
        target = self.table if table is None else table
        cells = self.buckets.buckets(indices, self.width) + self._offsets
        values = np.broadcast_to(deltas, cells.shape) if self.signs is None else self.signs.signs(indices) * deltas
        np.add.at(target.reshape(-1), cells.ravel(), values.ravel())

    def votes(self, keys: np.ndarray) -> np.ndarray:
        """Each row's (signed) bucket count for each key, shape ``(depth, len(keys))``."""
        counts = np.take_along_axis(self.table, self.buckets.buckets(keys, self.width), axis=1)
        return counts if self.signs is None else self.signs.signs(keys) * counts

    def scan(self, n: int, keep: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Every item of ``[0, n)`` whose votes pass ``keep(keys, votes) -> bool mask``, in chunks."""
        found = []
        for start in range(0, n, SCAN_CHUNK):
            keys = np.arange(start, min(start + SCAN_CHUNK, n), dtype=np.int64)
            found.append(keys[keep(keys, self.votes(keys))])
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def state(self) -> dict:
        out = {"table": self.table, "bucket_coefficients": self.buckets.coefficients}
        if self.signs is not None:
            out["sign_coefficients"] = self.signs.coefficients
        return out

    @staticmethod
    def cells(state: Mapping, keys: np.ndarray) -> np.ndarray:
        """Which cell of each row every key updates, shape ``(depth, len(keys))``, from a state.

        For a signed table the cell also carries the sign (``2 * bucket + (sign > 0)``):
        two keys share a cell exactly when they add to the same counter with the same sign.
        """
        width = state["table"].shape[1]
        keys = np.asarray(keys, dtype=np.int64)
        buckets = PolynomialHash(np.asarray(state["bucket_coefficients"])).buckets(keys, width)
        if "sign_coefficients" not in state:
            return buckets
        return 2 * buckets + (PolynomialHash(np.asarray(state["sign_coefficients"])).signs(keys) > 0)

    @staticmethod
    def matrix(state: Mapping, columns: np.ndarray) -> np.ndarray:
        """The sketch matrix on ``columns``, rebuilt from a state (signed if it has sign coefficients)."""
        width = state["table"].shape[1]
        columns = np.asarray(columns, dtype=np.int64)
        buckets = PolynomialHash(np.asarray(state["bucket_coefficients"])).buckets(columns, width)
        if "sign_coefficients" not in state:
            return bucket_matrix(buckets, width)
        return bucket_matrix(buckets, width, PolynomialHash(np.asarray(state["sign_coefficients"])).signs(columns))
