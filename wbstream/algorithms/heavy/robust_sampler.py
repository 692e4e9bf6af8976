"""The white-box-robust heavy-hitters sampler of Ajtai et al. (PODS 2022; docs/references.md#abjsswz22).

Each unit of the stream is kept with probability ``2^-j`` using *fresh* coins,
drawn after the adversary has committed the batch; Misra–Gries summarises the
kept units; a Morris counter tracks the stream length m. Once the Morris
estimate passes ``T * 2^j`` the level j goes up and every counter is thinned by
``Binomial(c, 1/2)``, so the sample never holds much more than ``T`` units and
each counter fits in about ``log2(2T)`` bits instead of ``log2 m``.

Reading the state does not help an adversary: it sees which units were kept so
far, but the next unit is sampled by a coin it has not seen. The error of each
count is then a martingale and concentrates (Freedman), and the report is
correct with ``T = 8 ln(n) / eps^2`` and ``K = ceil(4/eps)`` counters:

- Misra–Gries undercounts a sampled count by at most ``S/(K+1) < eps*S/4``,
  where S is the sample length;
- sampling moves a count by at most ``eps*S/8`` w.h.p. (about 5 standard
  deviations when ``S >= T/2``);
- so a heavy id (``f_i >= eps*m``) keeps at least ``(1 - 1/4 - 1/8) eps*S`` and a
  light one (``f_i <= eps*m/2``) at most ``(1/2 + 1/8) eps*S``: the report
  threshold ``(5/8) eps*S`` separates them.

Departures from the paper: the Morris counter uses base ``1 + a`` (a = 1/16)
for a tighter level schedule; the constants (4/eps counters, 8 ln n / eps^2
samples, threshold 5/8) are chosen here from the bound above, as the paper
leaves them to tune; a batch is sampled at the current rate and thinned
afterwards if the level rises, which draws the same distribution as thinning
unit by unit (Binomial thinning composes).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.heavy.misra_gries import MisraGries
from wbstream.engine.errors import at_least
from wbstream.engine.algorithm import Space, StreamingAlgorithm, bits_for_range, nbytes_of
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX


def coin_generator(coins, label: str) -> np.random.Generator:
    """A numpy generator seeded by 128 bits drawn from the engine's coins now (logged like any draw).

    Binomial and geometric variates come from it; the seed is revealed to a white-box
    adversary only after the draw, like every coin.
    """
    return np.random.Generator(np.random.PCG64(coins.words(label, (2,))))


class MorrisCounter:
    """Approximate counting (Morris 1978) with base ``1 + a``: O(log log m) bits.

    ``X`` goes up by one with probability ``(1 + a)^-X`` per unit; ``((1+a)^X - 1)/a``
    is an unbiased estimate of the count, with relative standard deviation about
    ``sqrt(a/2)``. A batch of units costs one geometric draw per increment, not per unit.

    >>> from wbstream.engine.coins import Coins
    >>> rng = coin_generator(Coins.from_seed(0, "doc"), "morris")
    >>> c = MorrisCounter(a=1 / 16)
    >>> for _ in range(100):
    ...     c.add(10_000, rng)
    >>> c.x, 0.6 < c.estimate() / 1_000_000 < 1.4
    (180, True)
    """

    def __init__(self, a: float):
        if not 0 < a <= 1:
            raise ValueError(f"a Morris counter needs a base 1 + a with 0 < a <= 1, got a={a}")
        self.a, self.x = float(a), 0

    def add(self, units: int, rng: np.random.Generator) -> None:
        while units > 0:
            wait = int(rng.geometric((1 + self.a) ** -self.x))  # units until the next increment
            if wait > units:
                return  # memoryless: the partial wait carries no information
            units -= wait
            self.x += 1

    def estimate(self) -> float:
        return ((1 + self.a) ** self.x - 1) / self.a


@algorithms.register
class RobustSampler(StreamingAlgorithm):
    """Sample with fresh coins, count with Misra–Gries on the sample, track m with Morris.

    ``counters`` (0: ``ceil(4/eps)``), ``samples`` = T (0: ``ceil(8 ln(n) / eps^2)``),
    ``morris_base`` = a.

    >>> from wbstream.engine.coins import Coins
    >>> p = HeavyHitters(n=1000, M=10**6, eps=0.1)
    >>> s = RobustSampler(p.params, Coins.from_seed(0, "doc"))
    >>> s.counters, s.samples
    (40, 5527)
    >>> s.update(np.array([7, 3, 9]), np.array([300_000, 1_000, 700_000]))
    >>> s.level > 0, s.query()  # about 2^-level of a million units were kept
    (True, array([7, 9]))
    """

    name = "robust-sampler"

    computed_defaults = {"counters": "ceil(4 / eps)", "samples": "ceil(8 ln(n) / eps^2)"}
    problem = HeavyHitters
    claims = WHITE_BOX
    guarantee = ("every heavy hitter reported and no light one w.h.p. against white-box adversaries "
                 "(fresh coins per unit; counters of O(log(1/eps) + log log n) bits)")
    arena_problem = "heavy-hitters(n=20000, M=1048576, eps=0.05)"

    def __init__(self, params, coins, *, counters: int = 0, samples: int = 0, morris_base: float = 1 / 16):
        super().__init__(params, coins)
        at_least("robust-sampler", counters=(counters, 0), samples=(samples, 0))
        self.counters = int(counters) or math.ceil(4 / params.eps)
        self.samples = int(samples) or math.ceil(8 * math.log(params.n) / params.eps ** 2)
        self.morris = MorrisCounter(morris_base)
        self.summary = MisraGries(params, None, counters=self.counters)
        self.level = 0

    def update(self, indices, deltas):
        rng = coin_generator(self.coins, f"{self.name}/batch")  # drawn now: after the batch was committed
        self.morris.add(int(deltas.sum()), rng)
        kept = rng.binomial(deltas, 2.0 ** -self.level) if self.level else deltas
        chosen = kept > 0
        if chosen.any():
            self.summary.update(indices[chosen], kept[chosen].astype(np.int64))
        while self.morris.estimate() > self.samples * 2 ** self.level:
            self.level += 1
            self.summary.thin(rng)

    def query(self):
        sampled = self.summary.m
        if sampled <= 0:
            return np.zeros(0, dtype=np.int64)
        keep = self.summary.counts >= 0.625 * self.params.eps * sampled
        return np.sort(self.summary.keys[keep])

    def state(self):
        return {"keys": self.summary.keys, "counts": self.summary.counts, "sampled": self.summary.m,
                "level": self.level, "morris": self.morris.x}

    def space(self):
        count_bits = bits_for_range(0, max(1, self.summary.m))
        word = bits_for_range(0, self.params.n - 1) + count_bits
        small = count_bits + bits_for_range(0, max(1, self.morris.x)) + bits_for_range(0, max(1, self.level))
        return Space(self.counters * word + small, 0, nbytes_of(self.state()))
