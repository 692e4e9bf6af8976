"""When does the FJW'24 tester bind? Noise bounds and the choice of the digit t*.

In the security proof the key ciphertexts ``C_1..C_L`` are GSW encryptions of
the bits of a hidden index v, and every evaluated column ``EvalCol(j)``
decrypts to ``1[j = v] B_g^{t*} + e_j``. A collision ``y = x - x̂`` with
``|y|_1 <= Y`` then decrypts to ``y_v B_g^{t*} + e`` with ``|e| <= Y B_eval``,
where ``B_eval`` bounds every ``|e_j|``. It reveals ``y_v`` (so equal hashes
force ``x_v = x̂_v``) when both inequalities hold (Feng–Jain–Woodruff 2024,
the binding property (P2); docs/references.md#fjw24):

* ``B_g^{t*} > 2 Y B_eval``: the noise cannot move the rounding;
* ``2M B_g^{t*} + Y B_eval < q/2``: the phase does not wrap around q.

``Y = 2Mn`` (every entry of x and x̂ lies in ``[-M, M]``). The noise of a
column is bounded along the evaluation chain: a fresh column ``A r + mu G e_c``
has noise ``e^T r``, at most ``m B_e`` for ``m`` public-key samples and errors
cut at ``B_e``; each of the ``L - 1`` levels adds ``e_lev^T G^{-1}(w)``, at most
``N l (B_g - 1) m B_e``. That is the worst case. The *subgaussian* figure
replaces sums of independent terms by their standard deviation times a tail
factor for all n columns at probability ``2^-kappa``, keeping the common part of
the fresh noise (``sum(e)/2`` in every column) coherent.

t* is the smallest digit that meets the first inequality; the second is then
checked. When no digit meets both, the proof does not cover ``(n, M)`` at this
modulus: :func:`binding` says which inequality fails.

>>> b = binding(n=2**16, M=2**20, n_lwe=2048, base_bits=8, log_q=128, sigma=3.2)
>>> b.holds, b.t_star, b.margin_bits > 0
(True, 12, True)
>>> binding(n=2**20, M=2**20, n_lwe=256, base_bits=8, log_q=64, sigma=3.2).failed
'B_g^t* > 2*Y*B_eval'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Statistical parameter: noise bounds hold except with probability 2^-KAPPA.
KAPPA = 64
#: Moduli the tester supports, as log2 q.
LOG_Q_CHOICES = (64, 128)


def public_key_samples(n_lwe: int, log_q: int) -> int:
    """``m = N log2 q + 1`` public-key columns: the leftover-hash-lemma regime of the proof."""
    return (n_lwe + 1) * log_q + 1


def error_cut(sigma: float, samples: int, kappa: int = KAPPA) -> int:
    """``B_e``: all ``samples`` Gaussian errors of width sigma lie in ``[-B_e, B_e]`` except w.p. 2^-kappa."""
    tail = math.sqrt(2 * math.log(2 * samples) + 2 * kappa * math.log(2))
    return math.ceil(sigma * tail)


def eval_noise_worst(*, n_lwe: int, base_bits: int, log_q: int, L: int, sigma: float,
                     kappa: int = KAPPA) -> int:
    """Worst-case ``B_eval`` of any EvalCol column, errors cut at :func:`error_cut`.

    >>> eval_noise_worst(n_lwe=1, base_bits=16, log_q=64, L=1, sigma=1.0) == 129 * error_cut(1.0, 129)
    True
    """
    m = public_key_samples(n_lwe, log_q)
    fresh = m * error_cut(sigma, m, kappa)
    ell = log_q // base_bits
    return fresh * (1 + (L - 1) * (n_lwe + 1) * ell * ((1 << base_bits) - 1))


def eval_noise_subgaussian(*, n: int, n_lwe: int, base_bits: int, log_q: int, L: int, sigma: float,
                           kappa: int = KAPPA) -> float:
    """High-probability ``B_eval`` over all n columns, treating noise sums as subgaussian.

    Heuristic: digits are taken as uniform in ``[0, B_g)`` (mean square ``B_g^2 / 3``).
    A fresh column's noise ``e^T r`` (``r`` uniform in ``{0,1}^m``) is ``sum(e)/2``, the
    same for every column of every level (one public key), plus an independent part
    of variance ``sigma^2 m / 4``. The common part is carried coherently: at a level it
    is multiplied by the digit sum (about ``N l (B_g - 1) / 2``) and it may add up over
    levels. Leaving it out (summing all column noises as independent) undercounts the
    noise: measured maxima exceeded that figure in the proof world at ``B_g = 2^16``.
    """
    m = public_key_samples(n_lwe, log_q)
    ell = log_q // base_bits
    digits = (n_lwe + 1) * ell
    mean_sq_digit = ((1 << base_bits) - 1) * (2 * (1 << base_bits) - 1) / 6
    coherent = 1 + (L - 1) * digits * ((1 << base_bits) - 1) / 2
    sd = sigma * math.sqrt(m / 4) * math.sqrt(coherent ** 2 + 1 + (L - 1) * digits * mean_sq_digit)
    return sd * math.sqrt(2 * math.log(2 * max(n, 1)) + 2 * kappa * math.log(2))


@dataclass(frozen=True)
class Binding:
    """The binding check of one tester instance: t*, both inequalities, the margin in bits.

    ``margin_bits`` is the smaller slack of the two inequalities, in bits (negative when
    one fails); ``failed`` names the first inequality that fails, or is None.
    """

    n: int
    M: int
    log_q: int
    base_bits: int
    log2_b_eval: float
    log2_y: float
    t_star: int | None
    margin_bits: float
    failed: str | None

    @property
    def holds(self) -> bool:
        return self.failed is None

    def describe(self) -> str:
        """One line: 'yes (t* = 12, margin 9.6 bits)' or 'no: <inequality> fails (...)'."""
        if self.holds:
            return f"yes (t* = {self.t_star}, margin {self.margin_bits:.1f} bits)"
        return (f"no: {self.failed} fails at n = {self.n}, M = {self.M}, q = 2^{self.log_q} "
                f"(B_eval ~ 2^{self.log2_b_eval:.1f}, Y = 2^{self.log2_y:.1f})")


FIRST = "B_g^t* > 2*Y*B_eval"
SECOND = "2*M*B_g^t* + Y*B_eval < q/2"


def binding(*, n: int, M: int, n_lwe: int, base_bits: int, log_q: int, sigma: float,
            L: int | None = None, b_eval: int | None = None, kappa: int = KAPPA) -> Binding:
    """Pick t* from the noise and check both binding inequalities (worst-case ``B_eval`` by default).

    ``b_eval`` overrides the bound (e.g. with a measured or subgaussian figure).
    """
    if log_q not in LOG_Q_CHOICES:
        raise ValueError(f"log_q must be one of {LOG_Q_CHOICES}, got {log_q!r}")
    L = max(1, (int(n) - 1).bit_length()) if L is None else L
    if b_eval is None:
        b_eval = eval_noise_worst(n_lwe=n_lwe, base_bits=base_bits, log_q=log_q, L=L, sigma=sigma, kappa=kappa)
    b_eval = max(1, math.ceil(b_eval))
    Y = 2 * M * n
    half_q = 1 << (log_q - 1)
    ell = log_q // base_bits
    need = 2 * Y * b_eval
    t_star = next((t for t in range(ell) if 1 << (base_bits * t) > need), None)
    if t_star is None:
        return Binding(n, M, log_q, base_bits, math.log2(b_eval), math.log2(Y), None,
                       math.log2(1 << (base_bits * (ell - 1))) - math.log2(need), FIRST)
    scale = 1 << (base_bits * t_star)
    phase = 2 * M * scale + Y * b_eval
    margin = min(math.log2(scale) - math.log2(need), math.log2(half_q) - math.log2(phase))
    failed = None if phase < half_q else SECOND
    return Binding(n, M, log_q, base_bits, math.log2(b_eval), math.log2(Y), t_star, margin, failed)
