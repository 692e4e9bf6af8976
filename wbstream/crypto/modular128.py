"""Arithmetic mod 2^128 on ``uint64`` pairs, and exact products through float64 BLAS.

A residue mod 2^128 is a pair of ``uint64`` words on a trailing axis of length 2:
``[..., 0]`` the low word, ``[..., 1]`` the high one. A C-contiguous array of pairs
is, byte for byte, little-endian 128-bit integers, so the gadget digits of base
2^8 or 2^16 are a byte (or 16-bit word) view.

The heavy operation is ``A @ D mod 2^128`` for a 128-bit matrix ``A`` and small
digits ``D``: ``A`` is cut into 22-bit limbs (6 of them; 16-bit, 8 of them, when
the inner dimension is too long for 22), each limb product is one float64 BLAS
call whose partial sums stay below 2^53 (so they are exact), and the limb
products are recombined with carries in ``uint64``. :class:`Limb128Matrix` keeps
the limbs; :func:`matmul_mod_2_128` cuts them per block of rows and throws them
away (for memory-mapped keys, whose limbs would not fit in RAM).

>>> A = to_pairs(np.array([[2**128 - 1, 3]], dtype=object))
>>> D = np.array([[2], [5]], dtype=np.uint16)
>>> from_pairs(matmul_mod_2_128(A, D, 16))          # (2^128 - 1)*2 + 15 = 13 (mod 2^128)
array([[13]], dtype=object)
>>> from_pairs(add128(to_pairs(2**64 - 1), to_pairs(1))) == 2**64
True
"""

from __future__ import annotations

import sys

import numpy as np

from wbstream.crypto.modular import EXACT_FLOAT

Q128 = 1 << 128
LIMB128_BITS = (22, 16)  # 6 or 8 limbs
MASK64 = (1 << 64) - 1
_U32 = np.uint64(0xFFFFFFFF)


# -- conversion --------------------------------------------------------------
def to_pairs(x) -> np.ndarray:
    """Python ints (or an object/integer array) reduced mod 2^128, as ``uint64`` pairs ``(..., 2)``.

    >>> to_pairs(np.array([-1, 2**64 + 5], dtype=object)).tolist()
    [[18446744073709551615, 18446744073709551615], [5, 1]]
    """
    a = np.asarray(x, dtype=object)
    flat = [int(v) % Q128 for v in a.reshape(-1)]
    out = np.array([[v & MASK64, v >> 64] for v in flat], dtype=np.uint64).reshape(a.shape + (2,))
    return out


def from_pairs(P: np.ndarray):
    """``uint64`` pairs back to Python ints in ``[0, 2^128)``: an object array (or an int for one pair)."""
    P = np.asarray(P, dtype=np.uint64)
    if P.shape[-1:] != (2,):
        raise ValueError(f"pairs need a trailing axis of length 2, got shape {P.shape}")
    lo, hi = P[..., 0].astype(object), P[..., 1].astype(object)
    out = lo + (hi << 64) if P.ndim > 1 else int(P[0]) + (int(P[1]) << 64)
    return out


def centered128(P: np.ndarray) -> np.ndarray:
    """Lift residues mod 2^128 to ``[-2^127, 2^127)``: an object array of Python ints."""
    v = from_pairs(P)
    if not isinstance(v, np.ndarray):
        return v - Q128 if v >= 1 << 127 else v
    return np.where(v >= 1 << 127, v - Q128, v)


# -- elementwise ---------------------------------------------------------------
def add128(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b mod 2^128`` (pairs; broadcasting)."""
    lo = a[..., 0] + b[..., 0]
    hi = a[..., 1] + b[..., 1] + (lo < a[..., 0])
    return np.stack([lo, hi], axis=-1)


def neg128(a: np.ndarray) -> np.ndarray:
    """``-a mod 2^128``."""
    lo = np.uint64(0) - a[..., 0]
    hi = np.uint64(0) - a[..., 1] - (a[..., 0] != 0)
    return np.stack([lo, hi], axis=-1)


def sub128(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b mod 2^128``."""
    lo = a[..., 0] - b[..., 0]
    hi = a[..., 1] - b[..., 1] - (a[..., 0] < b[..., 0])
    return np.stack([lo, hi], axis=-1)


def shifted_sum(parts, shifts) -> np.ndarray:
    """``sum_k parts[k] * 2^shifts[k] mod 2^128`` for ``uint64`` arrays ``parts[k]`` (any values)."""
    acc = None
    for P, s in zip(parts, shifts):
        P = np.asarray(P, dtype=np.uint64)
        if s == 0:
            term = np.stack([P, np.zeros_like(P)], axis=-1)
        elif s < 64:
            term = np.stack([P << np.uint64(s), P >> np.uint64(64 - s)], axis=-1)
        elif s < 128:
            term = np.stack([np.zeros_like(P), P << np.uint64(s - 64)], axis=-1)
        else:
            continue
        acc = term if acc is None else add128(acc, term)
    return acc


def mul128_int(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a * v mod 2^128`` for pairs ``a`` and signed ``int64`` ``v`` (broadcasting over ``a``'s leading axes).

    >>> from_pairs(mul128_int(to_pairs(np.array([2**100, 3], dtype=object)), np.array([-2, 5]))).tolist() == [
    ...     2**128 - 2**101, 15]
    True
    """
    v = np.asarray(v, dtype=np.int64)
    neg = v < 0
    m = np.where(neg, -(v + 1), v).astype(np.uint64) + np.where(neg, np.uint64(1), np.uint64(0))  # |v| w/o overflow
    a32 = [a[..., 0] & _U32, a[..., 0] >> np.uint64(32), a[..., 1] & _U32, a[..., 1] >> np.uint64(32)]
    v32 = [m & _U32, m >> np.uint64(32)]
    parts, shifts = [], []
    for i, ai in enumerate(a32):
        for j, vj in enumerate(v32):
            if i + j < 4:
                parts.append(ai * vj)
                shifts.append(32 * (i + j))
    prod = shifted_sum(parts, shifts)
    return np.where(neg[..., None], neg128(prod), prod)


def sum128(a: np.ndarray, axis: int) -> np.ndarray:
    """Sum of pairs along ``axis`` (>= 0, not the pair axis) mod 2^128; fewer than 2^32 terms.

    >>> from_pairs(sum128(to_pairs(np.array([2**128 - 1, 2**64, 1], dtype=object)), axis=0)) == 2**64
    True
    """
    lo, ax = a[..., 0], axis
    return shifted_sum([(lo & _U32).sum(axis=ax, dtype=np.uint64), (lo >> np.uint64(32)).sum(axis=ax, dtype=np.uint64),
                        a[..., 1].sum(axis=ax, dtype=np.uint64)], [0, 32, 64])


# -- gadget ----------------------------------------------------------------------
def gadget_decompose128(W: np.ndarray, base_bits: int) -> np.ndarray:
    """``G^-1`` for 128-bit entries: ``W`` pairs ``(N, m, 2)`` (or ``(N, 2)``) to digits ``(N*ell, m)``.

    Row ``e*ell + t`` holds digit ``t`` (least significant first) of ``W[e]``,
    ``ell = 128 / base_bits``; dtype ``uint16`` for base 2^16, else ``uint8``.

    >>> gadget_decompose128(to_pairs(np.array([2**64 + 2], dtype=object)), 16).ravel().tolist()
    [2, 0, 0, 0, 1, 0, 0, 0]
    """
    from wbstream.crypto.modular import _check_base_bits

    b = _check_base_bits(base_bits)
    W = np.asarray(W)
    if W.dtype != np.uint64 or W.ndim not in (2, 3) or W.shape[-1] != 2:
        raise ValueError(f"W must be uint64 pairs of shape (N, 2) or (N, m, 2), got {W.dtype} {W.shape}")
    ell = 128 // b
    out_dtype = np.uint16 if b == 16 else np.uint8
    W3 = W[:, None, :] if W.ndim == 2 else W
    n, m = W3.shape[:2]
    if b in (8, 16) and sys.byteorder == "little":
        digits = np.ascontiguousarray(W3).view(out_dtype).reshape(n, m, ell).transpose(0, 2, 1)
    else:
        per = 64 // b
        shifts = (np.arange(per, dtype=np.uint64) * np.uint64(b))[None, None, :]
        mask = np.uint64((1 << b) - 1)
        digits = np.concatenate([(W3[:, :, w:w + 1] >> shifts) & mask for w in (0, 1)], axis=2)
        digits = digits.astype(out_dtype).transpose(0, 2, 1)
    digits = digits.reshape(n * ell, m)
    return digits[:, 0].copy() if W.ndim == 2 else np.ascontiguousarray(digits)


def gadget_matrix128(N: int, base_bits: int) -> np.ndarray:
    """``G = I_N ⊗ (1, B, ..., B^(ell-1))`` mod 2^128 as pairs ``(N, N*ell, 2)``."""
    ell = 128 // base_bits
    g = to_pairs(np.array([1 << (base_bits * t) for t in range(ell)], dtype=object))
    G = np.zeros((N, N * ell, 2), dtype=np.uint64)
    for e in range(N):
        G[e, e * ell:(e + 1) * ell] = g
    return G


# -- exact products mod 2^128 through float64 limbs ------------------------------
def limb128_plan(c: int, digit_bits: int) -> tuple[int, int]:
    """``(limb_bits, chunk)``: 22-bit limbs when an inner dimension of ``c`` stays exact, else 16-bit."""
    for bits in LIMB128_BITS:
        chunk = EXACT_FLOAT // (((1 << bits) - 1) * ((1 << digit_bits) - 1))
        if chunk >= c or bits == LIMB128_BITS[-1]:
            return bits, int(min(chunk, max(c, 1)))
    raise AssertionError("unreachable")


def split_limbs128(A: np.ndarray, limb_bits: int) -> np.ndarray:
    """Pairs ``(r, c, 2)`` to float64 limbs stacked as ``(limbs * r, c)``, limb k holding bits ``[k b, (k+1) b)``."""
    r, c = A.shape[:2]
    limbs = -(-128 // limb_bits)
    out = np.empty((limbs, r, c), dtype=np.float64)
    if limb_bits == 16 and sys.byteorder == "little":
        np.copyto(out, np.ascontiguousarray(A).view("<u2").reshape(r, c, limbs).transpose(2, 0, 1))
        return out.reshape(limbs * r, c)
    lo, hi = A[..., 0], A[..., 1]
    mask = np.uint64((1 << limb_bits) - 1)
    for k in range(limbs):
        s = k * limb_bits
        if s + limb_bits <= 64:
            v = (lo >> np.uint64(s)) & mask
        elif s < 64:
            v = ((lo >> np.uint64(s)) | (hi << np.uint64(64 - s))) & mask
        else:
            v = (hi >> np.uint64(s - 64)) & mask
        out[k] = v.astype(np.uint32)
    return out.reshape(limbs * r, c)


def _recombine(part: np.ndarray, r: int, limbs: int, limb_bits: int) -> np.ndarray:
    P = part.astype(np.uint64)
    return shifted_sum([P[k * r:(k + 1) * r] for k in range(limbs)], [k * limb_bits for k in range(limbs)])


def blas_product(S: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The one float64 BLAS call of a limb product (its own function so a profiler can time it)."""
    return S @ D


def _product(stacked: np.ndarray, r: int, Df: np.ndarray, limb_bits: int, chunk: int) -> np.ndarray:
    limbs = stacked.shape[0] // r
    c = stacked.shape[1]
    out = None
    for c0 in range(0, c, chunk):
        c1 = min(c, c0 + chunk)
        term = _recombine(blas_product(stacked[:, c0:c1], Df[c0:c1]), r, limbs, limb_bits)
        out = term if out is None else add128(out, term)
    return out


def _digits(D: np.ndarray, c: int, digit_bits: int) -> np.ndarray:
    from wbstream.crypto.modular import _check_digit_bits, _check_digits

    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] != c:
        raise ValueError(f"cannot multiply a matrix with {c} columns by D of shape {D.shape}")
    _check_digits(D, _check_digit_bits(digit_bits))
    return D


def _digits_float(D: np.ndarray, c: int, digit_bits: int) -> np.ndarray:
    return _digits(D, c, digit_bits).astype(np.float64)


class Limb128Matrix:
    """A 128-bit matrix (pairs ``(r, c, 2)``) cut once into float64 limbs for exact products mod 2^128.

    Holds ``limbs × r × c`` float64 (3× the key's bytes at 6 limbs): for keys that fit in RAM.

    >>> A = to_pairs(np.array([[2**127, 7], [1, 2**128 - 1]], dtype=object))
    >>> lm = Limb128Matrix(A, digit_bits=4)
    >>> lm.limbs, lm.limb_bits
    (6, 22)
    >>> from_pairs(lm @ np.array([[2], [3]], dtype=np.uint8)).ravel().tolist()
    [21, 340282366920938463463374607431768211455]
    """

    __slots__ = ("shape", "digit_bits", "limb_bits", "limbs", "chunk", "_stacked")

    def __init__(self, A: np.ndarray, digit_bits: int):
        A = np.asarray(A)
        if A.dtype != np.uint64 or A.ndim != 3 or A.shape[2] != 2:
            raise ValueError(f"A must be uint64 pairs of shape (r, c, 2), got {A.dtype} {A.shape}")
        self.shape = A.shape[:2]
        self.digit_bits = int(digit_bits)
        self.limb_bits, self.chunk = limb128_plan(self.shape[1], self.digit_bits)
        self.limbs = -(-128 // self.limb_bits)
        self._stacked = split_limbs128(A, self.limb_bits)

    @property
    def nbytes(self) -> int:
        return self._stacked.nbytes

    def __matmul__(self, D: np.ndarray) -> np.ndarray:
        Df = _digits_float(D, self.shape[1], self.digit_bits)
        return _product(self._stacked, self.shape[0], Df, self.limb_bits, self.chunk)


#: Rows of A converted to limbs at a time by the streaming product (bounds its temporary memory).
ROW_BLOCK = 256


def matmul_mod_2_128(A: np.ndarray, D: np.ndarray, digit_bits: int, row_block: int = ROW_BLOCK,
                     limb_bits: int = 16) -> np.ndarray:
    """Exact ``(A @ D) mod 2^128``, pairs ``(r, m, 2)``, cutting ``A`` into limbs ``row_block`` rows at a time.

    ``A`` is pairs ``(r, c, 2)`` (e.g. a memory-mapped key level); ``D`` is
    ``(c, m)`` digits in ``[0, 2^digit_bits)``. Only one block of limbs is in RAM,
    in one buffer reused across blocks. 16-bit limbs are the default here: 8
    limbs instead of 6, but cut by a 16-bit view, several times faster than
    shifting out 22-bit ones, and the cut is paid again at every product.
    """
    A = np.asarray(A)
    if A.dtype != np.uint64 or A.ndim != 3 or A.shape[2] != 2:
        raise ValueError(f"A must be uint64 pairs of shape (r, c, 2), got {A.dtype} {A.shape}")
    if limb_bits not in LIMB128_BITS:
        raise ValueError(f"limb_bits must be one of {LIMB128_BITS}, got {limb_bits!r}")
    r, c = A.shape[:2]
    Df = _digits_float(D, c, digit_bits)
    chunk = int(min(EXACT_FLOAT // (((1 << limb_bits) - 1) * ((1 << int(digit_bits)) - 1)), max(c, 1)))
    limbs = -(-128 // limb_bits)
    buf = np.empty(limbs * min(row_block, r) * c, dtype=np.float64)
    out = np.empty((r, Df.shape[1], 2), dtype=np.uint64)
    for r0 in range(0, r, row_block):
        rows = min(row_block, r - r0)
        block = np.asarray(A[r0:r0 + rows])
        stacked = buf[:limbs * rows * c].reshape(limbs, rows, c)
        if limb_bits == 16 and sys.byteorder == "little":
            np.copyto(stacked, np.ascontiguousarray(block).view("<u2").reshape(rows, c, limbs).transpose(2, 0, 1))
        else:
            stacked[...] = split_limbs128(block, limb_bits).reshape(limbs, rows, c)
        out[r0:r0 + rows] = _product(stacked.reshape(limbs * rows, c), rows, Df, limb_bits, chunk)
    return out


#: Rows of A read at a time by the integer product: a block and its uint64 halves stay in L2.
INT_ROW_BLOCK = 8


def int_chunk(digit_bits: int) -> int:
    """Longest inner dimension over which sums of (32-bit half) x (digit) products stay below 2^64.

    >>> int_chunk(16) > 18408    # the ~64-bit preset's row (2301 x 8 digits) is one chunk
    True
    """
    return MASK64 // (0xFFFFFFFF * ((1 << int(digit_bits)) - 1))


def matmul_mod_2_128_int(A: np.ndarray, D: np.ndarray, digit_bits: int, row_block: int = INT_ROW_BLOCK) -> np.ndarray:
    """Exact ``(A @ D) mod 2^128`` in ``uint64`` integer arithmetic, for a few columns of ``D``.

    The same result as :func:`matmul_mod_2_128` without cutting ``A`` into float
    limbs, a cost paid per product that dominates when ``D`` has one or two
    columns. Three integer products per block of rows, each summing over at most
    :func:`int_chunk` terms of the inner dimension:

    * ``H = sum hi*d mod 2^64``: the high word only counts mod 2^64, and numpy's
      ``uint64`` product wraps;
    * ``S1 = sum (lo >> 32)*d``: exact, every term below 2^(32 + digit_bits);
    * ``sum lo*d mod 2^64`` (wrapping), from which ``S0 = sum (lo & (2^32-1))*d``
      is ``that - (S1 << 32) mod 2^64``, exact because ``S0 < 2^64``;

    then ``S0 + S1 2^32 + H 2^64 mod 2^128`` with carries. ``A`` (e.g. a
    memory-mapped level) is read ``row_block`` rows at a time. The work is scalar
    multiply-adds (numpy has no integer BLAS), so the limb product wins back at
    larger batches (``wbstream bench small-batch``).

    >>> A = to_pairs(np.array([[2**128 - 1, 2**64 + 3]], dtype=object))
    >>> from_pairs(matmul_mod_2_128_int(A, np.array([[2], [5]], dtype=np.uint16), 16)).tolist() == [[5 * 2**64 + 13]]
    True
    """
    A = np.asarray(A)
    if A.dtype != np.uint64 or A.ndim != 3 or A.shape[2] != 2:
        raise ValueError(f"A must be uint64 pairs of shape (r, c, 2), got {A.dtype} {A.shape}")
    r, c = A.shape[:2]
    D64 = np.asfortranarray(_digits(D, c, digit_bits).astype(np.uint64))  # column-contiguous: the inner loop runs down c
    chunk, s32 = int_chunk(digit_bits), np.uint64(32)
    out = np.zeros((r, D64.shape[1], 2), dtype=np.uint64)
    for r0 in range(0, r if c else 0, row_block):
        block = np.ascontiguousarray(A[r0:r0 + row_block])
        lo, hi = block[..., 0], block[..., 1]
        if sys.byteorder == "little":
            lo_high = block.view(np.uint32).reshape(block.shape[0], c, 4)[..., 1]
        else:
            lo_high = lo >> s32
        acc = None
        for c0 in range(0, c, chunk):
            cs, Dc = slice(c0, c0 + chunk), D64[c0:c0 + chunk]
            S1 = lo_high[:, cs] @ Dc
            term = shifted_sum([(lo[:, cs] @ Dc) - (S1 << s32), S1, hi[:, cs] @ Dc], [0, 32, 64])
            acc = term if acc is None else add128(acc, term)
        out[r0:r0 + block.shape[0]] = acc
    return out


def matmul_mod_2_128_reference(A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Slow exact ``(A @ D) mod 2^128`` with Python integers, for tests."""
    return to_pairs((from_pairs(A) @ np.asarray(D).astype(object)) % Q128)
