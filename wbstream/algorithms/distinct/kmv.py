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

from wbstream.algorithms.distinct import KeyedF0Sketch
from wbstream.algorithms.distinct.hashing64 import KEY_BITS
from wbstream.engine.algorithm import Space, nbytes_of
from wbstream.engine.problems import Params
from wbstream.engine.registry import algorithms

TWO64 = float(2**64)


@algorithms.register
class KMV(KeyedF0Sketch):
    """The k smallest distinct 64-bit hash values seen; exact count until k are seen.

    Relative standard error about ``1/sqrt(k - 2)`` against oblivious streams.

    >>> from wbstream.engine.coins import Coins
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
    ValueError: kmv counts F0 of insertion-only streams: it cannot delete, so it needs a problem with insertion_only=True (this one is turnstile)
    """

    name = "kmv"
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
        if len(indices) == 0:
            return
        h = self.hash(indices)
        if len(self.minima) == self.k:
            h = h[h < self.minima[-1]]
            if len(h) == 0:
                return
        h = np.unique(h)[:self.k]  # distinct first: repeated items must not crowd out others
        self.minima = np.union1d(self.minima, h)[:self.k]

    def query(self) -> float:
        if len(self.minima) < self.k:
            return float(len(self.minima))
        return (self.k - 1) * TWO64 / float(self.minima[-1])

    def state(self):
        return {"hash_key": self.hash.key, "k": self.k, "minima": self.minima}

    def space(self):
        return Space(self.k * 64, KEY_BITS, nbytes_of(self.state()))
