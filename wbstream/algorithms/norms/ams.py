"""The AMS (Alon–Matias–Szegedy) F2 sketch with a median-of-means estimator.

``means x medians`` counters ``y_r = sum_i s_r(i) x_i`` with 4-wise independent
signs; the estimate is the median over groups of the mean of ``y_r^2`` within a
group. Unbiased with variance at most ``2 F2^2 / means`` per group, so
``means = O(1/eps^2)`` and ``medians = O(log 1/delta)`` give 1 ± eps with
probability 1 - delta, against oblivious streams.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.hashing import PolynomialHash
from wbstream.engine.errors import at_least
from wbstream.engine.algorithm import LinearSketch, Space, bits_for_range, nbytes_of
from wbstream.engine.chunking import chunk_for
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS


@algorithms.register
class AMS(LinearSketch):
    """AMS F2 sketch.

    >>> from wbstream.engine.coins import Coins
    >>> p = F2Estimation(n=1000, M=100, eps=0.5)
    >>> ams = AMS(p.params, Coins.from_seed(2, "doc"), means=16, medians=5)
    >>> ams.update(np.arange(1000), np.full(1000, 3))
    >>> 0.5 * 9000 <= ams.query() <= 1.5 * 9000
    True
    """

    name = "ams"

    computed_defaults = {"means": "ceil(4 / eps^2)"}
    problem = F2Estimation
    claims = OBLIVIOUS
    per_query = True
    guarantee = ("each answer: F2 within 1 ± eps with probability 1 - delta (delta from `medians`) against "
                 "oblivious streams only; a per-query guarantee, judged on the rate of failed queries")
    arena_problem = "f2(n=2048, M=1024, eps=0.5)"

    def __init__(self, params, coins, *, means: int = 0, medians: int = 5):
        super().__init__(params, coins)
        means = means or math.ceil(4 / params.eps**2)
        at_least("ams", means=(means, 1), medians=(medians, 1))
        self.means, self.medians = int(means), int(medians)
        self.sign_hash = PolynomialHash.draw(coins, "ams/signs", rows=self.means * self.medians, independence=4)
        self.y = np.zeros(self.means * self.medians, dtype=np.int64)
        self.update_chunk = chunk_for(24 * self.y.size)  # the signs and their hashing: ~3 words per row and update

    def update(self, indices, deltas):
        self.y += self.sign_hash.signs(indices) @ deltas

    def query(self) -> float:
        sq = self.y.astype(np.float64) ** 2
        return float(np.median(sq.reshape(self.medians, self.means).mean(axis=1)))

    def state(self):
        return {"counters": self.y, "sign_coefficients": self.sign_hash.coefficients}

    def space(self):
        bound = self.params.n * self.params.M
        return Space(self.y.size * bits_for_range(-bound, bound), self.sign_hash.key_bits, nbytes_of(self.state()))

    def merge_moduli(self):
        return {"counters": None}

    def sketch(self):
        return self.y.copy()

    @classmethod
    def sketch_columns(cls, params, state, columns):
        return PolynomialHash(np.asarray(state["sign_coefficients"])).signs(np.asarray(columns, dtype=np.int64))
