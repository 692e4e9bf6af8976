"""Sketch switching for distinct elements (Ben-Eliezer, Jayaram, Woodruff, Yogev, PODS 2020).

Omri Ben-Eliezer, Rajesh Jayaram, David P. Woodruff, Eylon Yogev. *A Framework for
Adversarially Robust Streaming Algorithms.* PODS 2020 (J. ACM 69(2), 2022), algorithm 1
applied to F0 (their theorem for distinct elements).

``copies`` independent KMV sketches (Bar-Yossef et al. 2002) see the whole insertion-only
stream; their answers are revealed one copy at a time, exactly as ``switching-f2`` does with
AMS copies (bands: :mod:`wbstream.algorithms.norms.copies`). The published answer is frozen
until the active copy's estimate leaves ``e^(± 3 ell/4)`` around it; then the next copy
becomes active and its estimate is published. F0 grows from 1 to at most ``n``, and between
two switches it grows by ``e^(ell/4)`` or more, so an insertion-only stream switches at most
``lambda = ceil(4 ln(n) / ell) + 1`` times (the flip number, ``O(eps^-1 log n)``). Each copy
keeps ``k = ceil((3/a)^2) + 2`` minima, ``a = 1 - e^(-ell/4)``: KMV's relative error has
standard deviation about ``1/sqrt(k - 2)``, so a copy is within ``e^(± ell/4)`` unless it
errs by three deviations. Fewer copies or minima are refused, naming the bound, unless
``allow_outside_guarantee=True``.

Copy ``c`` hashes item ``x`` to ``fmix64(h(x) XOR key_c)`` (``h`` keyed, the ``key_c`` drawn
from the coins): one 64-bit hash per item, then a cheap mix per copy. Every copy must see
every item (a copy becomes active with the whole stream behind it), so an update costs
``copies`` KMV updates: the construction does not allow touching the active copy alone.

All keys are in ``state()``. A white-box reader knows the active copy and which items leave
its minima unchanged (``harmless_items``): ``hash-search`` feeds only those, and the published
answer freezes while F0 grows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from wbstream.algorithms.distinct import KeyedF0Sketch, chunks
from wbstream.algorithms.distinct.hashing64 import KEY_BITS, KeyedHash64, fmix64
from wbstream.algorithms.distinct.kmv import TWO64, merge_distinct, smallest_distinct
from wbstream.algorithms.guarantee import check_guarantee
from wbstream.algorithms.norms.copies import log_band
from wbstream.engine.algorithm import Space, nbytes_of
from wbstream.engine.errors import at_least
from wbstream.engine.problems import Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import ADAPTIVE


def f0_flip_number(params) -> int:
    """``lambda = ceil(4 ln(n) / ell) + 1``: switches of an insertion-only F0 stream.

    >>> from wbstream.engine.problems import DistinctElements
    >>> f0_flip_number(DistinctElements(n=65536, alpha=2, insertion_only=True).params)
    65
    """
    return math.ceil(4 * math.log(params.n) / log_band(params)) + 1


def f0_minima(params) -> int:
    """``k = ceil((3/a)^2) + 2``, ``a = 1 - e^(-ell/4)``: minima per KMV copy.

    >>> from wbstream.engine.problems import DistinctElements
    >>> f0_minima(DistinctElements(n=65536, alpha=2, insertion_only=True).params)
    358
    """
    a = 1 - math.exp(-log_band(params) / 4)
    return math.ceil((3 / a) ** 2) + 2


def copy_hashes(base: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each copy's hash of each item, shape ``(copies, items)``: ``fmix64(base XOR key_c)``."""
    return fmix64(np.asarray(base, dtype=np.uint64)[None, :] ^ np.asarray(keys, dtype=np.uint64)[:, None])


@algorithms.register
class SwitchingF0(KeyedF0Sketch):
    """Sketch switching over KMV copies: adaptively robust F0 for ``copies`` switches.

    ``copies`` (0: the flip number), ``k`` minima per copy (0: ``ceil((3/a)^2) + 2``),
    ``allow_outside_guarantee``.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import DistinctElements
    >>> p = DistinctElements(n=65536, alpha=2, insertion_only=True)
    >>> alg = SwitchingF0(p.params, Coins.from_seed(1, "doc"))
    >>> alg.copies, alg.k
    (65, 358)
    >>> alg.update(np.arange(1000), np.ones(1000, dtype=np.int64)); first = alg.query()
    >>> 500 <= first <= 2000, alg.active
    (True, 0)
    >>> alg.update(np.arange(1000, 20000), np.ones(19000, dtype=np.int64)); 10000 <= alg.query() <= 40000, alg.active
    (True, 1)
    >>> SwitchingF0(p.params, Coins.from_seed(1, "doc"), copies=8)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.OutsideGuaranteeError: switching-f0: outside its guarantee: copies=8 < the flip number ceil(4 ln(n) / ell) + 1 = 65 (allow_outside_guarantee=True plays it anyway, with no claim)
    """

    name = "switching-f0"
    claims = ADAPTIVE
    computed_defaults = {"copies": "ceil(4 ln(n) / ell) + 1", "k": "ceil((3/a)^2) + 2, a = 1 - e^(-ell/4)"}
    guarantee = ("F0 within the problem's factor w.h.p. against adaptive adversaries (threat level: adaptive) "
                 "on insertion-only streams, with `copies` >= the flip number ceil(4 ln(n) / ell) + 1; "
                 "not against a white-box reader, who sees every copy's hash key")
    arena_problem = "distinct-elements(n=65536, M=1024, alpha=2, insertion_only=True)"

    def __init__(self, params, coins, *, copies: int = 0, k: int = 0, allow_outside_guarantee: bool = False):
        super().__init__(params, coins)
        at_least(self.name, copies=(copies, 0), k=(k, 0))
        lam, k_min = f0_flip_number(params), f0_minima(params)
        violated = []
        if copies and copies < lam:
            violated.append(f"copies={copies} < the flip number ceil(4 ln(n) / ell) + 1 = {lam}")
        if k and k < k_min:
            violated.append(f"k={k} < ceil((3/a)^2) + 2 = {k_min} minima per copy")
        check_guarantee(self.name, allow_outside_guarantee, violated)
        self.copies, self.k = int(copies or lam), int(k or k_min)
        at_least(self.name, k=(self.k, 2))
        self.copy_keys = coins.words("switching-f0/copy-keys", (self.copies,))
        self.minima = np.full((self.copies, self.k), np.iinfo(np.uint64).max, dtype=np.uint64)
        self.filled = np.zeros(self.copies, dtype=np.int64)
        half = 3 * log_band(params) / 4
        self.low, self.high = math.exp(-half), math.exp(half)
        self.active, self.switches, self.published = 0, 0, 0.0
        self.exhausted = False
        self.dirty = False

    def update(self, indices, deltas):
        for chunk in chunks(np.asarray(indices, dtype=np.int64)):
            hashes = copy_hashes(self.hash(chunk), self.copy_keys)
            for c in range(self.copies):  # one batched merge per copy and chunk
                kept = self.minima[c, :self.filled[c]]
                h = hashes[c]
                if self.filled[c] == self.k:
                    h = h[h < kept[-1]]
                    if len(h) == 0:
                        continue
                merged = merge_distinct(kept, smallest_distinct(h, self.k))[:self.k]
                self.minima[c, :len(merged)] = merged
                self.filled[c] = len(merged)
        self.dirty = True

    def estimate(self, c: int) -> float:
        if self.filled[c] < self.k:
            return float(self.filled[c])
        return (self.k - 1) * TWO64 / float(self.minima[c, self.k - 1])

    def query(self) -> float:
        if not self.dirty:
            return self.published
        self.dirty = False
        est = self.estimate(self.active)
        if self.published > 0 and self.low <= est / self.published <= self.high:
            return self.published
        if self.published > 0:  # a drift: the next copy answers (the first answer spends none)
            if self.active + 1 < self.copies:
                self.active += 1
                self.switches += 1
            else:
                self.exhausted = True
        self.published = self.estimate(self.active)
        return self.published

    def state(self):
        return {"hash_key": self.hash.key, "copy_keys": self.copy_keys, "k": self.k, "minima": self.minima,
                "filled": self.filled, "active": self.active, "published": self.published,
                "switches": self.switches, "exhausted": int(self.exhausted)}

    def space(self):
        return Space(self.copies * self.k * 64 + 64 * 4, KEY_BITS + 64 * self.copies, nbytes_of(self.state()))

    # -- the white-box view -------------------------------------------------------------------------
    @classmethod
    def harmless_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """Items that leave the active copy's minima, hence the published answer, unchanged."""
        active, k = int(state["active"]), int(state["k"])
        base = KeyedHash64(int(state["hash_key"]))(np.asarray(items, dtype=np.int64))
        h = copy_hashes(base, np.asarray(state["copy_keys"])[[active]])[0]
        kept = np.asarray(state["minima"])[active, :int(state["filled"][active])]
        if len(kept) < k:
            return np.isin(h, kept)
        return h >= kept[-1]
