"""The exact baseline: a dense copy of x. Correct by construction, Θ(n) space."""

from __future__ import annotations

import numpy as np

from wbstream.engine.algorithm import Space, StreamingAlgorithm, bits_for_range
from wbstream.engine.problems import Problem
from wbstream.engine.registry import algorithms, problems
from wbstream.engine.threat import WHITE_BOX


@algorithms.register
class Exact(StreamingAlgorithm):
    """Keeps x exactly and answers any vector problem from it.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import SparseRecovery
    >>> p = SparseRecovery(n=8, k=2, M=4)
    >>> alg = Exact(p.params, Coins.from_seed(0, "doc"))
    >>> alg.update(np.array([2, 5]), np.array([3, -1]))
    >>> alg.query()
    SparseVector(indices=[2, 5], values=[3, -1])
    """

    name = "exact"
    problem = Problem
    claims = WHITE_BOX
    guarantee = "always correct (deterministic, n words)"

    def __init__(self, params, coins):
        super().__init__(params, coins)
        self.x = np.zeros(params.n, dtype=np.int64)
        # A private instance of the problem, used only for its exact_answer rule.
        self._answerer = problems.get(params.kind)(**params)

    def update(self, indices, deltas):
        np.add.at(self.x, indices, deltas)

    def query(self):
        return self._answerer.exact_answer(self.x)

    def state(self):
        return {"x": self.x}

    def space(self):
        M = self.params.M
        return Space(self.params.n * bits_for_range(-M, M), 0, self.x.nbytes)
