"""Exact linear algebra mod a prime p < 2^31, and the exact rank of an integer matrix.

Every residue is below ``p < 2^31``, so a product of two fits in int64 exactly; each
elimination step reduces mod p before the next product. The referee of the matrix
problems and the low-rank algorithms both use this module.

The rank of an integer matrix over Q is found without floating point: the rank mod
p never exceeds it, and a non-zero r x r minor is below Hadamard's bound
``(sqrt(r) * B)^r`` (entries bounded by B), so it cannot vanish mod every prime of a
set whose product exceeds that bound. Hence ``rank_Q = max_p rank_p`` over such a set.

>>> X = np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]])
>>> rank_mod_p(X, 7), integer_rank(X), rank_exceeds(X, 1), rank_exceeds(X, 2)
(2, 2, True, False)
>>> kernel_mod_p(np.array([[1, 1, 0], [0, 1, 1]]), 5).tolist()
[[1, 4, 1]]
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .primes import is_prime

#: Moduli must be below this so a product of two residues fits in int64.
P_LIMIT = 1 << 31


def row_echelon(A: np.ndarray, p: int) -> tuple[np.ndarray, list[int]]:
    """The reduced row echelon form of ``A`` mod p and its pivot columns.

    >>> R, piv = row_echelon(np.array([[2, 4], [1, 3]]), 5)
    >>> R.tolist(), piv
    ([[1, 0], [0, 1]], [0, 1])
    """
    if not 2 <= p < P_LIMIT:
        raise ValueError(f"the modulus must be a prime in [2, 2^31), got {p}")
    R = np.mod(np.asarray(A, dtype=np.int64), p)
    rows, cols = R.shape
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        if r == rows:
            break
        nz = np.flatnonzero(R[r:, c])
        if not len(nz):
            continue
        piv = r + int(nz[0])
        if piv != r:
            R[[r, piv]] = R[[piv, r]]
        R[r] = R[r] * pow(int(R[r, c]), p - 2, p) % p
        factors = R[:, c].copy()
        factors[r] = 0
        hit = np.flatnonzero(factors)
        if len(hit):
            R[hit] = (R[hit] - factors[hit, None] * R[r]) % p
        pivots.append(c)
        r += 1
    return R, pivots


def rank_mod_p(A: np.ndarray, p: int) -> int:
    """The rank of ``A`` over F_p."""
    A = np.asarray(A)
    if A.size == 0:
        return 0
    return len(row_echelon(A if A.shape[0] <= A.shape[1] else A.T, p)[1])


def kernel_mod_p(A: np.ndarray, p: int) -> np.ndarray:
    """A basis of ``{z : A z = 0 mod p}``, one vector per row (shape ``(dim, cols)``)."""
    R, pivots = row_echelon(A, p)
    cols = R.shape[1]
    free = [c for c in range(cols) if c not in set(pivots)]
    basis = np.zeros((len(free), cols), dtype=np.int64)
    for b, f in enumerate(free):
        basis[b, f] = 1
        for i, c in enumerate(pivots):
            basis[b, c] = -R[i, f] % p
    return basis


def solve_mod_p(A: np.ndarray, b: np.ndarray, p: int) -> np.ndarray | None:
    """One solution of ``A y = b mod p`` (free variables 0), or None if there is none."""
    A = np.asarray(A, dtype=np.int64)
    R, pivots = row_echelon(np.column_stack([A, np.asarray(b, dtype=np.int64)]), p)
    cols = A.shape[1]
    if cols in pivots:
        return None
    y = np.zeros(cols, dtype=np.int64)
    for i, c in enumerate(pivots):
        y[c] = R[i, cols]
    return y


@lru_cache(maxsize=1)
def _descending_primes() -> list[int]:
    out, c = [], P_LIMIT - 1
    while len(out) < 512:
        if is_prime(c):
            out.append(c)
        c -= 2
    return out


def _hadamard_log2(r: int, bound: int) -> float:
    """log2 of Hadamard's bound on an r x r minor with entries in [-bound, bound]."""
    return r * (0.5 * math.log2(r) + math.log2(bound)) if r and bound else 0.0


def _primes_beyond(log2_bound: float):
    """Primes below 2^31 whose product exceeds 2^log2_bound (at least one)."""
    total = 0.0
    for p in _descending_primes():
        yield p
        total += math.log2(p)
        if total > log2_bound + 1:
            return
    raise ValueError("the matrix is too large for the prime table (product of 512 primes)")


def rank_exceeds(X: np.ndarray, k: int) -> bool:
    """Whether the rank over Q of the integer matrix ``X`` exceeds ``k``, exactly."""
    X = np.asarray(X, dtype=np.int64)
    if k >= min(X.shape):
        return False
    bound = int(np.abs(X).max()) if X.size else 0
    if bound == 0:
        return False
    for p in _primes_beyond(_hadamard_log2(k + 1, bound)):
        if rank_mod_p(X, p) > k:
            return True
    return False  # every (k+1)-minor vanishes mod primes whose product exceeds its bound


def integer_rank(X: np.ndarray) -> int:
    """The rank over Q of the integer matrix ``X``, exactly."""
    X = np.asarray(X, dtype=np.int64)
    bound = int(np.abs(X).max()) if X.size else 0
    if bound == 0:
        return 0
    best, full = 0, min(X.shape)
    for p in _primes_beyond(_hadamard_log2(full, bound)):
        best = max(best, rank_mod_p(X, p))
        if best == full:
            break
    return best
