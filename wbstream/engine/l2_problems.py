"""ℓ2 heavy hitters over a turnstile stream: the problem CountSketch answers natively.

Report every ``i`` with ``|x_i| >= eps ||x||_2`` and no ``i`` with
``|x_i| <= (eps/2) ||x||_2``; indices in between may go either way. Unlike the
L1 :class:`~wbstream.engine.problems.HeavyHitters`, deletions are allowed, which
is what the adaptive attacks of the robust-streaming literature need: each of
their queries is a fresh vector, inserted, asked about and deleted again.

>>> p = L2HeavyHitters(n=10, M=100, eps=0.5)
>>> p.apply(as_batch([1, 2, 3], [8, 3, -1]))
>>> p.exact_answer(p.x).tolist(), p.judge([1]).correct, p.judge([1, 3]).kind
([1], True, 'false-heavy')
>>> p.judge([]).kind
'missed-heavy'
"""

from __future__ import annotations

import numpy as np

from .problems import Problem, Verdict, _index_set
from .registry import problems
from .stream import as_batch  # noqa: F401  (doctest)

__all__ = ["L2HeavyHitters"]

_OK = Verdict(True, None, "every l2 heavy hitter reported and no light one")


@problems.register
class L2HeavyHitters(Problem):
    """ℓ2 heavy hitters, turnstile: every ``|x_i| >= eps ||x||_2`` reported, none ``<= eps/2 ||x||_2``.

    The answer is the set of reported indices (as for L1 heavy hitters). The
    referee keeps ``||x||_2^2`` exactly.
    """

    name = "l2-heavy-hitters"
    tracks_sumsq = True

    def __init__(self, *, n: int = 1024, M: int = 1 << 20, eps: float = 0.5):
        if not 0 < eps < 1:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        if n * M * M >= 2**63:
            raise ValueError(f"n * M^2 = {n * M * M} does not fit in int64; lower n or M")
        super().__init__(n=n, M=M, eps=float(eps))
        self.eps = float(eps)

    def _classes(self, x: np.ndarray, sumsq: float) -> tuple[np.ndarray, np.ndarray]:
        sq = x.astype(np.float64) ** 2
        return sq >= self.eps**2 * sumsq, sq <= (self.eps / 2) ** 2 * sumsq

    def exact_answer(self, x):
        x = np.asarray(x, dtype=np.int64)
        heavy, _ = self._classes(x, float(np.dot(x, x)))
        return np.flatnonzero(heavy & (x != 0)).astype(np.int64)

    def guarantee(self) -> str:
        return (f"every i with |x_i| >= eps ||x||_2 reported and none with |x_i| <= eps/2 ||x||_2 "
                f"(eps = {self.eps}; turnstile)")

    def judge(self, answer) -> Verdict:
        reported = _index_set(answer, self.n)
        if isinstance(reported, str):
            return Verdict(False, "malformed", reported)
        x, sumsq = self.x, float(self.sumsq)
        if sumsq == 0:
            if len(reported):
                return Verdict(False, "false-heavy", f"x = 0 but index {int(reported[0])} was reported")
            return _OK
        heavy, light = self._classes(x, sumsq)
        missed = np.setdiff1d(np.flatnonzero(heavy), reported, assume_unique=True)
        if len(missed):
            i = int(missed[0])
            return Verdict(False, "missed-heavy", f"index {i} has |x_i| = {abs(int(x[i]))} >= eps ||x||_2 = "
                           f"{self.eps * sumsq ** 0.5:.6g} but was not reported")
        wrong = reported[light[reported]]
        if len(wrong):
            i = int(wrong[0])
            return Verdict(False, "false-heavy", f"index {i} has |x_i| = {abs(int(x[i]))} <= eps/2 ||x||_2 = "
                           f"{self.eps / 2 * sumsq ** 0.5:.6g} but was reported"
                           + (f" ({len(wrong)} light indices reported)" if len(wrong) > 1 else ""))
        return _OK
