"""The wrap-around attack (docs/references.md#wrap-around): only possible when a modulus is at most 2M.

If the tester works mod q and the relaxed recovery mod p, a vector ``c e_j`` with
``c`` a multiple of ``lcm(p, q)`` is invisible to both. It fits in the promise
(``x̂_j = a`` and ``x_j = a + c`` with both in ``[-M, M]``) exactly when
``c <= 2M``. Parameter validation refuses p <= 2M and q <= 2M, so against any
algorithm that could be built this attack gives up; it is here to show that.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import TestedRecovery
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX


@adversaries.register
class WrapAround(Adversary):
    """Streams x̂ + lcm(p, q) e_j when that fits in [-M, M]; otherwise gives up."""

    name = "wrap-around"
    needs = WHITE_BOX

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(algorithm_cls, TestedRecovery):
            return False, "it is not a relaxed recovery with a tester (TestedRecovery)"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.outcome = "not run"

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        params, state, cls = obs.params, obs.state(), obs.algorithm.cls
        j = np.array([int(self.rng.integers(params.n))], dtype=np.int64)
        q = cls.tester_columns(params, state, j)[1]
        p = cls.recovery_columns(params, state, j)[1]
        c = math.lcm(p, q)
        if c > 2 * params.M:
            self.outcome = f"impossible: lcm(p, q) = {c} > 2M = {2 * params.M}"
            return None
        a = -(c // 2)
        self.outcome = f"streamed {a} + {c} at index {int(j[0])}"
        return Batch(j, np.array([a + c], dtype=np.int64))
