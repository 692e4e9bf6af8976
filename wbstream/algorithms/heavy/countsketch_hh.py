"""CountSketch for L1 heavy hitters (Charikar, Chen, Farach-Colton 2002), hash seeds in the state.

``est_i = median over rows of s_r(i) * table[r, h_r(i)]``. Against an oblivious
stream a row's error on i is the signed mass of the items sharing its bucket:
with ``width = ceil(32/eps)`` the items of count at least ``eps*m/8`` (at most
``8/eps`` of them) hit i's bucket with probability at most 1/4, and the rest add
a standard deviation of at most ``eps*m/16``, so a row errs by more than
``eps*m/4`` with probability below 1/2 and the median over
``depth = ceil(ln(n/0.05))`` rows almost never does. The query reports every
index with ``est_i >= 3/4 eps*m``: heavy ones (``f_i >= eps*m``) clear it, light
ones (``f_i <= eps*m/2``) do not.

A white-box adversary reads the bucket and sign coefficients and needs no luck:
a cover of a majority of rows by items that share the target's bucket *and sign*
makes a never-inserted target look heavy (``markelon-2023``).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.heavy.bucketed import BucketHeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS


@algorithms.register
class CountSketchHH(BucketHeavyHitters):
    """CountSketch, ``depth`` rows (0: ``ceil(ln(n/0.05))``) of ``width`` buckets (0: ``ceil(32/eps)``).

    >>> import numpy as np
    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import HeavyHitters
    >>> p = HeavyHitters(n=1000, M=100, eps=0.2)
    >>> cs = CountSketchHH(p.params, Coins.from_seed(1, "doc"))
    >>> cs.update(np.array([7, 300, 7, 12]), np.array([50, 2, 10, 1]))
    >>> cs.depth, cs.width, cs.query(), int(cs.estimate(np.array([7]))[0])
    (10, 160, array([7]), 60)
    """

    name = "countsketch-hh"

    computed_defaults = {"depth": "ceil(ln(n / 0.05))", "width": "ceil(32 / eps)"}
    claims = OBLIVIOUS
    guarantee = ("every heavy hitter reported and no light one w.h.p., against oblivious streams only "
                 "(median of signed bucket counts, threshold 3/4 eps m)")
    signed, report_fraction = True, 0.75

    @staticmethod
    def default_width(eps: float) -> int:
        return math.ceil(32 / eps)

    def combine(self, votes):
        """The median over rows (the upper median for an even depth)."""
        mid = votes.shape[0] // 2
        return np.partition(votes, mid, axis=0)[mid]

    @staticmethod
    def rows_to_cover(depth: int) -> int:
        return depth // 2 + 1  # a median over rows: a majority
