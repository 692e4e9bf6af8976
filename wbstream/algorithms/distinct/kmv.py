"""KMV (k minimum values): keep the k smallest distinct hash values, estimate (k-1)·2^64/h_k.

Bar-Yossef et al. (2002); Beyer et al. (2007). The hash key is drawn from the
engine coins and kept in the state, so a white-box adversary can evaluate the
hash and choose items by their hash value (``reviriego-2021``, ``hash-search``).

KMV sees only which indices arrive: it is an insertion-only F0 counter and
refuses turnstile problems (it could not forget a deleted item).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from wbstream.algorithms.distinct import KeyedF0Sketch, chunks
from wbstream.algorithms.distinct.hashing64 import KEY_BITS
from wbstream.engine.algorithm import Space, nbytes_of
from wbstream.engine.problems import Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

TWO64 = float(2**64)


def smallest_distinct(h: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distinct values of ``h``, sorted, in O(len(h)) when k is small.

    The values up to the (2k+1)-th smallest (counted with repeats) hold the k smallest
    distinct ones whenever they hold k distinct values at all; otherwise fall back to
    a full sort.

    >>> smallest_distinct(np.array([9, 3, 3, 3, 7, 1, 1, 8], dtype=np.uint64), 3).tolist()
    [1, 3, 7]
    """
    if len(h) > 2 * k:
        distinct = np.unique(h[h <= np.partition(h, 2 * k)[2 * k]])
        if len(distinct) >= k:
            return distinct[:k]
    return np.unique(h)[:k]


def merge_distinct(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of distinct values (a short sort, no hashing).

    >>> merge_distinct(np.array([1, 4, 9], dtype=np.uint64), np.array([4, 5], dtype=np.uint64)).tolist()
    [1, 4, 5, 9]
    """
    if len(a):
        at = np.minimum(np.searchsorted(a, b), len(a) - 1)
        b = b[a[at] != b]
    merged = np.concatenate([a, b])
    merged.sort()
    return merged


@algorithms.register
class KMV(KeyedF0Sketch):
    """The k smallest distinct 64-bit hash values seen; exact count until k are seen.

    Relative standard error about ``1/sqrt(k - 2)`` against oblivious streams.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import DistinctElements
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> kmv = KMV(p.params, Coins.from_seed(1, "doc"), k=64)
    >>> kmv.update(np.array([3, 3, 9]), np.array([1, 2, 1]))
    >>> kmv.query()
    2.0
    >>> kmv.update(np.arange(10_000), np.ones(10_000, dtype=np.int64))
    >>> 7_000 < kmv.query() < 13_000, len(kmv.state()["minima"]), kmv.space().total_bits
    (True, 64, 4160)
    >>> KMV(DistinctElements(n=10).params, Coins.from_seed(1, "doc"))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: kmv counts F0 of insertion-only streams: it cannot delete, so the problem's insertion_only must be True, got False (turnstile)
    """

    name = "kmv"
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 2/sqrt(k) w.h.p. against oblivious insertion-only streams; "
                 "a reader of the hash key can freeze or inflate it")

    def __init__(self, params, coins, *, k: int = 256):
        super().__init__(params, coins)
        if k < 2:
            raise ValueError(f"kmv needs k >= 2, got k={k}")
        self.k = int(k)
        self.minima = np.zeros(0, dtype=np.uint64)  # sorted, distinct, at most k

    # -- the white-box interface (classmethods: an adversary rebuilds them from the state) -------
    @classmethod
    def harmless(cls, params: Params, state: Mapping, hashes: np.ndarray) -> np.ndarray:
        """Which hashes leave the state unchanged: once k minima are kept, those at or above the k-th."""
        minima = np.asarray(state["minima"])
        if len(minima) < int(state["k"]):
            return np.isin(hashes, minima)  # only repeats of kept values change nothing
        return np.asarray(hashes) >= minima[-1]

    # -- the protocol ----------------------------------------------------------------------------
    def update(self, indices, deltas):
        for chunk in chunks(indices):
            h = self.hash(chunk)
            if len(self.minima) == self.k:
                h = h[h < self.minima[-1]]  # once full, only hashes below the k-th minimum matter
                if len(h) == 0:
                    continue
            self.minima = merge_distinct(self.minima, smallest_distinct(h, self.k))[:self.k]

    def query(self) -> float:
        if len(self.minima) < self.k:
            return float(len(self.minima))
        return (self.k - 1) * TWO64 / float(self.minima[-1])

    def state(self):
        return {"hash_key": self.hash.key, "k": self.k, "minima": self.minima}

    def space(self):
        return Space(self.k * 64, KEY_BITS, nbytes_of(self.state()))
