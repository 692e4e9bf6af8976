"""Arithmetic mod 2^64 and mod small primes, and the gadget decomposition.

Mod 2^64 is numpy ``uint64`` wrap-around. The one heavy operation, an exact
product ``A @ D mod 2^64`` of an arbitrary ``uint64`` matrix by a matrix of small
digits, runs through float64 BLAS: ``A`` is cut into limbs of at most 32 bits,
each limb product is exact in float64 because every partial sum stays below
2^53 (the inner dimension is cut into chunks when it would not), and the limb
products are recombined with ``uint64`` shifts, which wrap mod 2^64.

>>> A = np.array([[2**64 - 1, 3]], dtype=np.uint64)
>>> D = np.array([[2], [5]], dtype=np.uint8)
>>> matmul_mod_2_64(A, D, digit_bits=8)          # (2^64 - 1)*2 + 15 = 13 (mod 2^64)
array([[13]], dtype=uint64)
>>> W = np.array([0x0102], dtype=np.uint64)
>>> digits = gadget_decompose(W, base_bits=8)
>>> digits[:3]
array([2, 1, 0], dtype=uint8)
>>> matmul_mod_2_64(gadget_matrix(1, 8), digits, 8)
array([258], dtype=uint64)
"""

from __future__ import annotations

import sys

import numpy as np

# Re-exported: crypto's users and the algorithms import them from here.
from wbstream.linalg.primes import is_prime, next_prime  # noqa: F401

Q64 = 1 << 64
GADGET_BASE_BITS = (1, 2, 4, 8, 16)
EXACT_FLOAT = 1 << 53  # every integer of absolute value <= 2^53 is a float64
LIMB_BITS = (32, 22, 16)  # 2, 3 or 4 limbs; fewer limbs = fewer flops
MIN_CHUNK = 512  # below this, chunking costs more than one more limb
POWERS_MOD_MAX = 1 << 32  # (p - 1)^2 < 2^64: uint64 products stay exact


# -- exact products mod 2^64 through float64 limbs --------------------------
def _check_digit_bits(digit_bits: int) -> int:
    if not isinstance(digit_bits, (int, np.integer)) or not 1 <= digit_bits <= 16:
        raise ValueError(f"digit_bits must be an integer in [1, 16], got {digit_bits!r}")
    return int(digit_bits)


def _max_chunk(limb_bits: int, digit_bits: int) -> int:
    return EXACT_FLOAT // (((1 << limb_bits) - 1) * ((1 << digit_bits) - 1))


class LimbMatrix:
    """A ``uint64`` matrix cut into float64 limbs, ready for exact products mod 2^64.

    ``LimbMatrix(A, digit_bits) @ D`` equals ``(A @ D) mod 2^64`` for every ``D``
    with entries in ``[0, 2^digit_bits)``. Splitting once and multiplying many
    times saves the split. By default the fewest limbs (2, 3 or 4, of 32, 22 or
    16 bits) are used such that a chunk of the inner dimension of at least
    ``min(c, 512)`` stays exact; ``limb_bits`` and ``chunk`` override this.
    The limbs are stacked into one ``(limbs*r, c)`` float64 matrix, so each chunk
    is a single BLAS call.

    >>> A = np.array([[2**63, 7], [1, 2**64 - 1]], dtype=np.uint64)
    >>> lm = LimbMatrix(A, digit_bits=4)
    >>> lm.limbs, lm.chunk
    (2, 2)
    >>> (lm @ np.array([[2], [3]], dtype=np.uint8)).ravel().tolist()
    [21, 18446744073709551615]
    """

    __slots__ = ("shape", "digit_bits", "limb_bits", "limbs", "chunk", "_stacked")

    def __init__(self, A: np.ndarray, digit_bits: int, *, limb_bits: int | None = None,
                 chunk: int | None = None):
        A = np.asarray(A)
        if A.dtype != np.uint64 or A.ndim != 2:
            raise ValueError(f"A must be a 2-D uint64 array, got {A.ndim}-D {A.dtype}")
        self.digit_bits = _check_digit_bits(digit_bits)
        r, c = A.shape
        if limb_bits is None:
            need = max(1, min(c, MIN_CHUNK))
            limb_bits = next((b for b in LIMB_BITS if _max_chunk(b, self.digit_bits) >= need), 16)
        elif limb_bits not in LIMB_BITS:
            raise ValueError(f"limb_bits must be one of {LIMB_BITS}, got {limb_bits!r}")
        exact = _max_chunk(limb_bits, self.digit_bits)
        if chunk is None:
            chunk = exact
        elif not 1 <= chunk <= exact:
            raise ValueError(f"chunk must be in [1, {exact}] for {limb_bits}-bit limbs and "
                             f"{self.digit_bits}-bit digits (float64 exactness), got {chunk}")
        self.shape = (r, c)
        self.limb_bits = limb_bits
        self.limbs = -(-64 // limb_bits)
        self.chunk = int(min(chunk, max(c, 1)))
        stacked = np.empty((self.limbs, r, c), dtype=np.float64)
        # uint32/uint16 -> float64 converts far faster than uint64 -> float64.
        if limb_bits in (16, 32) and sys.byteorder == "little":
            small = np.ascontiguousarray(A).view(f"<u{limb_bits // 8}").reshape(r, c, self.limbs)
            np.copyto(stacked, small.transpose(2, 0, 1))
        else:
            mask = np.uint64((1 << limb_bits) - 1)
            for k in range(self.limbs):
                stacked[k] = ((A >> np.uint64(k * limb_bits)) & mask).astype(np.uint32)
        self._stacked = stacked.reshape(self.limbs * r, c)

    @property
    def nbytes(self) -> int:
        return self._stacked.nbytes

    def __matmul__(self, D: np.ndarray) -> np.ndarray:
        D = np.asarray(D)
        vector = D.ndim == 1
        if vector:
            D = D[:, None]
        if D.ndim != 2 or D.shape[0] != self.shape[1]:
            raise ValueError(f"cannot multiply a {self.shape} matrix by D of shape {np.shape(D)}")
        _check_digits(D, self.digit_bits)
        r, c = self.shape
        Df = D.astype(np.float64)
        out = np.zeros((r, D.shape[1]), dtype=np.uint64)
        for c0 in range(0, c, self.chunk):
            c1 = min(c, c0 + self.chunk)
            part = (self._stacked[:, c0:c1] @ Df[c0:c1]).astype(np.uint64)
            for k in range(self.limbs):
                out += part[k * r:(k + 1) * r] << np.uint64(k * self.limb_bits)
        return out[:, 0] if vector else out


def _check_digits(D: np.ndarray, digit_bits: int) -> None:
    if D.dtype == np.bool_:
        return
    if not np.issubdtype(D.dtype, np.integer):
        raise ValueError(f"digits must have an integer dtype, got {D.dtype}")
    if np.issubdtype(D.dtype, np.unsignedinteger) and D.dtype.itemsize * 8 <= digit_bits:
        return
    if D.size and (D.min() < 0 or D.max() >= (1 << digit_bits)):
        raise ValueError(f"digits must lie in [0, 2^{digit_bits}), "
                         f"got values in [{D.min()}, {D.max()}]")


def matmul_mod_2_64(A: np.ndarray, D: np.ndarray, digit_bits: int) -> np.ndarray:
    """Exact ``(A @ D) mod 2^64`` for ``uint64`` ``A`` and digits ``D`` in ``[0, 2^digit_bits)``.

    ``A`` is ``(r, c)``; ``D`` is ``(c, m)`` or ``(c,)`` of any integer (or bool)
    dtype; the result is ``uint64`` ``(r, m)`` or ``(r,)``. See :class:`LimbMatrix`.

    >>> A = np.full((2, 3), 2**64 - 1, dtype=np.uint64)
    >>> matmul_mod_2_64(A, np.ones((3, 1), dtype=np.int64), digit_bits=1).ravel()
    array([18446744073709551613, 18446744073709551613], dtype=uint64)
    """
    return LimbMatrix(A, digit_bits) @ D


def matmul_mod_2_64_int(A: np.ndarray, D: np.ndarray, digit_bits: int) -> np.ndarray:
    """Exact ``(A @ D) mod 2^64`` as numpy's ``uint64`` product, which wraps mod 2^64: no limbs.

    For a few columns of ``D`` and a key that is not kept as limbs (memory-mapped),
    this reads ``A`` once instead of cutting it into float64 limbs per product.
    ``A`` is ``(r, c)``, ``D`` ``(c, m)``; the result is ``uint64`` ``(r, m)``.

    >>> matmul_mod_2_64_int(np.array([[2**64 - 1, 3]], dtype=np.uint64), np.array([[2], [5]]), 8)
    array([[13]], dtype=uint64)
    """
    A = np.asarray(A)
    D = np.asarray(D)
    if A.dtype != np.uint64 or A.ndim != 2:
        raise ValueError(f"A must be a 2-D uint64 array, got {A.ndim}-D {A.dtype}")
    if D.ndim != 2 or D.shape[0] != A.shape[1]:
        raise ValueError(f"cannot multiply a {A.shape} matrix by D of shape {D.shape}")
    _check_digits(D, _check_digit_bits(digit_bits))
    return A @ np.asfortranarray(D.astype(np.uint64))  # column-contiguous: the inner loop runs down c


def matmul_mod_2_64_reference(A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Slow exact ``(A @ D) mod 2^64`` with Python integers, for tests and benchmarks.

    >>> matmul_mod_2_64_reference(np.array([[2**64 - 1]], dtype=np.uint64), np.array([[2]]))
    array([[18446744073709551614]], dtype=uint64)
    """
    A = np.asarray(A).astype(object)
    D = np.asarray(D).astype(object)
    return (np.asarray(A @ D, dtype=object) % Q64).astype(np.uint64)


# -- gadget ------------------------------------------------------------------
def _check_base_bits(base_bits: int) -> int:
    if base_bits not in GADGET_BASE_BITS:
        raise ValueError(f"base_bits must be one of {GADGET_BASE_BITS} "
                         f"(divides 64, at most 16), got {base_bits!r}")
    return int(base_bits)


def gadget_matrix(N: int, base_bits: int) -> np.ndarray:
    """``G = I_N ⊗ (1, B, ..., B^(ell-1))``, ``uint64`` ``(N, N*ell)``, ``B = 2^base_bits``.

    >>> gadget_matrix(2, 16)
    array([[              1,           65536,      4294967296, 281474976710656,
                          0,               0,               0,               0],
           [              0,               0,               0,               0,
                          1,           65536,      4294967296, 281474976710656]],
          dtype=uint64)
    """
    b = _check_base_bits(base_bits)
    if N < 1:
        raise ValueError(f"N must be >= 1, got {N}")
    ell = 64 // b
    g = np.left_shift(np.uint64(1), np.arange(ell, dtype=np.uint64) * np.uint64(b))
    return np.kron(np.eye(N, dtype=np.uint64), g[None, :])


def gadget_decompose(W: np.ndarray, base_bits: int) -> np.ndarray:
    """``G^-1``: base-``2^base_bits`` digits of each entry of ``W``, least significant first.

    ``W`` is ``uint64`` of shape ``(N,)`` or ``(N, m)``. The result has shape
    ``(N*ell,)`` or ``(N*ell, m)``, row ``e*ell + t`` holding digit ``t`` of
    ``W[e]``, so ``gadget_matrix(N, base_bits) @ digits == W (mod 2^64)``. Its
    dtype is ``uint8`` for ``base_bits <= 8`` and ``uint16`` for ``base_bits = 16``.

    >>> gadget_decompose(np.array([[1], [2**64 - 1]], dtype=np.uint64), 16).ravel()
    array([    1,     0,     0,     0, 65535, 65535, 65535, 65535], dtype=uint16)
    """
    b = _check_base_bits(base_bits)
    W = np.asarray(W)
    if W.dtype != np.uint64 or W.ndim not in (1, 2):
        raise ValueError(f"W must be a 1-D or 2-D uint64 array, got {W.ndim}-D {W.dtype}")
    ell = 64 // b
    out_dtype = np.uint16 if b == 16 else np.uint8
    W2 = W[:, None] if W.ndim == 1 else W
    n, m = W2.shape
    if b in (8, 16) and sys.byteorder == "little":
        # Little-endian bytes (or 16-bit words) of uint64 are its digits: a byte transpose.
        digits = np.ascontiguousarray(W2).view(out_dtype).reshape(n, m, ell).transpose(0, 2, 1)
    else:
        shifts = (np.arange(ell, dtype=np.uint64) * np.uint64(b))[None, :, None]
        digits = ((W2[:, None, :] >> shifts) & np.uint64((1 << b) - 1)).astype(out_dtype)
    digits = digits.reshape(n * ell, m)
    return digits[:, 0].copy() if W.ndim == 1 else digits


# -- prime fields and small helpers -----------------------------------------
def mod_inv(a: int, p: int) -> int:
    """The inverse of ``a`` mod ``p``; ``ValueError`` if there is none.

    >>> mod_inv(3, 7)
    5
    """
    if p < 2:
        raise ValueError(f"modulus must be >= 2, got {p}")
    try:
        return pow(int(a), -1, int(p))
    except ValueError:
        raise ValueError(f"{a} is not invertible mod {p}") from None


def powers_mod(bases: np.ndarray, count: int, p: int) -> np.ndarray:
    """``int64`` ``(count, len(bases))`` with row ``t`` equal to ``bases^t mod p``.

    Requires ``2 <= p <= 2^32`` so products of residues fit in ``uint64``.

    >>> powers_mod(np.array([2, 3]), 4, 7)
    array([[1, 1],
           [2, 3],
           [4, 2],
           [1, 6]])
    """
    if not 2 <= p <= POWERS_MOD_MAX:
        raise ValueError(f"powers_mod needs 2 <= p <= 2^32, got {p}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    b = np.asarray(bases)
    if b.ndim != 1 or not np.issubdtype(b.dtype, np.integer):
        raise ValueError(f"bases must be a 1-D integer array, got {b.ndim}-D {b.dtype}")
    pu = np.uint64(p)
    b = (np.mod(b.astype(np.int64), p) if np.issubdtype(b.dtype, np.signedinteger)
         else b % pu).astype(np.uint64)
    out = np.empty((count, len(b)), dtype=np.uint64)
    if count:
        out[0] = 1 % p
    for t in range(1, count):
        out[t] = out[t - 1] * b % pu
    return out.astype(np.int64)


def centered(x, q: int):
    """Lift residues mod ``q`` to ``(-q/2, q/2]``.

    Works on Python ints and on integer arrays (result ``int64``). For
    ``q = 2^64`` an array is reinterpreted as ``int64`` (a view for ``uint64``
    input), so its range is ``[-2^63, 2^63)``: ``2^63`` becomes ``-2^63``.

    >>> centered(6, 7), centered(3, 7), centered(-1, 2**64)
    (-1, 3, -1)
    >>> centered(np.array([0, 2**63, 2**64 - 1], dtype=np.uint64), 2**64)
    array([                   0, -9223372036854775808,                   -1])
    """
    q = int(q)
    if not 2 <= q <= Q64:
        raise ValueError(f"q must be in [2, 2^64], got {q}")
    if not isinstance(x, np.ndarray):
        r = int(x) % q
        return r - q if r > q // 2 else r
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"centered needs an integer array, got {x.dtype}")
    if np.issubdtype(x.dtype, np.signedinteger):
        x = x.astype(np.int64, copy=False)
        if q == Q64:
            return x
        if q < 1 << 63:
            r = np.mod(x, np.int64(q)).astype(np.uint64)
        else:  # x < 2^63 <= q: only negatives need a q added
            r = np.where(x < 0, x.view(np.uint64) + np.uint64(q), x.view(np.uint64))
    else:
        x = x.astype(np.uint64, copy=False)
        if q == Q64:
            return x.view(np.int64)
        r = x % np.uint64(q)
    return np.where(r > np.uint64(q // 2), r - np.uint64(q), r).view(np.int64)
