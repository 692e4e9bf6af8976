"""The finite-difference attack on Vandermonde syndrome sketches (docs/references.md#finite-difference).

The vector ``z`` with ``z_{i0+j} = (-1)^j C(2k, j)`` for ``j = 0..2k`` is the
2k-th finite difference: for every polynomial f of degree < 2k,
``sum_j (-1)^j C(2k, j) f(c + j) = 0`` over the integers, for any shift c. The
syndromes are ``sum_i x_i alpha_i^t`` with ``alpha_i = i + 1`` and ``t < 2k``, so
taking ``f(y) = y^t`` and ``c = i0 + 1`` gives ``V z = 0`` exactly, hence mod
every p. Streaming ``target + z`` leaves the syndromes of the k-sparse target,
and the deterministic decoder returns the target for a vector with 3k + 1
non-zeros.
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import NotApplicableError
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.registry import adversaries
from wbstream.engine.stream import Batch
from wbstream.engine.threat import OBLIVIOUS


def finite_difference_vector(k: int) -> np.ndarray:
    """``(-1)^j C(2k, j)`` for ``j = 0..2k``: orthogonal to ``(c + j)^t`` for every ``t < 2k`` and shift c.

    >>> finite_difference_vector(2)
    array([ 1, -4,  6, -4,  1])
    """
    if math.comb(2 * k, k) >= 2**63:
        raise OverflowError(f"C({2 * k}, {k}) does not fit in int64")
    return np.array([(-1) ** j * math.comb(2 * k, j) for j in range(2 * k + 1)], dtype=np.int64)


@adversaries.register
class FiniteDifference(Adversary):
    """Stream a k-sparse target plus the 2k-th finite difference, invisible to Vandermonde syndromes.

    Oblivious on purpose: it reads nothing, because the Vandermonde structure
    (``alpha_i = i + 1``, 2k powers) is public and the kernel vector works mod every
    p. The target has exactly k non-zeros in ``[-M/2, M/2]``, on a support disjoint
    from the window ``[i0, i0 + 2k]`` of the finite difference, ``i0`` random. The
    updates go out in ``rounds`` batches (the sketch is linear: splitting changes
    nothing), then the adversary stops. Needs ``M >= C(2k, k)``; above that, lattice
    reduction on the kernel of V (``kernel-injection``) is the alternative.

    >>> from wbstream.engine.game import Game
    >>> r = Game("sparse-recovery(n=4096, k=4, M=1024)", "vandermonde", "finite-difference", "oblivious").play()
    >>> r.failed, r.failure_kind
    (True, 'missed-not-sparse')
    """

    name = "finite-difference"
    needs = OBLIVIOUS

    def __init__(self, *, rounds: int = 1):
        if rounds < 1:
            raise ValueError(f"finite-difference needs rounds >= 1, got {rounds}")
        self.rounds = rounds

    def applies_to(self, algorithm_cls, problem_cls):
        # a tested recovery that can run Vandermonde lists it in relaxed_recoveries (an option, not its default)
        if "vandermonde" not in getattr(algorithm_cls, "relaxed_recoveries",
                                        (getattr(algorithm_cls, "relaxed_recovery", None),)):
            return False, ("it does not decode Vandermonde syndromes with alpha_i = i + 1 "
                           "(no relaxed_recovery = 'vandermonde'), so the finite difference is not in its kernel")
        if not issubclass(problem_cls, SparseRecovery):
            return False, f"the attack targets k-sparse recovery, not {getattr(problem_cls, 'name', problem_cls)!r}"
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        n, k, M = params.n, params.k, params.M
        width = 2 * k + 1
        peak = math.comb(2 * k, k)
        if M < peak:
            raise NotApplicableError(
                f"finite-difference: the binomial entries reach C({2 * k}, {k}) = {peak} > M = {M}, "
                f"breaking the promise |x_i| <= M; use LLL on the kernel lattice of V (kernel-injection) instead")
        if n < width + k:
            raise NotApplicableError(
                f"finite-difference: needs n >= 3k + 1 = {width + k} (a window of 2k + 1 = {width} "
                f"and a disjoint k-sparse target), got n = {n}")
        self.i0 = int(rng.integers(0, n - width + 1))
        # k distinct indices outside the window [i0, i0 + 2k]: draw from n - width slots, skip the window
        slots = rng.choice(n - width, size=k, replace=False).astype(np.int64)
        support = np.where(slots >= self.i0, slots + width, slots)
        half = max(1, M // 2)
        values = rng.integers(1, half + 1, size=k) * rng.choice(np.array([-1, 1]), size=k)
        self.target = (support, values.astype(np.int64))
        self.window = np.arange(self.i0, self.i0 + width, dtype=np.int64)
        self.kernel_vector = finite_difference_vector(k)
        idx = np.r_[support, self.window]
        dlt = np.r_[self.target[1], self.kernel_vector]
        order = rng.permutation(len(idx))  # every index appears once, so any split keeps |x_i| <= M
        self._parts = [Batch(i, d) for i, d in zip(np.array_split(idx[order], self.rounds),
                                                    np.array_split(dlt[order], self.rounds))]

    def act(self, obs):
        if obs.round > len(self._parts):
            return None
        return self._parts[obs.round - 1]
