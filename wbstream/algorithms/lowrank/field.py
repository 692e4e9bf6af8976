"""The extension field F_{p^m} = F_p[t] / (t^m - w), with numpy int64 arithmetic.

**Why a binomial.** By Lidl–Niederreiter, *Finite Fields*, Theorem 3.75, ``t^m - w``
is irreducible over F_p when w is a primitive root mod p, every prime factor of m
divides p - 1, and p ≡ 1 (mod 4) if 4 | m. :func:`field_prime` picks the smallest
such prime above a floor, so the field exists for every m. Two things become cheap:

* reduction: ``t^m = w``, so a product's high half folds back times w;
* Frobenius: ``(c t^i)^p = c t^{ip}``, a monomial again. ``a ↦ a^{p^l}`` (written
  ``a^[l]``) moves coefficient i to ``i p^l mod m`` times a power of w: a
  permutation with scaling, O(m) per element.

Elements are int64 arrays whose last axis holds the m coefficients of ``1, t, ..., t^{m-1}``.
Residues are below ``p < 2^26`` and m below 2^11, so a convolution of two elements
(m products below 2^52) fits in int64 before it is reduced.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from wbstream.linalg.fp import solve_mod_p
from wbstream.linalg.primes import is_prime

#: Field primes stay below this, so a product of two residues is below 2^52.
P_FIELD_LIMIT = 1 << 26
#: Extension degrees stay below this, so m products below 2^52 sum below 2^63.
M_FIELD_LIMIT = 1 << 11


def prime_factors(n: int) -> list[int]:
    """The distinct prime factors of ``n``, ascending (trial division).

    >>> prime_factors(360)
    [2, 3, 5]
    """
    out, d = [], 2
    while d * d <= n:
        if n % d == 0:
            out.append(d)
            while n % d == 0:
                n //= d
        d += 1
    if n > 1:
        out.append(n)
    return out


def primitive_root(p: int) -> int:
    """The smallest generator of ``F_p^*``.

    >>> primitive_root(13), primitive_root(2)
    (2, 1)
    """
    if p == 2:
        return 1
    factors = prime_factors(p - 1)
    for g in range(2, p):
        if all(pow(g, (p - 1) // q, p) != 1 for q in factors):
            return g
    raise ValueError(f"{p} is not prime")


def field_prime(m: int, floor: int) -> int:
    """The smallest prime ``p > floor`` with ``t^m - w`` irreducible over F_p for a primitive root w.

    >>> field_prime(4, 10), field_prime(6, 100)
    (13, 103)
    """
    step = math.lcm(*prime_factors(m), 4 if m % 4 == 0 else 1) if m > 1 else 1
    p = floor + 1
    p += (1 - p) % step  # p = 1 (mod step)
    while not is_prime(p):
        p += step
    if p >= P_FIELD_LIMIT:
        raise ValueError(f"the field prime {p} for m = {m} above {floor} is >= 2^26: lower M")
    return p


class BinomialField:
    """F_{p^m} as F_p[t] / (t^m - w), w the smallest primitive root mod p.

    >>> F = BinomialField(p=13, m=4)           # 13 = 1 (mod 4), so t^4 - w is irreducible
    >>> a = np.array([1, 2, 0, 5]); b = F.inverse(a)
    >>> F.mul(a, b).tolist()
    [1, 0, 0, 0]
    >>> bool((F.frobenius(a, 4) == a).all()), bool((F.frobenius(F.frobenius(a, 1), -1) == a).all())
    (True, True)
    >>> bool((F.frobenius(a, 1) == F.power(a, 13)).all())
    True
    """

    def __init__(self, p: int, m: int):
        if not 1 <= m < M_FIELD_LIMIT:
            raise ValueError(f"extension degree m = {m} must be in [1, {M_FIELD_LIMIT})")
        if not (is_prime(p) and p < P_FIELD_LIMIT):
            raise ValueError(f"p = {p} must be a prime below 2^26")
        bad = [q for q in prime_factors(m) if (p - 1) % q] + ([4] if m % 4 == 0 and p % 4 != 1 else [])
        if bad:
            raise ValueError(f"t^{m} - w is reducible over F_{p}: {bad[0]} does not divide p - 1 = {p - 1}")
        self.p, self.m = int(p), int(m)
        self.w = primitive_root(self.p)

    def __repr__(self):
        return f"BinomialField(p={self.p}, m={self.m}, w={self.w})"

    # -- ring operations ----------------------------------------------------
    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a * b``, broadcasting over leading axes."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        m, p = self.m, self.p
        shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
        conv = np.zeros(shape + (2 * m,), dtype=np.int64)
        for i in range(m):
            conv[..., i:i + m] += a[..., i:i + 1] * b
        conv %= p
        return (conv[..., :m] + self.w * conv[..., m:]) % p

    def scale(self, a: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``c * a`` for F_p scalars c (broadcast against a's leading axes)."""
        return np.asarray(a, np.int64) * (np.asarray(c, np.int64) % self.p)[..., None] % self.p

    def multiplication_matrix(self, a: np.ndarray) -> np.ndarray:
        """The F_p matrix of ``z ↦ a z``: column j holds ``a t^j``."""
        m = self.m
        i, j = np.arange(m)[:, None], np.arange(m)[None, :]
        return np.asarray(a, np.int64)[(i - j) % m] * np.where(i < j, self.w, 1) % self.p

    def inverse(self, a: np.ndarray) -> np.ndarray:
        """``a^{-1}`` by solving ``a z = 1`` over F_p; ZeroDivisionError for 0."""
        one = np.zeros(self.m, dtype=np.int64)
        one[0] = 1
        z = solve_mod_p(self.multiplication_matrix(a), one, self.p)
        if z is None:
            raise ZeroDivisionError("0 has no inverse in F_{p^m}")
        return z

    def power(self, a: np.ndarray, e: int) -> np.ndarray:
        """``a^e`` by squaring (for tests; Frobenius powers use :meth:`frobenius`)."""
        out = np.zeros(self.m, dtype=np.int64)
        out[0] = 1
        base = np.asarray(a, np.int64) % self.p
        while e:
            if e & 1:
                out = self.mul(out, base)
            base = self.mul(base, base)
            e >>= 1
        return out

    # -- Frobenius ------------------------------------------------------------
    def monomial_frobenius(self, l: int) -> tuple[np.ndarray, np.ndarray]:
        """``(t^i)^[l] = factor[i] * t^position[i]``: the arrays ``(position, factor)``."""
        return _monomial_frobenius(self.p, self.m, self.w, l % self.m)

    def frobenius(self, a: np.ndarray, l: int) -> np.ndarray:
        """``a^[l] = a^{p^l}`` (l may be negative: the map has order m)."""
        pos, fac = self.monomial_frobenius(l)
        a = np.asarray(a, np.int64)
        out = np.empty_like(a)
        out[..., pos] = a * fac % self.p
        return out


@lru_cache(maxsize=256)
def _monomial_frobenius(p: int, m: int, w: int, l: int) -> tuple[np.ndarray, np.ndarray]:
    # i p^l = i (Q m + rho) with rho = p^l mod m, so floor(i p^l / m) = i Q + floor(i rho / m).
    P = p ** l
    rho = P % m
    q = ((P - rho) // m) % (p - 1)
    i = np.arange(m, dtype=np.int64)
    exponents = (i * q + (i * rho) // m) % (p - 1)
    position = (i * rho) % m
    factor = _pow_vec(w, exponents, p)
    position.flags.writeable = factor.flags.writeable = False
    return position, factor


def _pow_vec(base: int, exponents: np.ndarray, p: int) -> np.ndarray:
    """``base^e mod p`` for every e in ``exponents``, by square-and-multiply."""
    out = np.ones_like(exponents)
    e = exponents.copy()
    b = base % p
    while e.any():
        odd = (e & 1).astype(bool)
        out[odd] = out[odd] * b % p
        b = b * b % p
        e >>= 1
    return out
