"""Sketch switching for F2 (Ben-Eliezer, Jayaram, Woodruff, Yogev, PODS 2020).

Omri Ben-Eliezer, Rajesh Jayaram, David P. Woodruff, Eylon Yogev. *A Framework
for Adversarially Robust Streaming Algorithms.* PODS 2020, pages 63–80 (journal
version: J. ACM 69(2), 2022). Algorithm 1, "sketch switching".

``lambda`` independent AMS copies see the whole stream, but their answers are
revealed one copy at a time. The published answer is frozen; when the active
copy's estimate leaves the drift band ``e^(± 3 ell/4)`` around it (bands:
:mod:`wbstream.algorithms.norms.copies`), the active copy is discarded and the next
copy's estimate becomes the published answer. A copy's answers are revealed only
while it is active, and the adversary's stream up to then was chosen without any
information about it, so each copy faces an oblivious stream: the guarantee
holds against an adaptive adversary while the stream makes at most ``lambda``
switches, ``lambda = ceil(4 ln(n M^2) / ell) + 1`` (``ell = ln(1 + eps)`` for
small eps, ``ln alpha`` for a factor alpha), the insertion-only flip number
``O(eps^-1 log(n M))`` [BJWY20, lemma 3.3 / theorem 1.2]. A turnstile stream has no
such bound; ``copies`` then is the number of switches the guarantee covers.

Revealing 0 while a copy's counters are all zero reveals nothing about it (every
copy is 0 on the zero vector), so such a copy stays fresh: an insert-then-delete
query costs one copy, not two. When the copies run out the last one stays
active and keeps answering; the guarantee no longer holds and ``state()``
records ``exhausted = 1``. All copies' signs are in ``state()``: a white-box
reader knows which copy answers next and can cancel it (``copy-cancellation``).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.guarantee import check_guarantee
from wbstream.algorithms.norms.copies import AMSCopies, copy_sign_columns, default_means, flip_number, log_band
from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.problems import F2Estimation
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import ADAPTIVE


@algorithms.register
class SwitchingF2(StreamingAlgorithm):
    """Sketch switching over AMS copies: adaptively robust F2 for ``copies`` switches.

    ``copies`` (0: the flip number ``lambda``), ``means`` (0: ``ceil(4/a^2)``, ``a = 1 - e^(-ell/4)``),
    ``medians`` per copy; on an insertion-only problem fewer copies than the flip number are refused
    unless ``allow_outside_guarantee=True``.

    >>> from wbstream.engine.coins import Coins
    >>> p = F2Estimation(n=64, M=16, alpha=4, insertion_only=True)
    >>> alg = SwitchingF2(p.params, Coins.from_seed(1, "doc"), medians=3)
    >>> alg.copies.copies, alg.copies.means
    (29, 47)
    >>> alg.update(np.arange(64), np.full(64, 2)); first = alg.query()
    >>> 256 / 4 <= first <= 256 * 4, alg.query() == first, alg.active
    (True, True, 0)
    >>> alg.update(np.arange(64), np.full(64, 6)); 4096 / 4 <= alg.query() <= 4096 * 4, alg.active
    (True, 1)
    >>> SwitchingF2(p.params, Coins.from_seed(1, "doc"), copies=5)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.OutsideGuaranteeError: switching-f2: outside its guarantee: copies=5 < the flip number ceil(4 ln(n M^2) / ell) + 1 = 29 (allow_outside_guarantee=True plays it anyway, with no claim)
    """

    name = "switching-f2"
    problem = F2Estimation
    claims = ADAPTIVE
    guarantee = ("F2 within the problem's factor w.h.p. against adaptive adversaries (threat level: adaptive) "
                 "while the stream makes at most `copies` switches (insertion-only: the flip number "
                 "ceil(4 ln(n M^2) / ell) + 1); not against a white-box reader, who sees every copy's signs")
    arena_problem = "f2(n=64, M=16, alpha=4)"

    def __init__(self, params, coins, *, copies: int = 0, means: int = 0, medians: int = 3,
                 allow_outside_guarantee: bool = False):
        super().__init__(params, coins)
        lam = flip_number(params)
        if copies and copies < lam and getattr(params, "insertion_only", False):
            check_guarantee(self.name, allow_outside_guarantee,
                            [f"copies={copies} < the flip number ceil(4 ln(n M^2) / ell) + 1 = {lam}"])
        copies = copies or lam
        means = means or default_means(params)
        self.copies = AMSCopies(coins, "switching-f2/signs", copies=copies, means=means, medians=medians,
                                n=params.n)
        self.update_chunk = self.copies.update_chunk
        half = 3 * log_band(params) / 4
        self.low, self.high = math.exp(-half), math.exp(half)  # the drift band around the published answer
        self.active = 0
        self.revealed = False  # has the active copy published a non-zero answer
        self.published = 0.0
        self.switches = 0
        self.exhausted = False
        self.dirty = False

    def update(self, indices, deltas):
        self.copies.update(indices, deltas)
        self.dirty = True

    def _publish_active(self) -> None:
        counters = self.copies.counters(self.active)
        self.published = self.copies.estimate(self.active)
        self.revealed = bool(counters.any())

    def query(self) -> float:
        if not self.dirty:
            return self.published
        self.dirty = False
        if not self.revealed:  # a fresh copy answers directly
            self._publish_active()
            return self.published
        est = self.copies.estimate(self.active)
        if self.published > 0 and self.low <= est / self.published <= self.high:
            return self.published
        if self.active + 1 < self.copies.copies:
            self.active += 1
            self.switches += 1
        else:
            self.exhausted = True  # the last copy keeps answering, revealed: no guarantee any more
        self._publish_active()
        return self.published

    def state(self):
        return {"counters": self.copies.y, "sign_coefficients": self.copies.sign_hash.coefficients,
                "copy_shape": np.array([self.copies.copies, self.copies.medians, self.copies.means]),
                "active": self.active, "revealed": int(self.revealed), "published": self.published,
                "switches": self.switches, "exhausted": int(self.exhausted)}

    def space(self):
        return Space(self.copies.state_bits(self.params) + 64 * 4, self.copies.sign_hash.key_bits,
                     nbytes_of(self.state()) + self.copies.cache_nbytes())

    # -- the white-box view: which copies decide the next answer -----------------------------
    @classmethod
    def answering_copies(cls, state) -> list[int]:
        """The active copy, and the next one when a drift would switch to it."""
        active, total = int(state["active"]), int(state["copy_shape"][0])
        return [active] + ([active + 1] if state["revealed"] and active + 1 < total else [])

    @classmethod
    def copy_sign_columns(cls, params, state, copies, columns) -> np.ndarray:
        return copy_sign_columns(state, copies, columns)
