"""Frequent Directions (Liberty 2013; Ghashami–Liberty–Phillips–Woodruff 2016): deterministic.

A buffer B of ``2 ell`` rows. Rows are copied into its empty rows; when it is full,
``B = U diag(sigma) V^T`` is replaced by ``diag(sqrt(max(sigma^2 - delta, 0))) V^T`` with
``delta = sigma_ell^2`` (the ell-th largest), which empties at least ell + 1 rows.

**Bound, for every stream and every k < ell.** A shrink changes ``B^T B`` by at most
delta in spectral norm and lowers ``||B||_F^2`` by at least ``ell delta`` (the top ell
squared singular values each lose delta). Summing over shrinks, ``||A^T A - B^T B||_2 <=
sum delta`` and ``ell sum delta <= ||A||_F^2 - ||B||_F^2 <= ||A - A_k||_F^2 + k sum delta``,
so ``||A^T A - B^T B||_2 <= ||A - A_k||_F^2 / (ell - k)``. No randomness: nothing for a
white-box adversary to exploit.
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.matrix_problems import CovarianceSketch, LowRankApproximation
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX

from .projections import ROW_ARENA_PROBLEM


@algorithms.register
class FrequentDirections(StreamingAlgorithm):
    """Frequent Directions with a 2 ell-row buffer; ``ell`` defaults to the problem's.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.matrix_problems import LowRankApproximation
    >>> from wbstream.engine.stream import RowBatch
    >>> p = LowRankApproximation(cols=4, k=1, ell=2, M=100)
    >>> fd = FrequentDirections(p.params, Coins.from_seed(0, "doc"))
    >>> b = RowBatch(np.tile([[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]], (5, 1)))
    >>> p.apply(b); fd.update(b.indices, b.deltas)
    >>> p.judge(fd.query()).correct, fd.state()["B"].shape
    (True, (4, 4))
    """

    name = "frequent-directions"

    computed_defaults = {"ell": "the problem's ell"}
    problem = LowRankApproximation
    arena_problem = ROW_ARENA_PROBLEM
    claims = WHITE_BOX
    guarantee = "||A^T A - B^T B||_2 <= ||A - A_k||_F^2 / (ell - k) on every stream (deterministic)"

    def __init__(self, params, coins, *, ell: int = 0):
        super().__init__(params, coins)
        self.ell = int(ell) or params.ell
        if self.ell <= params.k:
            raise ValueError(f"frequent-directions: ell = {self.ell} must exceed k = {params.k}")
        self.B = np.zeros((2 * self.ell, params.cols), dtype=np.float64)
        self.filled = 0
        self.shrinks = 0

    def _shrink(self) -> None:
        _, sigma, vt = np.linalg.svd(self.B, full_matrices=False)
        if len(sigma) >= self.ell:
            keep, delta = self.ell - 1, sigma[self.ell - 1] ** 2
        else:  # cols < ell: rotating to diag(sigma) V^T frees rows without losing anything
            keep, delta = len(sigma), 0.0
        kept = np.sqrt(np.maximum(sigma[:keep] ** 2 - delta, 0.0))
        self.B[:] = 0.0
        self.B[:keep] = kept[:, None] * vt[:keep]
        self.filled = keep
        self.shrinks += 1

    def update(self, indices, deltas):
        rows = np.asarray(deltas, dtype=np.float64).reshape(-1, self.params.cols)
        start = 0
        while start < len(rows):
            if self.filled == len(self.B):
                self._shrink()
            take = min(len(self.B) - self.filled, len(rows) - start)
            self.B[self.filled:self.filled + take] = rows[start:start + take]
            self.filled += take
            start += take

    def query(self):
        return CovarianceSketch(self.B[: self.filled])

    def state(self):
        return {"B": self.B, "filled": self.filled, "shrinks": self.shrinks}

    def space(self):
        return Space(self.B.size * 64 + 64, 0, nbytes_of(self.state()))
