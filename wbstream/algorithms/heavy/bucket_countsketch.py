"""BucketCountSketch with the sign-alignment estimator (Cohen, Lyu, Nelson, Sarlós, Shechner, Stemmer, ICML 2022).

Edith Cohen, Xin Lyu, Jelani Nelson, Tamás Sarlós, Moshe Shechner, Uri Stemmer.
*On the Robustness of CountSketch to Adaptive Inputs.* ICML 2022, PMLR 162:4112–4140.

**The sketch.** ``rows`` (ℓ) rows of ``width`` (b) signed buckets, ``d = ℓ b`` in all. Unlike
CountSketch, a key lands in *each* bucket independently with probability ``1/b`` (with a random
sign), so it has about ℓ buckets, and the buckets are independent samples: the property the
paper's robustness argument (differential privacy over the buckets) needs.

**The estimator.** The paper's sign alignment asks, for key ``i``, what fraction of its buckets
``j`` have ``s_ij C_j`` of one sign. For the ``l2-heavy-hitters`` problem (heavy against the whole
``||x||_2``, not against the bucket noise) the sign is taken against a margin: a bucket votes up
when ``s_ij C_j >= tau``, down when ``<= -tau``, ``tau = 3/4 eps F2^(1/2)`` (F2 from the median over
rows of each row's sum of squared buckets; without the margin a light key alone in quiet buckets
would align fully). A bucket's noise has variance at most ``||x||^2 / b``, so by Cantelli's
inequality a heavy key (``|x_i| >= eps ||x||``) votes its way with probability at least
``1/2 + mu`` and a light key (``<= eps/2``) either way with at most ``1/2 - mu``,
``mu = 1/2 - 1/(1 + z^2)``, ``z = eps sqrt(b) / 4`` (the default ``b = ceil(128 / eps^2)`` gives
``mu`` about 0.39). Key ``i`` is reported when ``max(up, down) + Laplace(sqrt(Q))`` reaches half
its buckets: fresh Laplace noise per key and query, the paper's private-aggregation step that
makes ``Q`` queries cost the attacker about ``Q = O~(ℓ^2)`` [CLNSSS22, section 4] instead of
``O(ℓ)`` for the median estimator. (The noise scale ``sqrt(Q)`` is the composition's order;
the paper's constants and ``log(1/delta)`` factors are not reproduced.)

**The guarantee's bound.** Every answer of ``Q`` queries is right with probability ``1 - beta``
(``beta = 0.05``) when a key's vote count stays within ``mu ℓ/2`` of its mean (Hoeffding) and
its noise below ``mu ℓ/2`` (Laplace tail), for every key and query:
``ℓ >= max(2/mu^2, 2 sqrt(Q)/mu) ln(2 n Q / beta)``. Fewer rows, or ``b <= 16/eps^2`` (no margin),
are refused naming the bound, unless ``allow_outside_guarantee=True``. Queries beyond ``Q``
still answer, with ``exhausted = 1`` in ``state()``; an answer for an unchanged vector is
repeated, not re-noised. At the sizes this guarantee asks for, the sketch has more counters
than small universes have keys: the constants are the price of a distribution-free bound.

**White-box.** The layout (which keys sit in which buckets, their signs) and the noise come from
two 32-byte keys in ``state()``: a reader rebuilds both, and ``alignment-injection`` streams a
vector that is 0 on a chosen key yet pushes most of that key's buckets past ``tau``.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.guarantee import check_guarantee
from wbstream.engine.algorithm import Space, StreamingAlgorithm, bits_for_range, nbytes_of
from wbstream.engine.chunking import chunk_for
from wbstream.engine.errors import at_least
from wbstream.engine.l2_problems import L2HeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import ADAPTIVE

#: Failure probability the row bound is sized for (over every key and query).
BETA = 0.05
#: The report threshold, as a fraction of ``eps F2^(1/2)``.
REPORT_FRACTION = 0.75


def margin(eps: float, width: int) -> float:
    """``mu``: how far above (below) 1/2 a heavy (light) key's vote fraction is, by Cantelli.

    >>> round(margin(0.5, 512), 3), margin(0.5, 64)
    (0.389, 0.0)
    """
    z2 = (eps * math.sqrt(width) / 4) ** 2
    return max(0.0, 0.5 - 1 / (1 + z2))


def min_rows(n: int, eps: float, width: int, queries: int) -> int:
    """``ceil(max(2/mu^2, 2 sqrt(Q)/mu) ln(2 n Q / beta))``; 0 when ``width`` leaves no margin.

    >>> min_rows(16384, 0.5, 512, 10)
    256
    """
    mu = margin(eps, width)
    if mu <= 0:
        return 0
    return math.ceil(max(2 / mu**2, 2 * math.sqrt(queries) / mu) * math.log(2 * n * queries / BETA))


def layout(seed: bytes, n: int, rows: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, bucket, sign)``: key ``i``'s buckets are ``bucket[indptr[i]:indptr[i+1]]`` (flat
    ``row * width + column``) with those signs. Each (key, bucket) pair is present with probability
    ``1/width``: a Binomial(width, 1/width) count per key and row, then that many distinct columns.

    >>> indptr, bucket, sign = layout(bytes(32), 1000, 20, 8)
    >>> len(indptr), 15 < len(bucket) / 1000 < 25, sorted(set(sign.tolist()))
    (1001, True, [-1, 1])
    """
    rng = np.random.default_rng(np.frombuffer(seed, dtype="<u4"))
    counts = rng.binomial(width, 1 / width, size=(n, rows))
    key = np.repeat(np.arange(n, dtype=np.int64), counts.sum(axis=1))
    row = np.repeat(np.tile(np.arange(rows, dtype=np.int64), n), counts.ravel())
    col = rng.integers(0, width, size=len(key))
    while True:  # distinct columns within each (key, row): redraw the repeats
        code = (key * rows + row) * width + col
        order = np.argsort(code, kind="stable")
        key, row, col, code = key[order], row[order], col[order], code[order]
        dup = np.flatnonzero(code[1:] == code[:-1]) + 1
        if not len(dup):
            break
        col[dup] = rng.integers(0, width, size=len(dup))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n))]).astype(np.int64)
    sign = (2 * rng.integers(0, 2, size=len(key)) - 1).astype(np.int8)
    return indptr, (row * width + col).astype(np.int32), sign


@algorithms.register
class BucketCountSketch(StreamingAlgorithm):
    """BucketCountSketch, sign-alignment estimator with Laplace noise: adaptively robust ℓ2 heavy hitters
    for ``queries`` queries.

    ``queries`` (Q, the guarantee's query budget), ``width`` (0: ``ceil(128/eps^2)``), ``rows``
    (0: the bound's least ℓ), ``allow_outside_guarantee`` (build parameters under the bound).

    >>> from wbstream.engine.coins import Coins
    >>> p = L2HeavyHitters(n=2048, M=1 << 20, eps=0.5)
    >>> cs = BucketCountSketch(p.params, Coins.from_seed(1, "doc"), queries=4)
    >>> cs.rows, cs.width
    (168, 512)
    >>> cs.update(np.arange(2048), np.where(np.arange(2048) == 7, 400, 3))
    >>> cs.query().tolist(), cs.queries_made
    ([7], 1)
    >>> BucketCountSketch(p.params, Coins.from_seed(1, "doc"), queries=4, rows=20)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.OutsideGuaranteeError: bucket-countsketch: outside its guarantee: rows=20 < max(2/mu^2, 2 sqrt(Q)/mu) ln(2nQ/0.05) = 168 (Q=4, mu=0.389) (allow_outside_guarantee=True plays it anyway, with no claim)
    """

    name = "bucket-countsketch"
    problem = L2HeavyHitters
    claims = ADAPTIVE
    computed_defaults = {"width": "ceil(128 / eps^2)", "rows": "max(2/mu^2, 2 sqrt(Q)/mu) ln(2nQ/0.05)"}
    guarantee = ("every l2 heavy hitter reported and no light one w.h.p. against adaptive adversaries "
                 "(threat level: adaptive) for `queries` queries (rows >= max(2/mu^2, 2 sqrt(Q)/mu) "
                 "ln(2nQ/0.05)); not against a white-box reader, who sees the layout and noise keys")
    arena_problem = "l2-heavy-hitters(n=16384, M=1048576, eps=0.5)"
    #: The built-in suites play as many rounds as the default query budget covers (one query a round).
    arena_rounds = 10

    def __init__(self, params, coins, *, queries: int = 10, width: int = 0, rows: int = 0,
                 allow_outside_guarantee: bool = False):
        super().__init__(params, coins)
        at_least(self.name, queries=(queries, 1), width=(width, 0), rows=(rows, 0))
        eps, n = params.eps, params.n
        width = width or math.ceil(128 / eps**2)
        at_least(self.name, width=(width, 2))
        self.mu = margin(eps, width)
        least = min_rows(n, eps, width, queries)
        rows = rows or max(least, 1)
        violated = []
        if self.mu <= 0:
            violated.append(f"width={width} <= 16/eps^2 leaves a vote no margin (mu = 0)")
        elif rows < least:
            violated.append(f"rows={rows} < max(2/mu^2, 2 sqrt(Q)/mu) ln(2nQ/{BETA:g}) = {least} "
                            f"(Q={queries}, mu={self.mu:.3f})")
        check_guarantee(self.name, allow_outside_guarantee, violated)
        self.rows, self.width, self.budget = int(rows), int(width), int(queries)
        self.noise_scale = math.sqrt(queries)
        self.layout_key = coins.bytes("bucket-countsketch/layout", 32)
        self.noise_key = coins.bytes("bucket-countsketch/noise", 32)
        self.indptr, self.bucket, self.sign = layout(self.layout_key, n, self.rows, self.width)
        self.owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.indptr))
        self.sizes = np.diff(self.indptr)
        self.table = np.zeros(self.rows * self.width, dtype=np.int64)
        self.update_chunk = chunk_for(32 * max(1, self.rows))
        self.queries_made = 0
        self.exhausted = False
        self._answer: np.ndarray | None = None

    def update(self, indices, deltas):
        indices = np.asarray(indices, dtype=np.int64)
        deltas = np.asarray(deltas, dtype=np.float64)
        n, d = self.params.n, self.table.size
        if 4 * len(indices) >= n:  # dense: one pass over every key's buckets
            x = np.bincount(indices, weights=deltas, minlength=n)
            add = np.bincount(self.bucket, weights=self.sign * x[self.owner], minlength=d)
        else:  # the batch's keys' buckets only (a ragged gather)
            starts, lens = self.indptr[indices], self.sizes[indices]
            offsets = np.cumsum(lens) - lens
            entries = np.arange(int(lens.sum()), dtype=np.int64) - np.repeat(offsets - starts, lens)
            add = np.bincount(self.bucket[entries], weights=self.sign[entries] * np.repeat(deltas, lens),
                              minlength=d)
        self.table += np.rint(add).astype(np.int64)  # exact: |sums| stay far below 2^53
        self._answer = None

    def f2_estimate(self) -> float:
        """The median over rows of each row's sum of squared buckets (each row is unbiased for F2)."""
        return float(np.median((self.table.astype(np.float64).reshape(self.rows, self.width) ** 2).sum(axis=1)))

    def votes(self, tau: float) -> np.ndarray:
        """Each key's ``max(up, down)`` bucket votes at margin ``tau``."""
        v = np.take(self.table, self.bucket)
        np.multiply(v, self.sign, out=v)
        if not len(v):
            return np.zeros(self.params.n, dtype=np.int32)
        starts = np.minimum(self.indptr[:-1], len(v) - 1)
        up = np.add.reduceat(v >= tau, starts, dtype=np.int32)  # a key with no bucket gets a stray vote,
        down = np.add.reduceat(v <= -tau, starts, dtype=np.int32)  # but is never reported (sizes > 0)
        return np.maximum(up, down)

    def _laplace(self, count: int) -> np.ndarray:
        rng = np.random.default_rng([*np.frombuffer(self.noise_key, dtype="<u4").tolist(), self.queries_made])
        return rng.laplace(0.0, self.noise_scale, size=count)

    def query(self) -> np.ndarray:
        if self._answer is not None:
            return self._answer
        tau = REPORT_FRACTION * self.params.eps * math.sqrt(self.f2_estimate())
        if tau == 0:
            self._answer = np.zeros(0, dtype=np.int64)
            return self._answer
        noisy = self.votes(tau) + self._laplace(self.params.n)
        self.queries_made += 1
        self.exhausted = self.exhausted or self.queries_made > self.budget
        self._answer = np.flatnonzero((self.sizes > 0) & (noisy >= self.sizes / 2)).astype(np.int64)
        return self._answer

    def state(self):
        return {"table": self.table, "shape": np.array([self.rows, self.width]),
                "layout_key": self.layout_key, "noise_key": self.noise_key,
                "queries_made": self.queries_made, "exhausted": int(self.exhausted)}

    def space(self):
        bound = self.params.n * self.params.M
        return Space(self.table.size * bits_for_range(-bound, bound) + 64 * 2, 2 * 256,
                     nbytes_of(self.state()) + self.bucket.nbytes + self.sign.nbytes + self.indptr.nbytes
                     + self.owner.nbytes)

    @classmethod
    def layout_of(cls, params, state) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The layout a state's ``layout_key`` determines (what a white-box reader rebuilds)."""
        rows, width = (int(v) for v in state["shape"])
        return layout(bytes(state["layout_key"]), params.n, rows, width)
