"""Differentially private aggregation of AMS copies (Hassidim, Kaplan, Mansour, Matias, Stemmer, NeurIPS 2020).

Avinatan Hassidim, Haim Kaplan, Yishay Mansour, Yossi Matias, Uri Stemmer.
*Adversarially Robust Streaming Algorithms via Differential Privacy.* NeurIPS
2020 (journal version: J. ACM 69(6), 2022).

``k`` independent AMS copies all see the stream and all take part in every
answer, but only through differentially private mechanisms, so the answers
reveal little about any single copy's randomness and (by the generalization
property of differential privacy) most copies stay accurate on the adaptively
chosen stream. The published answer is frozen; at each query a sparse-vector
test (AboveThreshold, Dwork and Roth 2014, §3.6) asks whether more than half of
the copies have drifted out of the band ``e^(± 3 ell/4)`` around it (bands:
:mod:`wbstream.algorithms.norms.copies`); when it fires, the answer is refreshed
with the exponential mechanism's median over the intervals of the grid
``{0} ∪ {r^i}``, ``r = e^(ell/4)``, up to ``n M^2`` (utility: minus the rank distance
from ``k/2`` to the interval, sensitivity 1; answer: the interval's geometric
midpoint), and the test restarts with a fresh noisy threshold.

Parameters (stated, all defaults): ``lambda`` refreshes (the flip number of
:func:`~wbstream.algorithms.norms.copies.flip_number`), ``delta = 10^-3``, and
per-mechanism privacy ``eps0 = 1 / (2 sqrt(2 lambda ln(1/delta)))``, so the
``2 lambda`` mechanisms compose (advanced composition, Dwork, Rothblum and Vadhan,
FOCS 2010) to ``(about 1, lambda delta')``-DP with respect to the copies. The median
is within ``t = 2 ln(G / 0.05) / eps0`` ranks of the middle with probability 0.95
(G grid points), so ``4 t`` copies keep it inside the accurate copies' range; the
drift test compares a count with margin about ``0.4 k`` against Laplace noise of
scale ``4/eps0``, so ``10 ln(Q / 0.05) / eps0`` copies keep it from missing a drift
in ``Q = 10^4`` queries. ``k`` is the larger of the two. Noise comes from the algorithm's coins only: a 32-byte key drawn at the start,
expanded with SHAKE-256 per draw (the key is in ``state()``). When more than
``lambda`` refreshes happen the answers continue, but the privacy budget (and the
guarantee) is spent: ``state()`` records ``exhausted = 1``. All copies' signs are
in ``state()``: a white-box reader cancels them all at once (``copy-cancellation``).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from wbstream.algorithms.guarantee import check_guarantee
from wbstream.algorithms.norms.copies import AMSCopies, copy_sign_columns, default_means, flip_number, log_band
from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import ADAPTIVE

DELTA = 1e-3
#: Failure probability of one exponential-mechanism median, and of the drift test over all queries.
BETA = 0.05
#: Queries the drift test is sized for (the arena's round budget).
QUERIES = 10_000


def dp_parameters(params, flips: int = 0) -> tuple[int, float, np.ndarray]:
    """``(k, eps0, grid)``: copies, per-mechanism privacy and the answer grid for a problem.

    >>> from wbstream.engine.problems import F2Estimation
    >>> k, eps0, grid = dp_parameters(F2Estimation(n=16, M=4, alpha=8, insertion_only=True).params)
    >>> k, round(eps0, 4), len(grid)
    (3144, 0.0388, 14)
    """
    lam = flips or flip_number(params)
    eps0 = 1 / (2 * math.sqrt(2 * lam * math.log(1 / DELTA)))
    ratio = math.exp(log_band(params) / 4)
    top = params.n * params.M**2
    grid = np.concatenate([[0.0], ratio ** np.arange(math.ceil(math.log(top) / math.log(ratio)) + 2)])
    median = 8 * math.log(len(grid) / BETA) / eps0  # the median's rank error t = 2 ln(G/beta)/eps0, k = 4t
    drift = 10 * math.log(QUERIES / BETA) / eps0  # the drift test's margin 0.4 k beats its Laplace(4/eps0) noise
    return math.ceil(max(median, drift)), eps0, grid


def laplace(u: np.ndarray | float, scale: float):
    """Laplace(scale) samples from uniforms in ``[0, 1)`` (inverse CDF)."""
    v = np.asarray(u, dtype=np.float64) - 0.5
    return -scale * np.sign(v) * np.log1p(-2 * np.abs(v))


@algorithms.register
class DPF2(StreamingAlgorithm):
    """DP aggregation of AMS copies: adaptively robust F2 for ``flips`` refreshes.

    ``copies`` (0: ``k`` from :func:`dp_parameters`), ``means`` (0: as ``switching-f2``),
    ``medians`` per copy (1: a copy needs only a constant success probability, the private median
    over copies does the boosting), ``flips`` (0: the flip number). Fewer copies than ``k`` (or, on an
    insertion-only problem, fewer flips than the flip number) are refused unless
    ``allow_outside_guarantee=True``.

    >>> from wbstream.engine.coins import Coins
    >>> p = F2Estimation(n=64, M=16, alpha=4)
    >>> alg = DPF2(p.params, Coins.from_seed(1, "doc"), means=16, medians=1)
    >>> alg.copies.copies
    4887
    >>> alg.update(np.arange(64), np.full(64, 2)); first = alg.query()
    >>> 256 / 4 <= first <= 256 * 4, alg.query() == first, alg.refreshes
    (True, True, 1)
    >>> DPF2(p.params, Coins.from_seed(1, "doc"), copies=400)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.OutsideGuaranteeError: dp-f2: outside its guarantee: copies=400 < k = ceil(max(8 ln(G/0.05), 10 ln(Q/0.05)) / eps0) = 4887 (eps0 = 0.02498: the privacy budget per mechanism) (allow_outside_guarantee=True plays it anyway, with no claim)
    """

    name = "dp-f2"
    problem = F2Estimation
    claims = ADAPTIVE
    guarantee = ("F2 within the problem's factor w.h.p. against adaptive adversaries (threat level: adaptive) "
                 "for at most `flips` refreshes (insertion-only: the flip number), at the stated privacy "
                 "parameters; not against a white-box reader, who sees every copy's signs")
    arena_problem = "f2(n=16, M=4, alpha=8)"

    def __init__(self, params, coins, *, copies: int = 0, means: int = 0, medians: int = 1, flips: int = 0,
                 allow_outside_guarantee: bool = False):
        super().__init__(params, coins)
        k, self.eps0, self.grid = dp_parameters(params, flips)
        lam = flip_number(params)
        violated = []
        if copies and copies < k:
            violated.append(f"copies={copies} < k = ceil(max(8 ln(G/0.05), 10 ln(Q/0.05)) / eps0) = {k} "
                            f"(eps0 = {self.eps0:.4g}: the privacy budget per mechanism)")
        if flips and flips < lam and getattr(params, "insertion_only", False):
            violated.append(f"flips={flips} < the flip number {lam}")
        check_guarantee(self.name, allow_outside_guarantee, violated)
        self.flips = flips or lam
        self.copies = AMSCopies(coins, "dp-f2/signs", copies=copies or k, means=means or default_means(params),
                                medians=medians, n=params.n)
        self.update_chunk = self.copies.update_chunk
        half = 3 * log_band(params) / 4
        self.low, self.high = math.exp(-half), math.exp(half)
        self.published = 0.0
        self.refreshes = 0
        self.threshold = 0.0
        self.exhausted = False
        self.dirty = True  # the first query always refreshes
        # The mechanisms' noise: a key drawn from the coins, expanded per draw (so equal states answer alike).
        self.noise_key = coins.bytes("dp-f2/noise-key", 32)
        self.draws = 0

    def update(self, indices, deltas):
        self.copies.update(indices, deltas)
        self.dirty = True

    def _uniforms(self, count: int) -> np.ndarray:
        self.draws += 1
        raw = hashlib.shake_256(self.noise_key + self.draws.to_bytes(8, "little")).digest(8 * count)
        return (np.frombuffer(raw, dtype="<u8") >> np.uint64(11)).astype(np.float64) * 2.0**-53

    def _noise(self, scale: float) -> float:
        return float(laplace(self._uniforms(1)[0], scale))

    def _private_median(self, est: np.ndarray) -> float:
        """The exponential mechanism over the grid's intervals ``[g_i, g_(i+1))``: utility minus the
        rank distance from ``k/2`` to the interval's ranks (sensitivity 1); answers the interval's
        geometric midpoint (0 for ``[0, 1)``)."""
        below = np.searchsorted(np.sort(est), self.grid, side="left")  # #{E_j < g_i}
        half = len(est) / 2
        utility = -np.maximum(0.0, np.maximum(below[:-1] - half, half - below[1:]))
        gumbel = -np.log(-np.log(np.clip(self._uniforms(len(utility)), 1e-300, None)))
        i = int(np.argmax(self.eps0 * utility / 2 + gumbel))
        return 0.0 if i == 0 else float(np.sqrt(self.grid[i] * self.grid[i + 1]))

    def query(self) -> float:
        if not self.dirty:
            return self.published
        self.dirty = False
        est = self.copies.estimates()
        if self.refreshes:
            if self.published > 0:
                ratio = est / self.published
                drifted = int(np.count_nonzero((ratio < self.low) | (ratio > self.high)))
            else:
                drifted = int(np.count_nonzero(est))
            if drifted + self._noise(4 / self.eps0) < self.threshold:
                return self.published
        self.published = self._private_median(est)
        self.refreshes += 1
        self.exhausted = self.exhausted or self.refreshes > self.flips
        self.threshold = self.copies.copies / 2 + self._noise(2 / self.eps0)
        return self.published

    def state(self):
        return {"counters": self.copies.y, "sign_coefficients": self.copies.sign_hash.coefficients,
                "copy_shape": np.array([self.copies.copies, self.copies.medians, self.copies.means]),
                "published": self.published, "threshold": self.threshold, "refreshes": self.refreshes,
                "noise_key": self.noise_key, "noise_draws": self.draws,
                "exhausted": int(self.exhausted)}

    def space(self):
        return Space(self.copies.state_bits(self.params) + 64 * 3, self.copies.sign_hash.key_bits,
                     nbytes_of(self.state()) + self.copies.cache_nbytes())

    @classmethod
    def answering_copies(cls, state) -> list[int]:
        """Every copy takes part in every answer."""
        return list(range(int(state["copy_shape"][0])))

    @classmethod
    def copy_sign_columns(cls, params, state, copies, columns) -> np.ndarray:
        return copy_sign_columns(state, copies, columns)
