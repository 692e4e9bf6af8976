"""White-box kernel injection against any linear sketch (docs/references.md#kernel-injection).

The adversary reads the hash seeds from the state, rebuilds the sketch matrix
on a few columns it chose, finds a short integer kernel vector ``z`` by lattice
reduction, and streams ``target + z``. The sketch then equals the sketch of
``target``, so every answer computed from it is the answer for ``target``:
CountSketch recovery returns the k-sparse target for a vector that is not
k-sparse, and AMS reports F2 = 0 for a non-zero vector.
"""

from __future__ import annotations

import numpy as np

from wbstream.adversaries.injection import lattice_ready, sparse_target, target_plus
from wbstream.adversaries.reduction import short_kernel_vectors
from wbstream.engine.errors import at_least
from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import LinearSketch
from wbstream.engine.registry import adversaries
from wbstream.engine.threat import WHITE_BOX


@adversaries.register
class KernelInjection(Adversary):
    """Stream ``target + z`` with ``S z = 0``, ``|z_i| <= M``, supports disjoint.

    ``columns`` is how many coordinates the lattice uses (0: 1.25 x sketch rows + 8),
    grown by half on each of ``attempts`` tries if no short enough vector is found.
    The target is a random k-sparse vector when the problem has a k, else zero.

    >>> from wbstream.engine.game import Game
    >>> r = Game("f2(n=1024, M=64, eps=0.5)", "ams(means=8, medians=3)", "kernel-injection", seed=2).play()
    >>> r.failed, r.failure_kind
    (True, 'out-of-factor')
    """

    name = "kernel-injection"

    computed_defaults = {"columns": "1.25 x sketch rows + 8"}
    needs = WHITE_BOX

    def __init__(self, *, columns: int = 0, attempts: int = 3):
        at_least("kernel-injection", columns=(columns, 0), attempts=(attempts, 1))
        self.columns, self.attempts = columns, attempts

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(algorithm_cls, LinearSketch):
            return False, "it is not a LinearSketch, so its matrix cannot be rebuilt from its state"
        if getattr(problem_cls, "insertion_only", False):
            return False, ("the problem is insertion-only and target + z has negative entries "
                           "(split z into z+ and z- instead: kernel-split, docs/references.md#kernel-injection)")
        return lattice_ready()

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.kernel_vector: np.ndarray | None = None

    def _target(self) -> tuple[np.ndarray, np.ndarray]:
        return sparse_target(self.rng, self.params)

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        cls, state, params = obs.algorithm.cls, obs.state(), obs.params
        support, values = self._target()
        free = np.setdiff1d(np.arange(params.n, dtype=np.int64), support)
        sketch_rows = cls.sketch_columns(params, state, free[:1]).shape[0]
        d = min(len(free), self.columns or int(1.25 * sketch_rows) + 8)
        for _ in range(self.attempts):
            cols = np.sort(self.rng.choice(free, size=d, replace=False))
            A = cls.sketch_columns(params, state, cols)
            A = A[np.any(A != 0, axis=1)]
            modulus = cls.sketch_modulus(params, state)
            good = [z for z in short_kernel_vectors(A, modulus=modulus) if np.abs(z).max() <= params.M]
            if good:
                self.kernel_vector = good[0]
                return target_plus(self.rng, support, values, cols, good[0])
            if d == len(free):
                break
            d = min(len(free), int(1.5 * d))
        return None  # no short kernel vector within the budget: the attack gives up
