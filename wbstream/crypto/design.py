"""Choosing FJW'24 parameters: the smallest key whose proof-world LWE meets a target and that binds over a range.

For a claimed range ``n <= n_max, M <= M_max`` and a target of ``target`` bits
(core-SVP, :func:`wbstream.crypto.params.lwe_security_bits`), every modulus
``q = 2^log_q`` and gadget base ``B_g = 2^base_bits`` is tried: sigma is the
largest power of two under which binding still holds at ``(n_max, M_max)``
(worst case, :func:`wbstream.crypto.binding.binding`; the algorithm's key is
uniform whatever sigma is, so sigma is the proof's free choice), and n_lwe the
smallest multiple of ``step`` that meets the target with it. The winner has the
fewest key bits at ``n_max``. The presets ``sec64`` and ``sec128`` are its output.

>>> d = design_fjw24(64, n_max=2**16, M_max=2**10)
>>> (d.log_q, d.base_bits, d.n_lwe, d.log2_sigma) == (128, 16, 2300, 28)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wbstream.crypto.binding import LOG_Q_CHOICES, binding
from wbstream.crypto.modular import GADGET_BASE_BITS
from wbstream.crypto.params import lwe_security_bits

MAX_N_LWE = 16384


@dataclass(frozen=True)
class Design:
    """One candidate: modulus, base, LWE dimension, proof-world sigma (log2), its estimate and key size."""

    log_q: int
    base_bits: int
    n_lwe: int
    log2_sigma: int
    lwe_bits: float
    key_bits: int


def key_bits(n: int, n_lwe: int, base_bits: int, log_q: int) -> int:
    """``L N^2 ell log2 q`` bits: L = ceil(log2 n) ciphertexts of N x N ell words mod q."""
    N, L = n_lwe + 1, max(1, (int(n) - 1).bit_length())
    return L * N * N * (log_q // base_bits) * log_q


def max_log2_sigma(*, n: int, M: int, n_lwe: int, base_bits: int, log_q: int) -> int | None:
    """The largest integer s such that binding holds with sigma = 2^s at (n, M); None if none from 2^0 up."""
    ok = lambda s: binding(n=n, M=M, n_lwe=n_lwe, base_bits=base_bits, log_q=log_q, sigma=2.0 ** s).holds  # noqa: E731
    if not ok(0):
        return None
    lo, hi = 0, log_q
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _meets(target, n_max, M_max, base_bits, log_q, n_lwe):
    s = max_log2_sigma(n=n_max, M=M_max, n_lwe=n_lwe, base_bits=base_bits, log_q=log_q)
    if s is None:
        return None
    bits = lwe_security_bits(n_lwe, log_q, 2.0 ** s)
    return (s, bits) if bits >= target else None


def design_fjw24(target: float, *, n_max: int, M_max: int, step: int = 50) -> Design | None:
    """The candidate with the fewest key bits at n_max (see the module docstring); None if nothing binds."""
    best = None
    for log_q in LOG_Q_CHOICES:
        for base_bits in GADGET_BASE_BITS:
            if log_q % base_bits:
                continue
            lo, hi = 0, MAX_N_LWE // step  # in units of step: fails at lo (or lo = 0), find the first success
            if _meets(target, n_max, M_max, base_bits, log_q, hi * step) is None:
                continue
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if _meets(target, n_max, M_max, base_bits, log_q, mid * step) else (mid, hi)
            s, bits = _meets(target, n_max, M_max, base_bits, log_q, hi * step)
            cand = Design(log_q, base_bits, hi * step, s, bits, key_bits(n_max, hi * step, base_bits, log_q))
            if best is None or cand.key_bits < best.key_bits:
                best = cand
    return best
