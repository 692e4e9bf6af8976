"""Gaussian elimination over F_{p^m} (matrices of field elements, shape ``(rows, cols, m)``).

Used by the Gabidulin decoder on k x k systems; each row operation is one batched
field multiplication.

>>> from wbstream.algorithms.lowrank.field import BinomialField
>>> F = BinomialField(13, 2)
>>> one, t = np.array([1, 0]), np.array([0, 1])
>>> A = np.array([[one, t], [t, F.mul(t, t)]])             # rank 1: row 2 = t * row 1
>>> len(ext_echelon(F, A)[1])
1
>>> M, b = np.array([[one, t], [t, one]]), np.array([one, one])
>>> x = ext_solve(F, M, b)
>>> bool((F.mul(M, x[None]).sum(axis=1) % 13 == b).all())
True
"""

from __future__ import annotations

import numpy as np


def _nonzero(A: np.ndarray) -> np.ndarray:
    return A.any(axis=-1)


def ext_echelon(F, A: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of a matrix over F_{p^m}, and its pivot columns."""
    R = np.asarray(A, dtype=np.int64) % F.p
    rows, cols = R.shape[:2]
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        if r == rows:
            break
        nz = np.flatnonzero(_nonzero(R[r:, c]))
        if not len(nz):
            continue
        piv = r + int(nz[0])
        if piv != r:
            R[[r, piv]] = R[[piv, r]]
        R[r] = F.mul(R[r], F.inverse(R[r, c]))
        factors = R[:, c].copy()
        factors[r] = 0
        hit = np.flatnonzero(_nonzero(factors))
        if len(hit):
            R[hit] = (R[hit] - F.mul(factors[hit, None, :], R[r][None, :, :])) % F.p
        pivots.append(c)
        r += 1
    return R, pivots


def ext_rank(F, A: np.ndarray) -> int:
    """The rank of a matrix over F_{p^m}."""
    return len(ext_echelon(F, A)[1])


def ext_solve(F, A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The unique solution of ``A x = b`` over F_{p^m} for square non-singular A, else None."""
    A = np.asarray(A, dtype=np.int64)
    n = A.shape[0]
    R, pivots = ext_echelon(F, np.concatenate([A, np.asarray(b, np.int64)[:, None, :]], axis=1))
    if pivots != list(range(n)):
        return None
    return R[:, n]
