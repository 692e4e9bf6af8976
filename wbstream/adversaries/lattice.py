"""The lattice collision attack on relaxed recovery + tester (docs/references.md#lattice-collision).

A white-box adversary rebuilds, from the state, the tester matrix ``A`` (mod q)
and the relaxed recovery's matrix ``V`` (mod p) on d chosen columns, and looks
for a short ``z != 0`` in the joint kernel lattice

    { z in Z^d : A z = 0 mod q  and  V z = 0 mod p }

by LLL, then progressive BKZ 2.0, on the rows of ``[I_d | W A^T | W' V^T]`` stacked
over ``[0 | W q I | 0]`` and ``[0 | 0 | W' p I]``. With ``|z_i| <= M`` it streams
``x̂ + z`` for a k-sparse target x̂ on other coordinates: the decoder returns x̂
(``V z = 0``) and the hashes agree (``A z = 0``), so the answer is wrong.

Progressive BKZ (Chen–Nguyen's BKZ 2.0 schedule, as fplll runs it) reduces with block
sizes 10, 20, ... up to ``block_size`` (default 20), at most ``tours`` tours each, with
recursive preprocessing of the blocks above 25 and no pruning (unpruned enumeration
is exact and cheap below block size ~40). The sub-dimension comes from the
root-Hermite model at the final block size: the smallest d predicted to reach
``|z|_inf <= M / 2``, else the d that minimises the predicted length.

The attack is bounded by work, not by the clock, so a seed plays the same on any
machine: a lattice of more than ``max_dimension`` rows is not reduced (the attack
gives up and says so), LLL is deterministic, and each block size runs at most
``tours`` tours. Against ``toy`` presets it succeeds in seconds; against ``moderate``
the lattice has hundreds of rows and the attack gives up before reducing it, saying
why (:func:`why_not_run`: the rows, the rank argument, the model's block size).
Lattices of more than ``MPFR_ROWS`` rows (possible only with a larger ``max_dimension``)
are reduced by BKZ in MPFR: fplll's doubles abort there.

After reducing, the attack measures the root-Hermite factor it achieved on the kernel
lattice, ``(|b_1| / vol^(1/d))^(1/d)`` from the first reduced kernel vector and the
lattice's volume, and records it (:meth:`LatticeCollision.notes`, the game's
``adversary_notes``) beside the model's ``delta(beta)``
(:func:`wbstream.crypto.params.delta_of_beta`).

``seconds`` is only a safety net for the child process that reduces: if a reduction
within the work bound still runs past it, the game ends with :class:`AttackTimeout`
(an error, never a verdict), so no recorded outcome depends on the machine's speed.

>>> progressive_blocks(20), progressive_blocks(35), progressive_blocks(0)
([10, 20], [10, 20, 30, 35], [])
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.adversaries.injection import lattice_ready, sparse_target, target_plus
from wbstream.crypto.params import (CORE_SVP_EXPONENT, LLL_DELTA, MAX_BETA, collision_security_bits,
                                    delta_of_beta, linf_from_l2)
from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import TestedRecovery
from wbstream.engine.errors import SpecError, WbstreamError, at_least
from wbstream.engine.isolation import ForkTimeout, run_forked
from wbstream.engine.registry import adversaries
from wbstream.engine.threat import WHITE_BOX


def predicted_log2_linf(d: int, log_volume: float, delta: float) -> float:
    """log2 of the l_inf norm of the vector reduction is predicted to find in dimension d."""
    return linf_from_l2(d * math.log2(delta) + log_volume / d, d)


def choose_dimension(log_volume: float, bound: float, low: int, high: int, delta: float = LLL_DELTA) -> int:
    """Smallest d in [low, high] predicted to give ``|z|_inf <= bound``, else the best d."""
    best = min(range(low, high + 1), key=lambda d: predicted_log2_linf(d, log_volume, delta))
    for d in range(low, high + 1):
        if predicted_log2_linf(d, log_volume, delta) <= math.log2(bound):
            return d
    return best


def why_not_run(d: int, r: int, s: int, log2_q: float, log2_p: float, M: int, max_dimension: int) -> str:
    """Why the attack did not reduce, in terms a reader can check: the rows, the rank argument, the model.

    >>> print(why_not_run(1022, 2301, 4, 128, 31, 1024, 160))  # doctest: +NORMALIZE_WHITESPACE
    not run: the lattice would have 3,327 rows (d = 1,022 columns + 2,301 tester rows + 4 recovery rows)
    > max_dimension = 160; any collision needs d > rank(A) = 2,301 columns (on d <= r columns of a
    full-rank A mod q the kernel lattice is q·Z^d: no |z|_inf <= M < q), and only 1,022 are usable
    here; the model puts this instance's collision at BKZ block size > 4000 (inf bits, core-SVP),
    so it did not reduce
    """
    bits = collision_security_bits(r, log2_q, 2 * M, s * log2_p)
    if bits == math.inf:
        model = f"BKZ block size > {MAX_BETA} (inf bits, core-SVP)"
    elif bits == 0:
        model = "LLL (0 bits, core-SVP): the work bound, not the instance, stopped it"
    else:
        model = f"BKZ block size {bits / CORE_SVP_EXPONENT:.0f} ({bits:.0f} bits, core-SVP)"
    rank = (f"any collision needs d > rank(A) = {r:,} columns (on d <= r columns of a full-rank A mod q the "
            f"kernel lattice is q·Z^d: no |z|_inf <= M < q)")
    if d <= r:
        rank += f", and only {d:,} are usable here"
    return (f"not run: the lattice would have {d + r + s:,} rows (d = {d:,} columns + {r:,} tester rows + "
            f"{s:,} recovery rows) > max_dimension = {max_dimension}; {rank}; the model puts this "
            f"instance's collision at {model}, so it did not reduce")


#: Above this many rows BKZ runs in MPFR at MPFR_BITS bits of precision (slower, but it does not abort).
MPFR_ROWS, MPFR_BITS = 200, 120


class AttackTimeout(WbstreamError, TimeoutError):
    """A work-bounded reduction ran past its wall-clock safety net: the game has no verdict."""


def progressive_blocks(block_size: int) -> list[int]:
    """The block sizes of progressive BKZ up to ``block_size``: 10, 20, ..., then ``block_size`` (none below 2)."""
    if block_size < 2:
        return []
    return [b for b in range(10, block_size, 10)] + [block_size]


def _strategies(top: int):
    """BKZ 2.0 strategies up to block ``top``: recursive preprocessing with block b - 15 above 25, no pruning."""
    from fpylll.fplll.bkz_param import Strategy
    return [Strategy(b, [b - 15] if b > 25 else []) for b in range(top + 1)]


def _reduce(rows, block_sizes, tours):
    from fpylll import BKZ, LLL, IntegerMatrix
    B = IntegerMatrix.from_matrix(rows)
    LLL.reduction(B)  # deterministic, and polynomial in the dimension and the entries' size
    if block_sizes:
        strategies = _strategies(max(block_sizes))
    # fplll's double-precision BKZ aborted (a C++ runtime_error) on 230- to 320-row lattices of 160-bit entries
    precise = {"float_type": "mpfr", "precision": MPFR_BITS} if B.nrows > MPFR_ROWS else {}
    for b in block_sizes:  # MAX_LOOPS alone (no AUTO_ABORT, no MAX_TIME): the same tours on any machine
        BKZ.reduction(B, BKZ.Param(block_size=b, max_loops=tours, flags=BKZ.MAX_LOOPS, strategies=strategies),
                      **precise)
    return [list(B[i]) for i in range(B.nrows)]


def reduce_rows(rows: list[list[int]], block_sizes: list[int], tours: int, seconds: float) -> list[list[int]]:
    """LLL, then ``tours`` tours of BKZ at each of ``block_sizes`` in turn, on ``rows`` in a child process.

    Raises :class:`AttackTimeout` if the child runs past the ``seconds`` safety net.
    """
    try:
        return run_forked(_reduce, rows, block_sizes, tours, seconds=seconds)
    except ForkTimeout:
        raise AttackTimeout(f"the lattice reduction ({len(rows)} rows) ran past its {seconds:g} s safety net: "
                            f"the game is void (raise seconds, or lower max_dimension)") from None


def achieved_delta(reduced: list[list[int]], d: int) -> float | None:
    """Root-Hermite factor of the kernel lattice in ``reduced`` (rows whose tail after ``d`` is zero).

    ``(|b_1| / vol^(1/d))^(1/d)``, with b_1 the first kernel row and vol = |det| of the d
    kernel rows (a basis of the kernel lattice); None if there are not d of them.

    >>> round(achieved_delta([[2, 0, 0], [0, 1, 0], [1, 1, 5]], 2), 4)   # |b_1| = 2, vol = 2
    1.1892
    """
    kernel = [row[:d] for row in reduced if not any(row[d:])]
    if len(kernel) != d:
        return None
    sign, log_det = np.linalg.slogdet(np.array(kernel, dtype=np.float64))
    if sign == 0:
        return None
    log_b1 = math.log(math.sqrt(float(sum(int(v) * int(v) for v in kernel[0]))))
    return math.exp((log_b1 - log_det / d) / d)


@adversaries.register
class LatticeCollision(Adversary):
    """White-box lattice collision attack on the tester and the relaxed recovery together.

    ``columns`` fixes the sub-dimension (0: from the root-Hermite model), ``block_size``
    is the last block size of progressive BKZ after LLL (0: LLL only), run for at most
    ``tours`` tours per block size; ``max_dimension`` is the most rows of a lattice it
    reduces (the work bound, with ``tours``), ``seconds`` the wall-clock safety net.
    What it found, and the root-Hermite factor it achieved beside the model's, is in
    :meth:`notes` (recorded in the game's ``adversary_notes``).
    """

    name = "lattice"

    computed_defaults = {"columns": "from the root-Hermite model"}
    needs = WHITE_BOX

    def __init__(self, *, columns: int = 0, block_size: int = 20, tours: int = 4, max_dimension: int = 160,
                 seconds: float = 600.0):
        at_least("lattice", columns=(columns, 0), block_size=(block_size, 0), tours=(tours, 1),
                 max_dimension=(max_dimension, 2))
        if not seconds > 0:
            raise SpecError(f"lattice: seconds must be > 0, got seconds={seconds!r}")
        self.columns, self.block_size, self.tours = columns, block_size, tours
        self.max_dimension, self.seconds = max_dimension, seconds

    def applies_to(self, algorithm_cls, problem_cls):
        if not issubclass(algorithm_cls, TestedRecovery):
            return False, "it is not a relaxed recovery with a tester (TestedRecovery)"
        return lattice_ready()

    def reset(self, params, rng):
        super().reset(params, rng)
        self.done = False
        self.outcome = "not run"
        self.dimension = 0
        self.delta_achieved: float | None = None
        self.delta_model = delta_of_beta(self.block_size) if self.block_size >= 2 else LLL_DELTA

    def notes(self) -> str:
        """What the attack did, and (once it reduced) the root-Hermite factor it reached beside the model's."""
        if self.delta_achieved is None:
            return self.outcome
        reduction = f"BKZ {'-'.join(map(str, progressive_blocks(self.block_size)))}" if self.block_size >= 2 else "LLL"
        return (f"{self.outcome}; {reduction}: root-Hermite factor {self.delta_achieved:.4f} achieved, "
                f"{self.delta_model:.4f} by the model")

    def plan(self, r: int, s: int, log2_q: float, log2_p: float, M: int, free: int) -> int:
        """The sub-dimension d the attack picks for r tester rows mod q, s recovery rows mod p and
        ``free`` usable columns: ``columns`` if set, else from the root-Hermite model at its block size.

        >>> LatticeCollision().plan(9, 4, 128, 31, 1024, 1022)  # fjw24 sec64's q and M at n_lwe = 8
        161
        """
        log_volume = r * log2_q + s * log2_p
        delta = delta_of_beta(self.block_size) if self.block_size >= 2 else LLL_DELTA
        high = min(free, max(r + s + 2, int(math.sqrt(log_volume / math.log2(delta))) + 1))
        d = self.columns or choose_dimension(log_volume, M / 2, min(r + s + 2, high), high, delta)
        return min(d, free)

    def act(self, obs):
        if self.done:
            return None
        self.done = True
        params, state, cls = obs.params, obs.state(), obs.algorithm.cls
        n, M = params.n, params.M
        support, values = sparse_target(self.rng, params)
        free = np.setdiff1d(np.arange(n, dtype=np.int64), support)
        A, q = cls.tester_columns(params, state, free[:1])
        V, p = cls.recovery_columns(params, state, free[:1])
        r, s = A.shape[0], V.shape[0]
        d = self.plan(r, s, math.log2(q), math.log2(p), M, len(free))
        self.dimension = d
        if d + r + s > self.max_dimension:  # before building: an expander recovery has 2m rows
            self.outcome = why_not_run(d, r, s, math.log2(q), math.log2(p), M, self.max_dimension)
            return None
        cols = np.sort(self.rng.choice(free, size=d, replace=False))
        A = cls.tester_columns(params, state, cols)[0].astype(object) % q
        V = cls.recovery_columns(params, state, cols)[0].astype(object) % p
        weight = 1 << (math.ceil(math.log2(2 * M * math.sqrt(d) + 2)) + 8)
        rows = [[int(i == j) for j in range(d)] + [weight * int(a) for a in A[:, i]] + [weight * int(v) for v in V[:, i]]
                for i in range(d)]
        rows += [[0] * d + [weight * q if c == t else 0 for c in range(r)] + [0] * s for t in range(r)]
        rows += [[0] * (d + r) + [weight * p if c == t else 0 for c in range(s)] for t in range(s)]
        reduced = reduce_rows(rows, progressive_blocks(self.block_size), self.tours, self.seconds)
        self.delta_achieved = achieved_delta(reduced, d)
        for row in sorted(reduced, key=lambda row: max(abs(v) for v in row[:d])):
            if any(row[d:]) or not any(row[:d]) or max(abs(v) for v in row[:d]) > M:
                continue
            z = np.array(row[:d], dtype=object)
            if any((A @ z) % q) or any((V @ z) % p):
                continue
            z = z.astype(np.int64)
            self.outcome = f"collision found (d = {d}, |z|_inf = {int(np.abs(z).max())})"
            return target_plus(self.rng, support, values, cols, z)
        self.outcome = f"no vector with |z|_inf <= M = {M} (d = {d})"
        return None
