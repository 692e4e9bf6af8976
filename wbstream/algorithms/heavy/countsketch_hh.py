"""CountSketch for L1 heavy hitters (Charikar, Chen, Farach-Colton 2002), hash seeds in the state.

``est_i = median over rows of s_r(i) * table[r, h_r(i)]``. Against an oblivious
stream a row's error on i is the signed mass of the items sharing its bucket:
with ``width = ceil(32/eps)`` the items of count at least ``eps*m/8`` (at most
``8/eps`` of them) hit i's bucket with probability at most 1/4, and the rest add
a standard deviation of at most ``eps*m/16``, so a row errs by more than
``eps*m/4`` with probability below 1/2 and the median over
``depth = ceil(ln(n/0.05))`` rows almost never does. The query reports every
index with ``est_i >= 3/4 eps*m``: heavy ones (``f_i >= eps*m``) clear it, light
ones (``f_i <= eps*m/2``) do not.

A white-box adversary reads the bucket and sign coefficients and needs no luck:
a cover of a majority of rows by items that share the target's bucket *and sign*
makes a never-inserted target look heavy (``markelon-2023``).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.bucket_table import BucketTable
from wbstream.algorithms.heavy.count_min import FALSE_REPORT_PROBABILITY
from wbstream.engine.algorithm import LinearSketch, Space, bits_for_range, nbytes_of
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.registry import algorithms


@algorithms.register
class CountSketchHH(LinearSketch):
    """CountSketch, ``depth`` rows (0: ``ceil(ln(n/0.05))``) of ``width`` buckets (0: ``ceil(32/eps)``).

    >>> from wbstream.engine.coins import Coins
    >>> p = HeavyHitters(n=1000, M=100, eps=0.2)
    >>> cs = CountSketchHH(p.params, Coins.from_seed(1, "doc"))
    >>> cs.update(np.array([7, 300, 7, 12]), np.array([50, 2, 10, 1]))
    >>> cs.depth, cs.width, cs.query(), int(cs.estimate(np.array([7]))[0])
    (10, 160, array([7]), 60)
    """

    name = "countsketch-hh"
    problem = HeavyHitters
    guarantee = ("every heavy hitter reported and no light one w.h.p., against oblivious streams only "
                 "(median of signed bucket counts, threshold 3/4 eps m)")
    arena_problem = "heavy-hitters(n=20000, M=1048576, eps=0.05)"

    def __init__(self, params, coins, *, depth: int = 0, width: int = 0):
        super().__init__(params, coins)
        width = width or math.ceil(32 / params.eps)
        depth = depth or math.ceil(math.log(params.n / FALSE_REPORT_PROBABILITY))
        if depth < 1 or width < 2:
            raise ValueError(f"countsketch-hh needs depth >= 1 and width >= 2, got depth={depth}, width={width}")
        self.depth, self.width = int(depth), int(width)
        self.cells = BucketTable(coins, "countsketch-hh", depth=self.depth, width=self.width, signed=True)
        self.table = self.cells.table
        self.m = 0

    def update(self, indices, deltas):
        self.m += int(deltas.sum())
        self.cells.add(indices, deltas)

    def estimate(self, indices) -> np.ndarray:
        """The median over rows of the signed bucket counts (the upper median for even depth)."""
        votes = self.cells.votes(np.asarray(indices, dtype=np.int64))
        return np.partition(votes, self.depth // 2, axis=0)[self.depth // 2]

    def query(self):
        m = self.m
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        threshold, mid = 0.75 * self.params.eps * m, self.depth // 2
        return self.cells.scan(self.params.n,
                               lambda keys, votes: np.partition(votes, mid, axis=0)[mid] >= threshold)

    def state(self):
        return {**self.cells.state(), "m": self.m}

    def space(self):
        bound = self.params.n * self.params.M
        state_bits = self.table.size * bits_for_range(-bound, bound) + bits_for_range(0, bound)
        return Space(state_bits, self.cells.key_bits, nbytes_of(self.state()))

    def sketch(self):
        return self.table.reshape(-1).copy()

    @classmethod
    def sketch_columns(cls, params, state, columns):
        return BucketTable.matrix(state, columns)

    # -- the cover-set interface (markelon-2023) ----------------------------------------------
    @classmethod
    def row_cells(cls, params, state, keys) -> np.ndarray:
        """The counter each key updates in each row, shape ``(depth, len(keys))``."""
        return BucketTable.cells(state, keys)

    @staticmethod
    def rows_to_cover(depth: int) -> int:
        """How many rows must hold a colliding item to make an absent item look heavy."""
        return depth // 2 + 1  # a median over rows: a majority
