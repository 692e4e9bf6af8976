"""White-box kernel attacks on low-rank sketches (docs/references.md#fjw24).

* ``projection-kernel``: against a projection sketch ``B = S A`` whose key sits in the
  state. The adversary rebuilds the columns of S for the next ``size + 1 + extra``
  rows, takes a unit u in their kernel and a random unit v, and sends
  ``A = beta u v^T + noise``. B is the sketch of the noise alone, so the answered
  subspace misses v and the projection cost is about ``beta^2 ||u||^2`` while
  ``||A - A_k||_F^2`` is at most the noise: the guarantee breaks.
* ``rank-one-kernel``: against rank-k recovery with detection. It looks for a
  rank-one integer ``u v^T`` in the kernel of the relaxed recovery's sketch: short
  kernel vectors of the one-sided sketches when the algorithm has them
  (``naive-rank``: finite differences of order 2k, else lattice reduction), and the
  finite-difference pair (docs/references.md#finite-difference) in any case, each checked against the
  real sketch rebuilt from the state. ``naive-rank`` decodes such a matrix to 0 and
  answers ``NOT_LOW_RANK`` on a rank-one matrix. Against ``robust-rank`` no rank-one
  matrix is in the kernel (its syndromes are ``U V^[l] != 0``); the attack streams its
  best candidate anyway and the answer is exact. ``extra_rank`` adds a visible random
  integer part of that rank (``extra_rank = k`` makes the total rank k + 1).
"""

from __future__ import annotations

import numpy as np

from wbstream.adversaries.finite_difference import finite_difference_vector
from wbstream.adversaries.reduction import fpylll_available, short_kernel_vectors
from wbstream.algorithms.lowrank.projections import RowProjectionSketch
from wbstream.algorithms.lowrank.robust import TestedRankRecovery
from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch, RowBatch
from wbstream.engine.threat import WHITE_BOX


@adversaries.register
class ProjectionKernel(Adversary):
    """Hide ``beta u v^T`` in the kernel of a projection sketch's next columns (one batch of rows).

    ``beta`` defaults to M/2; ``noise`` is the standard deviation of the Gaussian rows
    added to it; ``extra`` more rows than the sketch size plus one.

    >>> from wbstream.engine.game import Game
    >>> r = Game("low-rank-approx(cols=16, k=2, ell=8, eps=0.5, M=1000)", "gaussian-projection",
    ...          "projection-kernel", seed=1).play()
    >>> r.failed, r.failure_kind
    (True, 'projection-cost')
    """

    name = "projection-kernel"

    computed_defaults = {"beta": "M / 2"}
    needs = WHITE_BOX
    stream_kind = "rows"

    def __init__(self, *, extra: int = 4, noise: float = 1.0, beta: float = 0.0):
        at_least("projection-kernel", extra=(extra, 0), noise=(noise, 0), beta=(beta, 0))
        self.extra, self.noise, self.beta = extra, noise, beta

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(algorithm_cls, type) and issubclass(algorithm_cls, RowProjectionSketch)):
            return False, "it is not a projection sketch B = S A whose columns can be rebuilt from its state"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.residual = float("nan")  # max |S u| on the rows sent

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        params, state, cls = obs.params, obs.state(), obs.algorithm.cls
        size, d = state["B"].shape
        start = int(state["row_count"])
        n = size + 1 + self.extra
        S = cls.sketch_rows(params, state, np.arange(start, start + n))
        kernel = np.linalg.svd(S, full_matrices=True)[2][size:]          # orthonormal basis of ker S
        u = self.rng.standard_normal(len(kernel)) @ kernel
        u /= np.abs(u).max()
        self.residual = float(np.abs(S @ u).max())
        v = self.rng.standard_normal(d)
        v /= np.abs(v).max()
        beta = self.beta or params.M / 2
        noise = np.clip(self.noise * self.rng.standard_normal((n, d)), -params.M / 4, params.M / 4)
        return RowBatch(np.clip(beta * np.outer(u, v) + noise, -params.M, params.M))


def _placed(vector: np.ndarray, length: int, offset: int) -> np.ndarray:
    out = np.zeros(length, dtype=np.int64)
    out[offset:offset + len(vector)] = vector
    return out


def short_kernel_candidates(A: np.ndarray, p: int, k: int, bound: int) -> list[np.ndarray]:
    """Short integer vectors z with ``A z = 0 mod p``: shifted finite differences of order 2k, then LLL.

    >>> from wbstream.algorithms.sparse.vandermonde import vandermonde_columns
    >>> S = vandermonde_columns(np.arange(6), 2, 101)          # 2 x 6, alpha = r + 1
    >>> short_kernel_candidates(S, 101, 1, 10)[0].tolist()
    [1, -2, 1, 0, 0, 0]
    """
    n = A.shape[1]
    fd = finite_difference_vector(k)
    out = [z for z in (_placed(fd, n, o) for o in range(n - len(fd) + 1)) if not ((A @ z) % p).any()]
    if not out and fpylll_available():
        out = [z for z in short_kernel_vectors(A, modulus=p) if 0 < np.abs(z).max() <= bound]
    return out


@adversaries.register
class RankOneKernel(Adversary):
    """Stream a rank-one ``u v^T`` from the kernel of the relaxed recovery (plus a visible part of rank ``extra_rank``).

    >>> from wbstream.engine.game import Game
    >>> r = Game("rank-recovery(rows=6, cols=6, k=2, M=1024)", "naive-rank", "rank-one-kernel", seed=0).play()
    >>> r.failed, r.failure_kind
    (True, 'false-not-low-rank')
    >>> Game("rank-recovery(rows=6, cols=6, k=2, M=1024)", "robust-rank(preset='toy')", "rank-one-kernel", seed=0).play().failed
    False
    """

    name = "rank-one-kernel"
    needs = WHITE_BOX

    def __init__(self, *, extra_rank: int = 0):
        if extra_rank < 0:
            raise ValueError(f"rank-one-kernel needs extra_rank >= 0, got {extra_rank}")
        self.extra_rank = extra_rank

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(algorithm_cls, type) and issubclass(algorithm_cls, TestedRankRecovery)):
            return False, "it is not a rank-k recovery with a relaxed recovery and a tester (TestedRankRecovery)"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.outcome = "not run"

    def _candidates(self, cls, params, state, bound):
        R, C, k = params.rows, params.cols, params.k
        pairs = []
        if hasattr(cls, "one_sided_sketches"):
            S, Tt, p = cls.one_sided_sketches(params, state)
            us, vs = short_kernel_candidates(S, p, k, bound), short_kernel_candidates(Tt, p, k, bound)
            pairs += [(u, v) for u in us[:2] for v in vs[:2]]
        fd = finite_difference_vector(k)
        if len(fd) <= min(R, C):
            pairs.append((_placed(fd, R, 0), _placed(fd, C, 0)))
        return pairs

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        params, state, cls = obs.params, obs.state(), obs.algorithm.cls
        R, C, M = params.rows, params.cols, params.M
        e = self.extra_rank
        visible = (self.rng.integers(-1, 2, size=(R, e)) @ self.rng.integers(-1, 2, size=(e, C))) if e else 0
        room = M - (int(np.abs(visible).max()) if e else 0)
        chosen = None
        for u, v in self._candidates(cls, params, state, max(1, int(np.sqrt(max(room, 1))))):
            X = np.outer(u, v)
            if not X.any() or np.abs(X).max() > room:
                continue
            idx = np.flatnonzero(X)
            L, p = cls.recovery_columns(params, state, idx)
            if not ((L @ X.ravel()[idx]) % p).any():
                chosen = X
                self.outcome = "a rank-one matrix in the kernel of the relaxed recovery"
                break
            if chosen is None:
                chosen = X
                self.outcome = "no rank-one matrix in the kernel of the relaxed recovery; streamed one anyway"
        if chosen is None:
            self.outcome = f"no candidate fits |X| <= M = {M}"
            return None
        total = chosen + visible
        idx = self.rng.permutation(np.flatnonzero(total)).astype(np.int64)
        return Batch(idx, total.ravel()[idx].astype(np.int64))
