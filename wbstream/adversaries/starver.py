"""A white-box starving attack on counter summaries for heavy hitters.

The adversary keeps one target ``t`` exactly at the heavy threshold,
``f_t = ceil(eps * m)``, and fills the rest of every batch with distinct ids the
summary holds no counter for (it reads the held ``keys`` from the state). Each
such id forces a Misra–Gries decrement of every counter, ``t``'s included, so the
summary's count for ``t`` sinks as far below ``f_t`` as the algorithm allows,
while ``t`` stays heavy and must be reported. A deterministic summary with
enough counters survives by its guarantee; the robust sampler survives because
the coins that decide which units it keeps are drawn after the batch is sent.
Against sketches without held keys (Count-Min, CountSketch) it is an oblivious
flood of fresh ids around one borderline heavy hitter.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX


@adversaries.register
class CounterStarver(Adversary):
    """Hold a target at ``f_t = ceil(eps*m)`` while flooding ids that hold no counter.

    ``rounds`` batches of ``batch`` unit insertions (the target's share included).

    >>> from wbstream.engine.game import Game
    >>> r = Game("heavy-hitters(n=100000, M=1048576, eps=0.05)", "misra-gries",
    ...          "counter-starver(rounds=20, batch=2000)", "white-box", seed=0).play()
    >>> r.failed, r.updates
    (False, 40000)
    """

    name = "counter-starver"
    needs = WHITE_BOX

    def __init__(self, *, rounds: int = 50, batch: int = 2000):
        if rounds < 1 or batch < 2:
            raise ValueError(f"counter-starver needs rounds >= 1 and batch >= 2, got rounds={rounds}, batch={batch}")
        self.rounds, self.batch = rounds, batch

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(problem_cls, HeavyHitters):
            return False, f"it attacks heavy hitters, and {getattr(problem_cls, 'name', problem_cls)!r} is not that problem"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        self.target = int(rng.integers(0, params.n))
        self.f_target = 0
        self.m = 0

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        eps, n = self.params.eps, self.params.n
        m = self.m + self.batch
        to_target = min(self.batch, max(0, math.ceil(eps * m) - self.f_target))
        held = np.asarray(obs.state().get("keys", np.zeros(0, dtype=np.int64)), dtype=np.int64)
        free = np.ones(n, dtype=bool)
        free[held] = False
        free[self.target] = False
        pool = np.flatnonzero(free)
        others = self.rng.choice(pool, size=min(self.batch - to_target, len(pool)), replace=False)
        self.f_target += to_target
        self.m += to_target + len(others)
        idx = np.r_[np.full(to_target, self.target, dtype=np.int64), others.astype(np.int64)]
        return Batch(self.rng.permutation(idx), np.ones(len(idx), dtype=np.int64))
