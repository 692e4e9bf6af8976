"""Named parameter presets for the sparse-recovery testers, with security estimates.

The estimates follow the *core-SVP* methodology: an attack needs BKZ with block
size beta, and beta costs ``2^(0.292 beta)`` classical operations (sieving,
Becker–Ducas–Gama–Laarhoven), ignoring the number of tours and all lower-order
terms. BKZ-beta reaches root-Hermite factor

    delta(beta) = ((pi beta)^(1/beta) * beta / (2 pi e))^(1 / (2 (beta - 1)))

(Chen's model). Two problems are estimated:

* **collision (SIS)**: the tester is broken by a non-zero z with ``A z = 0 mod q``
  and ``|z_i| <= 2M`` (docs/references.md#fjw24). For r rows mod q, BKZ-beta on the best
  sub-lattice of dimension ``d* = sqrt(r log q / log delta)`` finds vectors of
  l2 length about ``2^(2 sqrt(r log q log delta))`` (Micciancio–Regev); the l_inf
  norm of such a vector is about its l2 length times ``sqrt(2 ln 2d*) / sqrt(d*)``
  (docs/references.md#lattice-collision). The attack succeeds when
  that is at most 2M. The Vandermonde rows of the relaxed recovery add
  ``2k log p`` to ``r log q`` (docs/references.md#lattice-collision).
* **LWE** (FJW'24's proof world, key = encryptions under n_lwe-dimensional LWE with
  Gaussian error sigma): the primal uSVP attack succeeds when
  ``sqrt(beta) sigma <= delta^(2 beta - d) q^(m/d)`` with ``d = m + n_lwe + 1``
  (Alkim–Ducas–Pöppelmann–Schwabe), minimised over the number of samples m.

These are estimates from a documented model, not the lattice-estimator; they
are printed as estimates. Core-SVP leaves out the polynomial factors of a real
BKZ run (the lattice-estimator's full cost is typically 20–30 bits higher), so it
errs on the side of calling parameters weak. Below beta ~ 40 the figure means
"LLL or small BKZ suffices", not a cost. ``toy`` presets are breakable by design.

>>> toy = FJW24_PRESETS["toy"]
>>> toy.breakable, toy.n_lwe
(True, 8)
>>> collision_security_bits(rows=257, log2_q=64, bound=2 * 1024) > 100
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

#: Core-SVP exponent: one call to SVP in dimension beta costs 2^(0.292 beta).
CORE_SVP_EXPONENT = 0.292
#: LLL reaches about this root-Hermite factor in practice (Gama–Nguyen).
LLL_DELTA = 1.0219


def delta_of_beta(beta: int) -> float:
    """Root-Hermite factor reached by BKZ with block size beta (Chen's model).

    >>> round(delta_of_beta(60), 4), round(delta_of_beta(400), 4)
    (1.0115, 1.004)
    """
    if beta <= 40:  # the asymptotic formula is poor for small blocks; interpolate to LLL
        return LLL_DELTA - (LLL_DELTA - 1.0128) * (beta - 2) / 18 if beta <= 20 else \
            1.0128 - (1.0128 - delta_of_beta(41)) * (beta - 20) / 21
    return ((math.pi * beta) ** (1 / beta) * beta / (2 * math.pi * math.e)) ** (1 / (2 * (beta - 1)))


#: Block sizes beyond this are outside the model: the estimate is reported as infinite.
MAX_BETA = 4000


def _beta_for_delta(target: float) -> float | None:
    """Smallest block size with delta(beta) <= target; None if LLL suffices, inf beyond MAX_BETA."""
    if target >= LLL_DELTA:
        return None
    for beta in range(2, MAX_BETA + 1):
        if delta_of_beta(beta) <= target:
            return beta
    return math.inf


def linf_from_l2(log2_l2: float, d: float) -> float:
    """log2 of the l_inf norm of a vector of that l2 length in dimension d (docs/references.md#lattice-collision)."""
    return log2_l2 + 0.5 * math.log2(2 * math.log(2 * d)) - 0.5 * math.log2(d)


def sis_linf_found(log_volume: float, delta: float) -> float:
    """l_inf norm (log2) of the vector BKZ finds in the best sub-lattice."""
    d = math.sqrt(log_volume / math.log2(delta))
    return linf_from_l2(2 * math.sqrt(log_volume * math.log2(delta)), d)


def collision_security_bits(rows: int, log2_q: float, bound: int, extra_log_volume: float = 0.0) -> float:
    """Estimated bits of work to find z != 0, A z = 0 mod q, |z|_inf <= bound (core-SVP).

    ``extra_log_volume`` adds the Vandermonde constraints (``2k log2 p``). Returns 0.0
    when LLL is predicted to suffice, ``inf`` when no block size up to MAX_BETA does.
    """
    log_volume = rows * log2_q + extra_log_volume
    target = math.log2(bound)
    # the largest delta that still gives l_inf <= bound: solve by bisection on log delta
    lo, hi = 1.0 + 1e-6, LLL_DELTA
    if sis_linf_found(log_volume, hi) <= target:
        return 0.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if sis_linf_found(log_volume, mid) <= target:
            lo = mid
        else:
            hi = mid
    beta = _beta_for_delta(lo)
    return 0.0 if beta is None else CORE_SVP_EXPONENT * beta


def lwe_security_bits(n_lwe: int, log2_q: float, sigma: float = 3.2) -> float:
    """Estimated bits of work of the primal uSVP attack on LWE (core-SVP, ADPS'16 condition).

    0.0 when a block size of 10 or less already succeeds (LLL territory), as for collisions.
    """
    best = math.inf
    for beta in range(10, MAX_BETA + 1, 2):
        delta = delta_of_beta(beta)
        # the best number of samples m for this beta, scanned coarsely
        for m in range(max(1, n_lwe // 4), 4 * n_lwe + 512, max(1, n_lwe // 16)):
            d = m + n_lwe + 1
            lhs = 0.5 * math.log2(beta) + math.log2(sigma)
            rhs = (2 * beta - d) * math.log2(delta) + (m / d) * log2_q
            if lhs <= rhs:
                best = 0.0 if beta == 10 else min(best, CORE_SVP_EXPONENT * beta)
                break
        if best < math.inf:
            return best
    return best


@dataclass(frozen=True)
class FJW24Preset:
    """GSW-style tester parameters (docs/references.md#fjw24)."""

    name: str
    n_lwe: int
    base_bits: int
    breakable: bool
    note: str

    def key_bits(self, n: int) -> int:
        N, ell = self.n_lwe + 1, 64 // self.base_bits
        return max(1, math.ceil(math.log2(n))) * N * N * ell * 64

    def estimates(self, *, M: int, k: int, p_bits: int = 31) -> dict:
        """Security estimates in bits (core-SVP) for the collision and the proof-world LWE."""
        collision = collision_security_bits(self.n_lwe + 1, 64, 2 * M, 2 * k * p_bits)
        return {"collision_bits": collision, "lwe_bits": lwe_security_bits(self.n_lwe, 64),
                "estimate_bits": min(collision, lwe_security_bits(self.n_lwe, 64))}


@dataclass(frozen=True)
class FW23Preset:
    """SIS + random-oracle tester parameters (docs/references.md#fw23)."""

    name: str
    rows: int
    log2_q: int
    breakable: bool
    note: str

    def sis_rows(self, n: int, k: int) -> int:
        """FW'23's reduction needs at least k log2 n rows, so the preset's rows are a floor."""
        return max(self.rows, k * max(1, math.ceil(math.log2(n))))

    def estimates(self, *, M: int, k: int, n: int = 0, p_bits: int = 31) -> dict:
        rows = self.sis_rows(n, k) if n else self.rows
        collision = collision_security_bits(rows, self.log2_q, 2 * M, 2 * k * p_bits)
        return {"collision_bits": collision, "estimate_bits": collision}


FJW24_PRESETS = {
    "toy": FJW24Preset("toy", n_lwe=8, base_bits=16, breakable=True,
                       note="breakable: LLL finds collisions in seconds; for demonstrating the attack"),
    "moderate": FJW24Preset("moderate", n_lwe=256, base_bits=8, breakable=False,
                            note="the collision attack fails within practical budgets, but the proof-world "
                                 "LWE (n_lwe = 256, q = 2^64) is weak: nothing is proven here"),
    "high": FJW24Preset("high", n_lwe=2432, base_bits=8, breakable=False,
                        note="about 128-bit LWE security with q = 2^64 (HE-standard-like); a key of gigabytes"),
}

FW23_PRESETS = {
    "toy": FW23Preset("toy", rows=16, log2_q=32, breakable=True,
                      note="breakable at small k (rows = max(16, k log2 n)): LLL finds SIS collisions"),
    "moderate": FW23Preset("moderate", rows=128, log2_q=64, breakable=False,
                           note="holds against LLL/BKZ within practical budgets for M <= 2^10"),
    "high": FW23Preset("high", rows=512, log2_q=64, breakable=False,
                       note="heuristic high security for M <= 2^20 (random-oracle heuristic)"),
}


@functools.lru_cache(maxsize=256)
def fw23_bits(n: int, k: int, M: int, preset: str, rows: int = 0, log2_q: int = 0, p_bits: int = 31) -> float:
    """Estimated bits of an fw23 instance: its preset with the ``rows`` and ``log2_q`` overrides it was built with.

    >>> fw23_bits(512, 2, 1024, "toy") < 64 <= fw23_bits(512, 2, 1024, "moderate")
    True
    """
    chosen = FW23_PRESETS[preset]
    rows = rows or chosen.sis_rows(n, k)
    return collision_security_bits(rows, log2_q or chosen.log2_q, 2 * M, 2 * k * p_bits)


@functools.lru_cache(maxsize=256)
def gsw_bits(k: int, M: int, preset: str, n_lwe: int = 0, p_bits: int = 31) -> float:
    """Estimated bits of a GSW-tested instance (fjw24 and what builds on it): min(collision, LWE).

    >>> gsw_bits(2, 1024, "toy")
    0.0
    """
    n_lwe = n_lwe or FJW24_PRESETS[preset].n_lwe
    return min(collision_security_bits(n_lwe + 1, 64, 2 * M, 2 * k * p_bits), lwe_security_bits(n_lwe, 64))
