"""Misra–Gries: the deterministic L1 heavy-hitters summary (Misra, Gries 1982; docs/references.md#mg82).

``k`` (id, count) pairs. Against any stream, white-box adversaries included, every
estimate satisfies ``f_i - m/(k+1) <= est_i <= f_i`` (``est_i = 0`` for ids not
held), because there are no coins to learn. With ``k >= ceil(2/eps)`` the report
rule below answers the heavy-hitters problem exactly as the referee demands.

Batches are processed by the merge rule of mergeable Misra–Gries summaries
(Agarwal, Cormode, Huang, Phillips, Wei, Yi 2012): aggregate the batch's duplicate
ids (``np.unique`` with sums), add the result to the held counters, and if more
than ``k`` ids remain, subtract the ``(k+1)``-th largest count ``c`` from every
count and drop the non-positive ones. Each such step lowers any single estimate by
at most ``c`` and the total count by at least ``(k+1) c``, so the sum of all
subtractions an estimate ever sees is at most ``m/(k+1)``: the guarantee above
holds for weighted updates and any batching. On single updates this is exactly the
classic decrement-all rule.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.algorithm import Space, StreamingAlgorithm, bits_for_range, nbytes_of
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX


@algorithms.register
class MisraGries(StreamingAlgorithm):
    """Misra–Gries with ``counters`` pairs (0: ``ceil(2/eps)``); deterministic, no coins.

    Reports every held id with ``est_i >= eps*m - m/(k+1)`` and ``est_i > eps*m/2``:
    a heavy id (``f_i >= eps*m``) has ``est_i >= f_i - m/(k+1)`` and, as
    ``m/(k+1) < eps*m/2`` when ``k >= 2/eps``, clears both; a light id
    (``f_i <= eps*m/2``) has ``est_i <= f_i`` and clears neither.

    >>> p = HeavyHitters(n=100, M=1000, eps=0.25)
    >>> mg = MisraGries(p.params, None)
    >>> mg.update(np.array([3, 3, 7, 9, 3, 11, 12]), np.array([10, 5, 1, 1, 4, 1, 1]))
    >>> mg.counters, mg.query(), mg.estimate(np.array([3, 7, 50]))
    (8, array([3]), array([19,  1,  0]))
    """

    name = "misra-gries"

    computed_defaults = {"counters": "ceil(2 / eps)"}
    problem = HeavyHitters
    claims = WHITE_BOX
    guarantee = "f_i - m/(k+1) <= est_i <= f_i against any stream (deterministic); exact HH for k >= 2/eps"
    arena_problem = "heavy-hitters(n=20000, M=1048576, eps=0.05)"

    def __init__(self, params, coins, *, counters: int = 0):
        super().__init__(params, coins)
        if counters < 0:
            raise ValueError(f"misra-gries needs counters >= 0, got {counters}")
        self.counters = int(counters) or math.ceil(2 / params.eps)
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.m = 0

    def update(self, indices, deltas):
        if len(indices) == 1:
            self._update_one(indices.item(), deltas.item())
            return
        self.m += int(deltas.sum())
        keys, inverse = np.unique(np.r_[self.keys, indices], return_inverse=True)
        counts = np.zeros(len(keys), dtype=np.int64)
        np.add.at(counts, inverse, np.r_[self.counts, deltas])
        self._shrink(keys, counts)

    def _update_one(self, i: int, d: int) -> None:
        self.m += d
        hit = np.flatnonzero(self.keys == i)
        if len(hit):
            self.counts[hit[0]] += d
            return
        keys, counts = np.r_[self.keys, i], np.r_[self.counts, d]
        order = np.argsort(keys, kind="stable")
        self._shrink(keys[order], counts[order])

    def _shrink(self, keys: np.ndarray, counts: np.ndarray) -> None:
        k = self.counters
        if len(keys) > k:
            c = np.partition(counts, len(counts) - k - 1)[len(counts) - k - 1]  # the (k+1)-th largest
            counts = counts - c
            keep = counts > 0
            keys, counts = keys[keep], counts[keep]
        self.keys, self.counts = keys, counts

    def thin(self, rng: np.random.Generator) -> None:
        """Keep each counted unit with probability 1/2: ``c -> Binomial(c, 1/2)``, zeros dropped.

        The uncounted mass ``m - sum(counts)`` is thinned the same way, so ``m`` stays
        the (thinned) length of the summarised stream. Used when a sampler halves its rate.
        """
        uncounted = self.m - int(self.counts.sum())
        counts = rng.binomial(self.counts, 0.5).astype(np.int64)
        keep = counts > 0
        self.keys, self.counts = self.keys[keep], counts[keep]
        self.m = int(counts.sum()) + int(rng.binomial(uncounted, 0.5))

    def estimate(self, indices) -> np.ndarray:
        """``est_i`` for each index: its counter, or 0 if it holds none."""
        indices = np.asarray(indices, dtype=np.int64)
        if not len(self.keys):
            return np.zeros(len(indices), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, indices), len(self.keys) - 1)
        return np.where(self.keys[pos] == indices, self.counts[pos], 0).astype(np.int64)

    def query(self):
        m, eps = self.m, self.params.eps
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        half = eps * m / 2
        keep = (self.counts >= eps * m - m / (self.counters + 1)) & (self.counts > half)
        return self.keys[keep].copy()

    def state(self):
        return {"keys": self.keys, "counts": self.counts, "m": self.m}

    def space(self):
        word = bits_for_range(0, self.params.n - 1) + bits_for_range(0, max(1, self.m))
        return Space(self.counters * word + bits_for_range(0, max(1, self.m)), 0, nbytes_of(self.state()))
