"""Attacks on the adaptive-robust F2 estimators that run many AMS copies.

``gaussian-queries`` is the oblivious control for ``hardt-woodruff-2013``: the same
queries (a Gaussian vector inserted, then deleted) drawn without looking at any
answer, so a sketch that errs under the attack but not under this stream errs
because the queries were adaptive.

``copy-cancellation`` is the white-box attack on sketch switching and on DP
aggregation. Those constructions hide *which* randomness the next answer comes
from, not the randomness itself: ``state()`` holds every copy's signs. The
attacker reads the copies that decide the next answer (the active copy, and the
next one if a drift would switch to it; for DP aggregation all of them), and
builds ``x`` in ``{-M, 0, M}^t`` greedily, one coordinate at a time, choosing the
sign that keeps the stacked counters ``S x`` shortest (a discrepancy walk:
``||S x||^2`` stays near ``rows^2 M^2`` while ``F2(x) = t M^2`` grows). Every
deciding copy then estimates far below ``F2(x)``, in the same direction, so the
published answer is too small. It needs a turnstile problem (the signs of ``x``
are mixed) and ``t`` well above the number of deciding rows.
"""

from __future__ import annotations

import numpy as np

from wbstream.adversaries.hardt_woodruff import MAX_N
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import NotApplicableError
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import OBLIVIOUS, WHITE_BOX


@adversaries.register
class GaussianQueries(Adversary):
    """Insert a Gaussian vector, then delete it, ``queries`` times: hardt-woodruff-2013's probes, obliviously.

    >>> from wbstream.engine.game import Game
    >>> r = Game("f2(n=32, M=1024, alpha=4)", "ams(means=8, medians=3)", "gaussian-queries(queries=50)",
    ...          "oblivious", seed=0).play()
    >>> r.rounds, r.failed
    (100, False)
    """

    name = "gaussian-queries"
    needs = OBLIVIOUS
    #: Built-in arena suites play it for 1,000 rounds (about 500 queries), which keeps a game
    #: against the many-copy robust sketches to a few seconds; ``docs/robust-matrix.py``
    #: measures the separation itself at 10,000 rounds.
    arena_rounds = 1_000

    def __init__(self, *, queries: int = 1000):
        if queries < 0:
            raise ValueError("gaussian-queries needs queries >= 0")
        self.queries = queries

    def applies_to(self, algorithm_cls, problem_cls):
        if not (isinstance(problem_cls, type) and issubclass(problem_cls, F2Estimation)):
            return False, "it is the oblivious control for hardt-woodruff-2013 on F2 problems"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        if getattr(params, "insertion_only", False):
            raise NotApplicableError("gaussian-queries deletes every query: it needs a turnstile f2 problem")
        n = min(params.n, MAX_N)
        self.coords = np.sort(rng.choice(params.n, size=n, replace=False)).astype(np.int64)
        self.made, self.q = 0, None

    def act(self, obs):
        if self.q is not None:
            q, self.q = self.q, None
            return Batch(self.coords[q != 0], -q[q != 0])
        if self.made >= self.queries:
            return None
        self.made += 1
        M = self.params.M
        self.q = np.clip(np.rint(self.rng.standard_normal(len(self.coords)) * (M / 4)), -M, M).astype(np.int64)
        return Batch(self.coords[self.q != 0], self.q[self.q != 0])


def cancelling_signs(S: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Signs ``e`` in ``{-1, +1}^t`` chosen greedily so ``start + S e`` stays short.

    >>> S = np.random.default_rng(0).choice([-1, 1], size=(8, 400))
    >>> e = cancelling_signs(S); bool(np.sum((S @ e) ** 2) < 0.1 * 400 * 8)
    True
    """
    y = np.zeros(S.shape[0], dtype=np.int64) if start is None else np.asarray(start, dtype=np.int64).copy()
    e = np.empty(S.shape[1], dtype=np.int64)
    for j in range(S.shape[1]):
        col = S[:, j]
        e[j] = -1 if int(y @ col) > 0 else 1
        y += e[j] * col
    return e


@adversaries.register
class CopyCancellation(Adversary):
    """Read the deciding AMS copies' signs from the state; stream ``M e`` with ``e`` cancelling them.

    ``coordinates``: how many coordinates ``x`` uses (0: ``min(n, 16 x deciding rows)``).

    >>> from wbstream.engine.game import Game
    >>> r = Game("f2(n=4096, M=16, alpha=4)", "switching-f2(copies=8, means=8, medians=3)",
    ...          "copy-cancellation", seed=0).play()
    >>> r.failed, r.failure_kind
    (True, 'out-of-factor')
    """

    name = "copy-cancellation"
    needs = WHITE_BOX

    def __init__(self, *, coordinates: int = 0):
        if coordinates < 0:
            raise ValueError("copy-cancellation needs coordinates >= 0")
        self.coordinates = coordinates

    def applies_to(self, algorithm_cls, problem_cls):
        if not hasattr(algorithm_cls, "answering_copies"):
            return False, "it attacks algorithms that reveal AMS copies one decision at a time (answering_copies)"
        if getattr(problem_cls, "insertion_only", False):
            return False, "the cancelling vector has mixed signs: it needs a turnstile problem"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        if getattr(params, "insertion_only", False):
            raise NotApplicableError("copy-cancellation needs a turnstile problem (the cancelling vector has mixed signs)")
        self.done = False
        self.deciding_rows = 0

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        cls, state, params = obs.algorithm.cls, obs.state(), obs.params
        copies = cls.answering_copies(state)
        rows = cls.copy_sign_columns(params, state, copies, np.zeros(1, dtype=np.int64)).shape[0]
        self.deciding_rows = rows
        t = min(params.n, self.coordinates or 16 * rows)
        cols = np.sort(self.rng.choice(params.n, size=t, replace=False)).astype(np.int64)
        y, signs = np.zeros(rows, dtype=np.int64), []
        for start in range(0, t, 256):  # the sign matrix in blocks of columns: memory O(rows), not O(rows t)
            block = cls.copy_sign_columns(params, state, copies, cols[start:start + 256])
            e = cancelling_signs(block, y)
            y += block @ e
            signs.append(e)
        return Batch(cols, params.M * np.concatenate(signs))
