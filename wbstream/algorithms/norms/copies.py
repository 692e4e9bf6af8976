"""Independent AMS copies: the shared machinery of the adaptive-robust F2 estimators.

Both robust constructions (sketch switching, :mod:`wbstream.algorithms.norms.switching`;
differential-privacy aggregation, :mod:`wbstream.algorithms.norms.dp_f2`) run many
independent AMS sketches over the same stream and differ only in how they reveal
them. The copies live in one counter array and one 4-wise independent sign hash
(``copies x medians x means`` rows), so an update is one batched product.

The accuracy bands follow the problem's factor. With the problem accepting an
answer ``A`` when ``A / F2`` lies in ``[L, H]`` (``1 ± eps``, or ``1/alpha .. alpha``),
write ``ell = min(ln H, -ln L)``. Each copy is asked to be within ``e^(± ell/4)``
(AMS ``means = ceil(4 / a^2)`` with ``a = 1 - e^(-ell/4)``), and the published answer
may drift from the truth by ``e^(± 3 ell/4)`` before it is refreshed, so a published
answer is within ``e^(± ell)`` of F2 while its copy is accurate. Between two
refreshes the truth itself moves by at least ``e^(ell/4)``, so an insertion-only
stream whose F2 grows from 1 to at most ``n M^2`` refreshes at most
``lambda = ceil(4 ln(n M^2) / ell) + 1`` times: the stream's flip number
[BJWY20, definition 3.2] at that granularity.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.hashing import PolynomialHash
from wbstream.engine.algorithm import bits_for_range
from wbstream.engine.chunking import DEFAULT_CHUNK, chunk_for

#: Sign columns are cached (float64, n x rows, for one BLAS product per batch) below this many bytes.
SIGN_CACHE_BYTES = 64 << 20


def log_band(params) -> float:
    """``ell``: the half-width, in log space, of the factor band the problem accepts.

    >>> from wbstream.engine.problems import F2Estimation
    >>> round(log_band(F2Estimation(n=8, M=4, eps=0.5).params), 4), round(log_band(F2Estimation(n=8, M=4, alpha=4).params), 4)
    (0.4055, 1.3863)
    """
    alpha = params.get("alpha")
    if alpha:
        return math.log(alpha)
    eps = params.eps
    return min(math.log1p(eps), -math.log1p(-eps))


def default_means(params) -> int:
    """AMS means per group so one copy is within ``e^(± ell/4)`` (variance ``2 F2^2 / means``)."""
    a = 1 - math.exp(-log_band(params) / 4)
    return math.ceil(4 / a**2)


def flip_number(params) -> int:
    """``lambda = ceil(4 ln(n M^2) / ell) + 1``: refreshes of an insertion-only stream (module docstring).

    >>> from wbstream.engine.problems import F2Estimation
    >>> flip_number(F2Estimation(n=32, M=1024, alpha=4, insertion_only=True).params)
    51
    """
    return math.ceil(4 * math.log(params.n * params.M**2) / log_band(params)) + 1


class AMSCopies:
    """``copies`` independent AMS sketches (``medians`` groups of ``means`` counters each).

    >>> from wbstream.engine.coins import Coins
    >>> c = AMSCopies(Coins.from_seed(0, "doc"), "doc/signs", copies=3, means=16, medians=3, n=100)
    >>> c.update(np.arange(100), np.full(100, 2))
    >>> est = c.estimates(); est.shape, bool(np.all((200 < est) & (est < 800)))
    ((3,), True)
    """

    def __init__(self, coins, label: str, *, copies: int, means: int, medians: int, n: int):
        if copies < 1 or means < 1 or medians < 1:
            raise ValueError(f"AMS copies need copies, means and medians >= 1, got {copies}, {means}, {medians}")
        self.copies, self.means, self.medians = int(copies), int(means), int(medians)
        self.rows = self.copies * self.means * self.medians
        self.sign_hash = PolynomialHash.draw(coins, label, rows=self.rows, independence=4)
        self.y = np.zeros(self.rows, dtype=np.int64)
        # Small universes: the sign columns are computed once (derived from the key, not extra randomness).
        self._cache = None
        if 8 * self.rows * n <= SIGN_CACHE_BYTES:
            self._cache = np.ascontiguousarray(self.sign_hash.signs(np.arange(n, dtype=np.int64)).T, dtype=np.float64)
        # Cached: a dense batch costs O(n + rows) whatever its length, a sparse one (under n/4 updates)
        # gathers at most a quarter of the cache, so long chunks are fine; else ~3 words per row and update.
        self.update_chunk = DEFAULT_CHUNK if self._cache is not None else chunk_for(24 * self.rows)

    def update(self, indices, deltas) -> None:
        deltas = np.asarray(deltas, dtype=np.int64)
        if self._cache is not None:  # exact: |sum| <= chunk * M, far below 2^53
            n = self._cache.shape[0]
            if 4 * len(indices) >= n:  # a dense batch: one product with the whole cache, no gather
                dense = np.bincount(indices, weights=deltas.astype(np.float64), minlength=n)
                self.y += np.rint(dense @ self._cache).astype(np.int64)
            else:
                self.y += np.rint(deltas.astype(np.float64) @ self._cache[indices]).astype(np.int64)
        else:
            self.y += self.sign_hash.signs(indices) @ deltas

    def counters(self, copy: int) -> np.ndarray:
        per = self.means * self.medians
        return self.y[copy * per:(copy + 1) * per]

    def estimates(self) -> np.ndarray:
        """Every copy's median-of-means estimate of F2."""
        sq = self.y.astype(np.float64).reshape(self.copies, self.medians, self.means) ** 2
        return np.median(sq.mean(axis=2), axis=1)

    def estimate(self, copy: int) -> float:
        sq = self.counters(copy).astype(np.float64).reshape(self.medians, self.means) ** 2
        return float(np.median(sq.mean(axis=1)))

    def state_bits(self, params) -> int:
        bound = params.n * params.M
        return self.y.size * bits_for_range(-bound, bound)

    def cache_nbytes(self) -> int:
        return 0 if self._cache is None else self._cache.nbytes


def copy_sign_columns(state, copies, columns) -> np.ndarray:
    """The sign matrix of the given copies on ``columns`` (their rows stacked), from a state's
    ``sign_coefficients`` and ``copy_shape`` (copies, medians, means).

    >>> from wbstream.engine.coins import Coins
    >>> c = AMSCopies(Coins.from_seed(0, "doc"), "doc/signs", copies=3, means=4, medians=2, n=10)
    >>> state = {"sign_coefficients": c.sign_hash.coefficients, "copy_shape": np.array([3, 2, 4])}
    >>> copy_sign_columns(state, [1, 2], [0, 5]).shape
    (16, 2)
    """
    _, medians, means = (int(v) for v in state["copy_shape"])
    per = means * medians
    rows = np.concatenate([np.arange(c * per, (c + 1) * per) for c in copies])
    coef = np.asarray(state["sign_coefficients"])[rows]
    return PolynomialHash(coef).signs(np.asarray(columns, dtype=np.int64))
