"""Lattice reduction for attacks: short integer kernel vectors of a matrix.

Uses fpylll (the optional ``attacks`` extra, GPL-2+). The kernel lattice
``{z : A z = 0}`` (or ``= 0 mod q``) is embedded as the rows of
``[I_d | W A^T]`` (plus ``[0 | W q I]`` for a modulus); after LLL, rows whose
weighted tail vanishes are kernel vectors, short because LLL made them so
(docs/references.md#kernel-injection).
"""

from __future__ import annotations

import numpy as np

#: Weight on the sketch coordinates; large enough that LLL zeroes them first.
DEFAULT_WEIGHT = 1 << 20


def fpylll_available() -> bool:
    try:
        import fpylll  # noqa: F401
    except ImportError:
        return False
    return True


def short_kernel_vectors(A: np.ndarray, *, modulus: int | None = None,
                         weight: int = DEFAULT_WEIGHT) -> list[np.ndarray]:
    """Non-zero integer vectors z with ``A z = 0`` (mod ``modulus``), shortest first.

    >>> A = np.array([[1, 1, 0], [0, 1, 1]])
    >>> z = short_kernel_vectors(A)[0]
    >>> (A @ z).tolist(), int(np.abs(z).max())
    ([0, 0], 1)
    """
    try:
        from fpylll import LLL, IntegerMatrix
    except ImportError:
        raise ImportError("lattice reduction needs fpylll: pip install 'wbstream[attacks]'") from None
    A = np.asarray(A, dtype=np.int64)
    rows, d = A.shape
    extra = rows if modulus is not None else 0
    basis = [[int(i == j) for j in range(d)] + [int(weight * v) for v in A[:, i]] for i in range(d)]
    for r in range(extra):
        basis.append([0] * d + [int(weight * modulus) if c == r else 0 for c in range(rows)])
    B = IntegerMatrix.from_matrix(basis)
    LLL.reduction(B)
    found = []
    for i in range(B.nrows):
        row = list(B[i])
        if any(row[d:]) or not any(row[:d]):
            continue
        z = np.array(row[:d], dtype=object)
        if max(abs(int(v)) for v in z) >= 2**62:
            continue
        z = z.astype(np.int64)
        check = A @ z if modulus is None else (A.astype(object) @ z.astype(object)) % modulus
        if not np.any(check):
            found.append(z)
    found.sort(key=lambda z: (int(np.abs(z).max()), int(np.count_nonzero(z))))
    return found
