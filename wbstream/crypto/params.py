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
"LLL or small BKZ suffices", not a cost. The model lands within 5% of the
lattice-estimator's published block sizes on Kyber and the HE standard
(:mod:`wbstream.crypto.crosscheck`).

Presets are chosen by target. ``toy`` and ``moderate`` are breakable and claim
nothing. ``sec64``, ``sec128`` and ``sec128-wide`` claim their target (core-SVP) and
FJW'24's binding (:mod:`wbstream.crypto.binding`) over a stated range of (n, M); they
are the output of :func:`wbstream.crypto.design.design_fjw24`, and
:func:`require_binding` refuses them where binding fails unless ``allow_unproven``.
fw23's presets of the same names grow their SIS rows until the collision estimate
reaches the same target at (n, k, M).

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

import numpy as np

from wbstream.crypto.binding import Binding, binding
from wbstream.engine.errors import SpecError

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


def _usvp_succeeds(beta: int, n_lwe: int, log2_q: float, log2_sigma: float, m: np.ndarray) -> bool:
    """ADPS'16: some number of samples m in the grid gives ``sqrt(beta) sigma <= delta^(2 beta - d) q^(m/d)``."""
    d = m + n_lwe + 1
    rhs = (2 * beta - d) * math.log2(delta_of_beta(beta)) + (m / d) * log2_q
    return bool(np.any(0.5 * math.log2(beta) + log2_sigma <= rhs))


@functools.lru_cache(maxsize=1024)
def lwe_beta(n_lwe: int, log2_q: float, sigma: float = 3.2, m_max: int = 0) -> int | float:
    """Smallest BKZ block size for which the primal uSVP attack succeeds (GSA, ADPS'16 condition).

    The secret is taken as distributed like the error (normal form); ``m_max`` caps the
    samples (0: as many as help). Block sizes are searched from 10 (below: LLL) to MAX_BETA
    (``inf`` beyond).

    >>> lwe_beta(768, math.log2(3329), 1.0, 768)  # Kyber768; lattice-estimator's primal_bdd: 606
    623
    """
    cap = m_max or 20 * n_lwe + 1024
    m = np.unique(np.linspace(1, cap, min(cap, 4000)).astype(np.int64)).astype(np.float64)
    log2_sigma = math.log2(sigma)
    if _usvp_succeeds(10, n_lwe, log2_q, log2_sigma, m):
        return 10
    if not _usvp_succeeds(MAX_BETA, n_lwe, log2_q, log2_sigma, m):
        return math.inf
    lo, hi = 10, MAX_BETA  # fails at lo, succeeds at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _usvp_succeeds(mid, n_lwe, log2_q, log2_sigma, m) else (mid, hi)
    return hi


def lwe_security_bits(n_lwe: int, log2_q: float, sigma: float = 3.2, m_max: int = 0) -> float:
    """Estimated bits of work of the primal uSVP attack on LWE: ``0.292 beta`` (core-SVP).

    0.0 when a block size of 10 already succeeds (LLL territory), as for collisions.

    >>> lwe_security_bits(256, 64), round(lwe_security_bits(1024, 27, 3.0, 1024))  # HE standard: 128
    (0.0, 112)
    """
    beta = lwe_beta(n_lwe, log2_q, sigma, m_max)
    return 0.0 if beta == 10 else CORE_SVP_EXPONENT * beta


@dataclass(frozen=True)
class FJW24Preset:
    """GSW-style tester parameters (docs/references.md#fjw24) and the range its security claim covers.

    ``sigma`` is the proof-world LWE error width: the algorithm's key is uniform whatever
    it is, so it is the proof's free choice (the largest width binding allows). A preset
    that is not ``breakable`` claims binding for every ``n <= n_max`` and ``M <= M_max``
    and about ``target_bits`` of proof-world LWE security (core-SVP).

    >>> sec64 = FJW24_PRESETS["sec64"]
    >>> sec64.binding(2**16, 2**10).holds, sec64.binding(2**16, 2**20).holds
    (True, False)
    >>> round(sec64.key_bits(2**16) / 2**33, 1)  # GiB
    10.1
    """

    name: str
    n_lwe: int
    base_bits: int
    log_q: int
    sigma: float
    breakable: bool
    note: str
    n_max: int = 0
    M_max: int = 0
    target_bits: float = 0.0

    @property
    def claims_security(self) -> bool:
        return not self.breakable

    def key_bits(self, n: int, n_lwe: int = 0, base_bits: int = 0) -> int:
        N, L = (n_lwe or self.n_lwe) + 1, max(1, (int(n) - 1).bit_length())
        return L * N * N * (self.log_q // (base_bits or self.base_bits)) * self.log_q

    def state_bits(self, n_lwe: int = 0) -> int:
        return ((n_lwe or self.n_lwe) + 1) * self.log_q

    def binding(self, n: int, M: int, *, n_lwe: int = 0, base_bits: int = 0, L: int = 0) -> Binding:
        """The worst-case binding check at (n, M) with these parameters (overrides field by field)."""
        return binding(n=n, M=M, n_lwe=n_lwe or self.n_lwe, base_bits=base_bits or self.base_bits,
                       log_q=self.log_q, sigma=self.sigma, L=L or None)

    def estimates(self, *, M: int, k: int, n: int = 0, p_bits: int = 31) -> dict:
        """Security estimates in bits (core-SVP) for the collision and the proof-world LWE; binding at n if given."""
        collision = collision_security_bits(self.n_lwe + 1, self.log_q, 2 * M, 2 * k * p_bits)
        lwe = lwe_security_bits(self.n_lwe, self.log_q, self.sigma)
        out = {"collision_bits": collision, "lwe_bits": lwe, "estimate_bits": min(collision, lwe)}
        if n:
            out["binding"] = self.binding(n, M)
        return out

    def range_text(self) -> str:
        return f"n <= 2^{self.n_max.bit_length() - 1}, M <= 2^{self.M_max.bit_length() - 1}" if self.n_max else ""


@dataclass(frozen=True)
class FW23Preset:
    """SIS + random-oracle tester parameters (docs/references.md#fw23).

    With ``target_bits``, the rows grow with (k, M) until the collision estimate reaches
    the target, so ``sec64`` here and fjw24's ``sec64`` are estimated alike at the same (n, M).

    >>> FW23_PRESETS["sec64"].estimates(M=2**10, k=10, n=2**16)["collision_bits"] >= 64
    True
    """

    name: str
    rows: int
    log2_q: int
    breakable: bool
    note: str
    target_bits: float = 0.0

    def sis_rows(self, n: int, k: int, M: int = 0, p_bits: int = 31) -> int:
        """FW'23's reduction needs at least k log2 n rows, so the preset's rows are a floor; targets add rows."""
        floor = max(self.rows, k * max(1, math.ceil(math.log2(n))))
        if not (self.target_bits and M):
            return floor
        return _rows_for(self.target_bits, floor, self.log2_q, M, k * p_bits * 2)

    def estimates(self, *, M: int, k: int, n: int = 0, p_bits: int = 31) -> dict:
        rows = self.sis_rows(n, k, M, p_bits) if n else self.rows
        collision = collision_security_bits(rows, self.log2_q, 2 * M, 2 * k * p_bits)
        return {"collision_bits": collision, "estimate_bits": collision}


@functools.lru_cache(maxsize=256)
def _rows_for(target: float, floor: int, log2_q: int, M: int, extra: float) -> int:
    """The fewest rows >= floor whose collision estimate reaches target."""
    ok = lambda r: collision_security_bits(r, log2_q, 2 * M, extra) >= target  # noqa: E731
    if ok(floor):
        return floor
    hi = 2 * floor
    while not ok(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


#: Chosen by :func:`wbstream.crypto.design.design_fjw24` (fewest key bits at n_max; binding worst case).
FJW24_PRESETS = {
    "toy": FJW24Preset("toy", n_lwe=8, base_bits=16, log_q=64, sigma=3.2, breakable=True,
                       note="breakable by design: LLL finds collisions in seconds; for demonstrating the attack"),
    "moderate": FJW24Preset("moderate", n_lwe=256, base_bits=8, log_q=64, sigma=3.2, breakable=True,
                            note="unproven, claims nothing: the proof-world LWE (n_lwe = 256, q = 2^64) falls "
                                 "to LLL and binding fails at large M; collisions resist practical budgets"),
    "sec64": FJW24Preset("sec64", n_lwe=2300, base_bits=16, log_q=128, sigma=2.0 ** 28, breakable=False,
                         n_max=2 ** 16, M_max=2 ** 10, target_bits=64,
                         note="about 64 bits (core-SVP), binding proven for n <= 2^16, M <= 2^10; "
                              "a key of 10 GiB at n = 2^16"),
    "sec128": FJW24Preset("sec128", n_lwe=3800, base_bits=16, log_q=128, sigma=2.0 ** 26, breakable=False,
                          n_max=2 ** 16, M_max=2 ** 10, target_bits=128,
                          note="about 128 bits (core-SVP), binding proven for n <= 2^16, M <= 2^10; "
                               "a key of 28 GiB at n = 2^16"),
    "sec128-wide": FJW24Preset("sec128-wide", n_lwe=5100, base_bits=8, log_q=128, sigma=2.0 ** 10,
                               breakable=False, n_max=2 ** 20, M_max=2 ** 20, target_bits=128,
                               note="about 128 bits (core-SVP), binding proven for n, M <= 2^20; "
                                    "a key of 124 GiB at n = 2^20"),
}

FW23_PRESETS = {
    "toy": FW23Preset("toy", rows=16, log2_q=32, breakable=True,
                      note="breakable at small k (rows = max(16, k log2 n)): LLL finds SIS collisions"),
    "moderate": FW23Preset("moderate", rows=128, log2_q=64, breakable=False,
                           note="heuristic: about 64 bits or more at M <= 2^10, far less at M = 2^20"),
    "high": FW23Preset("high", rows=512, log2_q=64, breakable=False,
                       note="heuristic high security for M <= 2^20 (random-oracle heuristic)"),
    "sec64": FW23Preset("sec64", rows=16, log2_q=64, breakable=False, target_bits=64,
                        note="rows grown until the collision estimate is about 64 bits at (n, k, M)"),
    "sec128": FW23Preset("sec128", rows=16, log2_q=64, breakable=False, target_bits=128,
                         note="rows grown until the collision estimate is about 128 bits at (n, k, M)"),
    "sec128-wide": FW23Preset("sec128-wide", rows=16, log2_q=64, breakable=False, target_bits=128,
                              note="as sec128 (fw23 has no binding range: its security is the SIS estimate)"),
}


@functools.lru_cache(maxsize=256)
def fw23_bits(n: int, k: int, M: int, preset: str, rows: int = 0, log2_q: int = 0, p_bits: int = 31) -> float:
    """Estimated bits of an fw23 instance: its preset with the ``rows`` and ``log2_q`` overrides it was built with.

    >>> fw23_bits(512, 2, 1024, "toy") < 64 <= fw23_bits(512, 2, 1024, "moderate")
    True
    """
    chosen = FW23_PRESETS[preset]
    rows = rows or chosen.sis_rows(n, k, M, p_bits)
    return collision_security_bits(rows, log2_q or chosen.log2_q, 2 * M, 2 * k * p_bits)


@functools.lru_cache(maxsize=256)
def gsw_bits(k: int, M: int, preset: str, n_lwe: int = 0, p_bits: int = 31, *, log_q: int = 0,
             sigma: float = 0.0) -> float:
    """Estimated bits of a GSW-tested instance (fjw24 and what builds on it): min(collision, LWE).

    Binding is separate (:func:`require_binding`): without it the LWE figure proves nothing.

    >>> gsw_bits(2, 1024, "toy"), gsw_bits(2, 1024, "sec64") >= 64
    (0.0, True)
    """
    chosen = FJW24_PRESETS[preset]
    n_lwe, log_q, sigma = n_lwe or chosen.n_lwe, log_q or chosen.log_q, sigma or chosen.sigma
    return min(collision_security_bits(n_lwe + 1, log_q, 2 * M, 2 * k * p_bits),
               lwe_security_bits(n_lwe, log_q, sigma))


def require_binding(name: str, *, n: int, M: int, preset: str, n_lwe: int = 0, base_bits: int = 0, L: int = 0,
                    allow_unproven: bool = False) -> Binding | None:
    """The binding check of a GSW tester at (n, M); refuses a security-claiming preset where binding fails.

    Returns the :class:`Binding` (None for an unknown preset, which the caller refuses itself).
    With ``allow_unproven=True`` a failing check is returned instead of refused.

    >>> require_binding("fjw24", n=2**12, M=2**20, preset="sec64")
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: fjw24: preset sec64 does not bind at n = 4096, M = 1048576 (it claims n <= 2^16, M <= 2^10): B_g^t* > 2*Y*B_eval fails; pass allow_unproven=True to play it unproven
    >>> require_binding("fjw24", n=2**12, M=2**20, preset="sec64", allow_unproven=True).holds
    False
    """
    chosen = FJW24_PRESETS.get(preset)
    if chosen is None:
        return None
    return check_binding(name, preset, chosen.binding(n, M, n_lwe=n_lwe, base_bits=base_bits, L=L),
                         allow_unproven=allow_unproven)


def check_binding(name: str, preset: str, b: Binding, *, allow_unproven: bool = False) -> Binding:
    """``b`` (a tester's own binding check, e.g. ``GswParams.binding``), refused where a preset that claims
    security does not bind, unless ``allow_unproven``."""
    if FJW24_PRESETS[preset].claims_security and not b.holds and not allow_unproven:
        raise SpecError(f"{name}: preset {preset} does not bind at n = {b.n}, M = {b.M} (it claims "
                        f"{FJW24_PRESETS[preset].range_text()}): {b.failed} fails; pass allow_unproven=True "
                        f"to play it unproven")
    return b
