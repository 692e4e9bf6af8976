"""CountSketch for ℓ2 heavy hitters (Charikar, Chen, Farach-Colton 2002) with the median estimator.

``depth`` rows of ``width = ceil(32 / eps^2)`` signed buckets. Row r estimates
``x_i`` by ``s_r(i) * table[r, h_r(i)]``, with an error of standard deviation at
most ``||x||_2 / sqrt(width) = eps ||x||_2 / sqrt(32)``; it estimates ``||x||_2^2`` by
the sum of its squared buckets. The query reports every index whose median
estimate has ``|est_i| >= 3/4 eps F2^(1/2)`` (median over rows of the row F2
estimates): heavy indices clear it and light ones (``<= eps/2``) do not unless
half the rows err by a quarter of ``eps ||x||_2``, which an oblivious stream
makes unlikely (``depth = ceil(ln(n / 0.05))`` rows).

Against adaptive inputs the median estimator falls after O(depth) queries
(``cohen-2022``): answers reveal which side of the threshold a borderline key's
median landed on, and summing the random tails that pushed it up builds a vector
whose estimate for a zero key is large.

It is deliberately not a ``LinearSketch`` here: its ``depth x width`` rows
(1,280 at the arena's eps = 0.5) are far beyond what the lattice attacks reduce,
so the white-box kernel attacks would only burn the arena's time.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.bucket_table import BucketTable
from wbstream.algorithms.heavy.bucketed import default_depth
from wbstream.engine.errors import at_least
from wbstream.engine.chunking import chunk_for
from wbstream.engine.algorithm import Space, StreamingAlgorithm, bits_for_range, nbytes_of
from wbstream.engine.l2_problems import L2HeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

#: Width constant: ``width = ceil(WIDTH_FACTOR / eps^2)`` makes a row's error sd ``eps ||x|| / sqrt(32)``.
WIDTH_FACTOR = 32
#: A key is reported when its estimate reaches this fraction of ``eps * F2^(1/2)``.
REPORT_FRACTION = 0.75
#: Universes up to this size keep every key's cells in a cache (derived from the hash keys).
CACHE_LIMIT = 1 << 16


def _median_rows(votes: np.ndarray) -> np.ndarray:
    """The median over axis 0 (the mean of the two middle values for an even count), by partition."""
    d = votes.shape[0]
    mid = d // 2
    if d % 2:
        return np.partition(votes, mid, axis=0)[mid].astype(np.float64)
    part = np.partition(votes, (mid - 1, mid), axis=0)
    return (part[mid - 1].astype(np.float64) + part[mid]) / 2


@algorithms.register
class CountSketchL2(StreamingAlgorithm):
    """CountSketch ℓ2 heavy hitters: ``depth`` rows (0: ``ceil(ln(n/0.05))``) of ``width`` (0: ``ceil(32/eps^2)``).

    >>> from wbstream.engine.coins import Coins
    >>> p = L2HeavyHitters(n=1000, M=1000, eps=0.5)
    >>> cs = CountSketchL2(p.params, Coins.from_seed(1, "doc"))
    >>> cs.update(np.arange(1000), np.where(np.arange(1000) == 7, 400, 1))
    >>> cs.depth, cs.width, cs.query().tolist()
    (10, 128, [7])
    """

    name = "countsketch-l2"

    computed_defaults = {"depth": "ceil(ln(n / 0.05))", "width": "ceil(32 / eps^2)"}
    problem = L2HeavyHitters
    claims = OBLIVIOUS
    guarantee = ("every l2 heavy hitter reported and no light one w.h.p., against oblivious streams only "
                 "(median of signed bucket counts, threshold 3/4 eps F2^(1/2))")
    arena_problem = "l2-heavy-hitters(n=1024, M=1048576, eps=0.5)"

    def __init__(self, params, coins, *, depth: int = 0, width: int = 0):
        super().__init__(params, coins)
        width = width or math.ceil(WIDTH_FACTOR / params.eps**2)
        depth = depth or default_depth(params.n)
        at_least(self.name, depth=(depth, 1), width=(width, 2))
        self.depth, self.width = int(depth), int(width)
        self.cells = BucketTable(coins, self.name, depth=self.depth, width=self.width, signed=True)
        self.table = self.cells.table
        self.update_chunk = chunk_for(96 * self.depth)  # hashing temporaries, cells, signs: ~12 words per row and update
        self._cache = None  # (flat cells, signs) of every key: rebuilt from the hash keys, so not state

    def _all_votes(self) -> np.ndarray:
        if self._cache is None:
            keys = np.arange(self.params.n, dtype=np.int64)
            cells = self.cells.buckets.buckets(keys, self.width) + self.cells._offsets
            self._cache = (cells.astype(np.intp), self.cells.signs.signs(keys).astype(np.int8))
        cells, signs = self._cache
        return self.table.reshape(-1)[cells] * signs

    def update(self, indices, deltas):
        self.cells.add(indices, deltas)

    def f2_estimate(self) -> float:
        """The median over rows of each row's sum of squared buckets."""
        return float(np.median((self.table.astype(np.float64) ** 2).sum(axis=1)))

    def estimate(self, keys: np.ndarray) -> np.ndarray:
        """The median estimate of each key (float: the mean of the two middle rows for an even depth)."""
        return _median_rows(self.cells.votes(np.asarray(keys, dtype=np.int64)))

    def query(self) -> np.ndarray:
        threshold = REPORT_FRACTION * self.params.eps * math.sqrt(self.f2_estimate())
        if threshold == 0:
            return np.zeros(0, dtype=np.int64)
        if self.params.n > CACHE_LIMIT:
            return self.cells.scan(self.params.n, lambda keys, votes: np.abs(np.median(votes, axis=0)) >= threshold)
        return np.flatnonzero(np.abs(_median_rows(self._all_votes())) >= threshold).astype(np.int64)

    def state(self):
        return self.cells.state()

    def space(self):
        bound = self.params.n * self.params.M
        return Space(self.table.size * bits_for_range(-bound, bound), self.cells.key_bits, nbytes_of(self.state()))
