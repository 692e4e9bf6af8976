"""Oblivious planted low-rank streams, and an adaptive stream against row sketches.

* ``planted-low-rank`` (entries): an integer ``U V^T`` of a chosen rank (default: the
  problem's k) plus ``noise`` random ±1 entries, streamed in shuffled entry updates
  over ``rounds`` batches. With noise the rank is usually above k.
* ``planted-rows`` (rows): rows ``a_r = (g_r * signal) V^T + noise`` for a random
  orthonormal V of rank k: a strong rank-k signal under Gaussian noise.
* ``stale-subspace`` (rows, adaptive): each round reads the last answer (a subspace
  V, or B's top-k right singular vectors) and sends rows of growing norm orthogonal
  to it, so whatever the sketch kept is always out of date.
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.matrix_problems import CovarianceSketch, MatrixRank, RankRecovery, RowProjection
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch, RowBatch
from wbstream.engine.threat import ADAPTIVE, OBLIVIOUS


@adversaries.register
class PlantedLowRank(Adversary):
    """An integer matrix of rank ``rank`` (0: the problem's k, or 2) plus ``noise`` ±1 entries.

    >>> from wbstream.engine.game import Game
    >>> Game("rank-recovery(rows=8, cols=8, k=2, M=100)", "robust-rank(preset='toy')", "planted-low-rank", "oblivious").play().failed
    False
    """

    name = "planted-low-rank"

    computed_defaults = {"rank": "the problem's k, or 2"}
    needs = OBLIVIOUS

    def __init__(self, *, rank: int = 0, noise: int = 0, rounds: int = 4):
        at_least("planted-low-rank", rank=(rank, 0), noise=(noise, 0), rounds=(rounds, 1))
        self.rank, self.noise, self.rounds = rank, noise, rounds

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(problem_cls, type) and issubclass(problem_cls, (RankRecovery, MatrixRank))):
            return False, "it plants a low-rank integer matrix: the problem must be a matrix under entry updates"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        R, C, M = params.rows, params.cols, params.M
        r = min(self.rank or params.get("k", 2), min(R, C))
        # |sum of r products| <= r * a * b <= M - 1 (room for the ±1 noise)
        a = max(1, int(np.sqrt(max(1, (M - 1) // max(r, 1)))))
        U = rng.integers(-a, a + 1, size=(R, r))
        V = rng.integers(-a, a + 1, size=(r, C))
        X = U @ V
        X = np.clip(X, -(M - 1), M - 1)  # clipping can only matter when a = 1 and r > M - 1
        cells = rng.choice(R * C, size=min(self.noise, R * C), replace=False)
        X.ravel()[cells] += rng.choice(np.array([-1, 1]), size=len(cells))
        idx = rng.permutation(np.flatnonzero(X)).astype(np.int64)
        self.target = X
        self._parts = [Batch(i, X.ravel()[i].astype(np.int64)) for i in np.array_split(idx, self.rounds)]

    def act(self, obs):
        return self._parts[obs.round - 1] if obs.round <= len(self._parts) else None


@adversaries.register
class PlantedRows(Adversary):
    """``batch`` rows per round: a rank-k signal of strength ``signal`` plus Gaussian noise.

    >>> from wbstream.engine.game import Game
    >>> Game("low-rank-approx(cols=16, k=2, ell=8)", "frequent-directions", "planted-rows", "oblivious").play().failed
    False
    """

    name = "planted-rows"
    needs = OBLIVIOUS
    stream_kind = "rows"

    def __init__(self, *, rounds: int = 8, batch: int = 16, signal: float = 20.0, noise: float = 1.0):
        at_least("planted-rows", rounds=(rounds, 0), batch=(batch, 1), signal=(signal, 0), noise=(noise, 0))
        self.rounds, self.batch, self.signal, self.noise = rounds, batch, signal, noise

    def reset(self, params, rng):
        super().reset(params, rng)
        self.V = np.linalg.qr(rng.standard_normal((params.cols, params.k)))[0]
        self.strength = self.signal * np.linspace(1.0, 0.5, params.k)

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        g = self.rng.standard_normal((self.batch, self.params.k)) * self.strength
        rows = g @ self.V.T + self.noise * self.rng.standard_normal((self.batch, self.params.cols))
        return RowBatch(np.clip(rows, -self.params.M, self.params.M))


def answer_subspace(answer, k: int) -> np.ndarray | None:
    """An orthonormal basis of the subspace an answer keeps (None for anything else).

    >>> np.abs(answer_subspace(CovarianceSketch([[0.0, 2.0, 0.0]]), 1)).ravel().tolist()
    [0.0, 1.0, 0.0]
    """
    if isinstance(answer, RowProjection):
        return answer.V
    if isinstance(answer, CovarianceSketch) and len(answer.B):
        return np.linalg.svd(answer.B, full_matrices=False)[2][:k].T
    return None


@adversaries.register
class StaleSubspace(Adversary):
    """Adaptive: rows of growing norm orthogonal to the subspace of the last answer.

    >>> from wbstream.engine.game import Game
    >>> Game("low-rank-approx(cols=16, k=2, ell=8)", "frequent-directions", "stale-subspace", "adaptive").play().failed
    False
    """

    name = "stale-subspace"
    needs = ADAPTIVE
    stream_kind = "rows"

    def __init__(self, *, rounds: int = 30, batch: int = 3):
        at_least("stale-subspace", rounds=(rounds, 0), batch=(batch, 1))
        self.rounds, self.batch = rounds, batch

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        d, M = self.params.cols, self.params.M
        answers = obs.answers
        Q = answer_subspace(answers[-1][1], self.params.k) if answers else None
        g = self.rng.standard_normal((self.batch, d))
        if Q is not None:
            g -= (g @ Q) @ Q.T
        g /= np.maximum(np.abs(g).max(axis=1, keepdims=True), 1e-300)
        scale = M * (obs.round / max(self.rounds, 1)) * self.rng.uniform(0.5, 1.0, size=(self.batch, 1))
        return RowBatch(np.clip(g * scale, -M, M))
