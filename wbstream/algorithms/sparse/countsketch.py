"""CountSketch k-sparse recovery with verification.

A ``rows x cols`` table of signed bucket sums under pairwise-independent bucket
hashes and 4-wise independent signs. The query estimates every coordinate by the
median over rows, keeps the non-zero estimates, and returns them only if their
sketch equals the table exactly; otherwise ``NOT_SPARSE``. Against an oblivious
stream this is exact on k-sparse x with high probability. Its hash seeds sit in
the state, so a white-box adversary can compute its matrix and inject a kernel
vector (see ``kernel-injection``).
"""

from __future__ import annotations

import copy

import numpy as np

from wbstream.algorithms.bucket_table import SCAN_CHUNK, BucketTable
from wbstream.engine.errors import at_least
from wbstream.engine.algorithm import LinearSketch, Space, bits_for_range, nbytes_of
from wbstream.engine.answers import NOT_SPARSE, SparseVector
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

@algorithms.register
class CountSketchRecovery(LinearSketch):
    """CountSketch k-sparse recovery, verified against the sketch.

    >>> from wbstream.engine.coins import Coins
    >>> p = SparseRecovery(n=1000, k=3, M=50)
    >>> cs = CountSketchRecovery(p.params, Coins.from_seed(1, "doc"), rows=5, cols=24)
    >>> cs.update(np.array([7, 300, 7]), np.array([5, -2, 1]))
    >>> cs.query()
    SparseVector(indices=[7, 300], values=[6, -2])
    """

    name = "countsketch"

    computed_defaults = {"cols": "max(8, 8k)"}
    problem = SparseRecovery
    claims = OBLIVIOUS
    guarantee = "x exactly when nnz(x) <= k, else NOT_SPARSE, w.h.p. against oblivious streams only"

    def __init__(self, params, coins, *, rows: int = 5, cols: int = 0):
        super().__init__(params, coins)
        cols = cols or max(8, 8 * params.k)
        at_least("countsketch", rows=(rows, 1), cols=(cols, 2))
        self.rows, self.cols = int(rows), int(cols)
        self.cells = BucketTable(coins, "countsketch", depth=self.rows, width=self.cols, signed=True)
        self.table = self.cells.table

    def twin(self) -> CountSketchRecovery:
        """A sketch with the same keys and an empty table (another server of the same sketch)."""
        twin = copy.copy(self)
        twin.cells = self.cells.blank()
        twin.table = twin.cells.table
        return twin

    def update(self, indices, deltas):
        self.cells.add(indices, deltas)

    def _sketch_of(self, indices, values) -> np.ndarray:
        table = np.zeros_like(self.table)
        self.cells.add(indices, values, table)
        return table

    def query(self):
        mid, cap = self.rows // 2, self.table.size // 2
        found = []
        count = 0
        for start in range(0, self.params.n, SCAN_CHUNK):  # not cells.scan: it stops early past the cap
            keys = np.arange(start, min(start + SCAN_CHUNK, self.params.n), dtype=np.int64)
            votes = self.cells.votes(keys)
            nz = keys[np.partition(votes, mid, axis=0)[mid] != 0]
            count += len(nz)
            if count > cap:
                return NOT_SPARSE
            found.append(nz)
        candidates = np.concatenate(found)
        if len(candidates) == 0:
            return SparseVector([], []) if not self.table.any() else NOT_SPARSE
        S = self.sketch_columns(self.params, self.state(), candidates).astype(np.float64)
        solution = np.linalg.lstsq(S, self.table.reshape(-1).astype(np.float64), rcond=None)[0]
        values = np.rint(solution).astype(np.int64)
        keep = values != 0
        idx, val = candidates[keep], values[keep]
        if len(idx) > self.params.k or not np.array_equal(self._sketch_of(idx, val), self.table):
            return NOT_SPARSE
        return SparseVector(idx, val)

    def state(self):
        return self.cells.state()

    def space(self):
        bound = self.params.n * self.params.M
        state_bits = self.table.size * bits_for_range(-bound, bound)
        return Space(state_bits, self.cells.key_bits, nbytes_of(self.state()))

    def merge_moduli(self):
        return {"table": None}

    def sketch(self):
        return self.table.reshape(-1).copy()

    @classmethod
    def sketch_columns(cls, params, state, columns):
        return BucketTable.matrix(state, columns)
