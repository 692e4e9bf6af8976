"""Rank within a factor alpha on top of ``robust-rank`` (docs/references.md#fjw24, as L0 sits on sparse recovery).

With ``n = min(rows, cols)`` and ``k = ceil(n / alpha^2)``, run rank-k recovery with
detection. If it returns X̂ (then X̂ = X), answer rank(X̂) exactly; if it answers
``NOT_LOW_RANK``, the true rank lies in ``(k, n]`` and ``n / alpha`` is within a
factor alpha of it: ``(n/alpha) / rank <= (n/alpha) / (n/alpha^2) = alpha`` and
``(n/alpha) / rank >= 1/alpha``. Space Õ(k (rows + cols)) = Õ(n^2 / alpha^2) for a
square matrix, plus the tester.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.algorithm import StreamingAlgorithm
from wbstream.linalg.fp import integer_rank
from wbstream.engine.matrix_problems import MatrixRank, RankRecovery
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX

from .robust import RobustRank


@algorithms.register
class RobustRankApprox(StreamingAlgorithm):
    """rank(X) within a factor alpha from ``robust-rank`` with k = ceil(min(rows, cols) / alpha^2).

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.matrix_problems import MatrixRank
    >>> p = MatrixRank(rows=8, cols=8, M=100, alpha=2.0)
    >>> alg = RobustRankApprox(p.params, Coins.from_seed(0, "doc"))
    >>> alg.k, alg.query()
    (2, 0.0)
    >>> alg.update(np.array([0, 9, 18]), np.array([5, 5, 5]))      # rank 3 > k: answer n / alpha
    >>> alg.query()
    4.0
    """

    name = "robust-rank-approx"
    problem = MatrixRank
    arena_problem = "matrix-rank(rows=8, cols=8, M=1024, alpha=2.0)"
    claims = WHITE_BOX
    guarantee = "rank(X) within a factor alpha against PPT white-box adversaries (robust-rank, k = n / alpha^2)"

    def __init__(self, params, coins, *, preset: str = "toy"):
        super().__init__(params, coins)
        alpha = params.alpha
        if alpha is None or alpha <= 1:
            raise ValueError(f"robust-rank-approx needs a factor alpha > 1, got {alpha}")
        self.n = min(params.rows, params.cols)
        self.k = math.ceil(self.n / alpha ** 2)
        if self.k >= self.n:
            raise ValueError(f"alpha = {alpha} gives k = ceil(n / alpha^2) = {self.k} >= n = {self.n}: "
                             f"nothing to save; use alpha > sqrt(n / (n - 1))")
        inner = RankRecovery(rows=params.rows, cols=params.cols, k=self.k, M=params.M).params
        self.inner = RobustRank(inner, coins, preset=preset)
        self.estimate = self.n / alpha

    @classmethod
    def security_for(cls, params, *, preset: str = "toy", **_):
        alpha = params.alpha
        if alpha is None or alpha <= 1:
            return None
        k = math.ceil(min(params.rows, params.cols) / alpha ** 2)
        return RobustRank.security_for(RankRecovery(rows=params.rows, cols=params.cols, k=k, M=params.M).params,
                                       preset=preset)

    def security(self):
        return self.inner.security()

    def update(self, indices, deltas):
        self.inner.update(indices, deltas)

    def query(self):
        X = self.inner.query()
        return float(integer_rank(X)) if isinstance(X, np.ndarray) else self.estimate

    def state(self):
        return {**self.inner.state(), "k": self.k}

    def space(self):
        return self.inner.space()
