"""The FJW'24 tester: a key of L pseudorandom GSW ciphertexts and batched EvalCol.

The key is ``L`` uniformly random matrices ``C_1..C_L`` in ``Z_q^{N × Nℓ}``,
``q = 2^64``. In the security proof they are GSW encryptions of the bits of a
hidden index ``v``; the algorithm never encrypts and has no secret, it just
samples uniform strings. ``EvalCol(j)`` is column ``c*`` of the homomorphic
evaluation of "index == j" (docs/references.md#fjw24)::

    w := C_L[:, c*]  if bit_L(j) else  G[:, c*] - C_L[:, c*]      # NOT(C) = G - C
    for lev = L-1 .. 1:
        u := C_lev @ G^-1(w)                                       # mod 2^64
        w := u  if bit_lev(j) else  w - u

Level ``u`` reads bit ``u - 1`` of ``j`` (level 1 is the least significant bit).
:func:`eval_cols` runs the chain for a whole batch of indices at once: each
level is one exact float64-BLAS product (:class:`~wbstream.crypto.modular.LimbMatrix`)
and a vectorised select. :class:`EvalCache` trades ``2^t`` stored vectors for
``t`` fewer levels per evaluation.

For tests only, :func:`keygen`, :func:`encrypt_index` and :func:`decrypt_columns`
implement real GSW so that evaluated columns can be checked to decrypt to
``1[j == v]`` (the proof world).

>>> params = GswParams(n_lwe=4, base_bits=16, L=3, t_star=3)
>>> rng = np.random.default_rng(0)
>>> key = GswKey.sample(params, lambda shape: rng.integers(0, 2**64, shape, dtype=np.uint64))
>>> eval_cols(key, np.arange(8)).shape
(5, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from wbstream.crypto.modular import (GADGET_BASE_BITS, LimbMatrix, centered, gadget_decompose,
                                     gadget_matrix, matmul_mod_2_64)

Q64 = 1 << 64
MAX_L = 62  # indices are int64
MAX_BATCH = 2048  # columns per product: bounds the float64 digit matrix (Nℓ × MAX_BATCH)


@dataclass(frozen=True)
class GswParams:
    """Shape of the FJW'24 key: LWE dimension, gadget base, ``L`` levels, digit ``t*``.

    ``c* = t*`` is the column of coordinate 0's gadget block holding ``B_g^{t*}``,
    so ``G e_{c*} = B_g^{t*} e_0`` and a column encrypting ``μ`` decrypts to
    ``μ B_g^{t*} + noise``.

    >>> p = GswParams.for_universe(n=1000, n_lwe=256, base_bits=8, M=2**20)
    >>> p.L, p.t_star, p.N, p.ell, p.width
    (10, 5, 257, 8, 2056)
    """

    n_lwe: int
    base_bits: int
    L: int
    t_star: int

    def __post_init__(self):
        for name in ("n_lwe", "base_bits", "L", "t_star"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # numpy ints would overflow in 1 << 63
        if self.n_lwe < 1:
            raise ValueError(f"n_lwe must be >= 1, got {self.n_lwe}")
        if self.base_bits not in GADGET_BASE_BITS:
            raise ValueError(f"base_bits must be one of {GADGET_BASE_BITS}, got {self.base_bits}")
        if not 1 <= self.L <= MAX_L:
            raise ValueError(f"L must be in [1, {MAX_L}], got {self.L}")
        if not 0 <= self.t_star < self.ell:
            raise ValueError(f"t_star must be in [0, {self.ell}) for base_bits={self.base_bits}, "
                             f"got {self.t_star}")

    @classmethod
    def for_universe(cls, n: int, n_lwe: int, base_bits: int, M: int) -> GswParams:
        """``L = ceil(log2 n)`` (at least 1) and the largest ``t*`` with ``4 M B_g^{t*} < 2^64``."""
        if n < 1:
            raise ValueError(f"universe size n must be >= 1, got {n}")
        if M < 1:
            raise ValueError(f"M must be >= 1, got {M}")
        if base_bits not in GADGET_BASE_BITS:
            raise ValueError(f"base_bits must be one of {GADGET_BASE_BITS}, got {base_bits}")
        fits = [t for t in range(64 // base_bits) if 4 * M << (base_bits * t) < Q64]
        if not fits:
            raise ValueError(f"no digit t* with 4*M*B_g^t* < 2^64 for M={M}")
        return cls(n_lwe=n_lwe, base_bits=base_bits, L=max(1, (int(n) - 1).bit_length()),
                   t_star=max(fits))

    @property
    def N(self) -> int:
        return self.n_lwe + 1

    @property
    def ell(self) -> int:
        return 64 // self.base_bits

    @property
    def width(self) -> int:
        return self.N * self.ell

    @property
    def c_star(self) -> int:
        return self.t_star

    @property
    def scale(self) -> int:
        """``B_g^{t*}``: what a column encrypting 1 decrypts to, before rounding."""
        return 1 << (self.base_bits * self.t_star)

    @property
    def key_bits(self) -> int:
        return self.L * self.N * self.width * 64

    @property
    def hash_bits(self) -> int:
        return self.N * 64

    def g_column(self) -> np.ndarray:
        """``G e_{c*} = B_g^{t*} e_0``, ``uint64`` ``(N,)``."""
        g = np.zeros(self.N, dtype=np.uint64)
        g[0] = self.scale
        return g


class GswKey:
    """The FJW'24 hash key: ``C``, ``uint64`` ``(L, N, Nℓ)``, ``C[u-1]`` being ``C_u``.

    Sampled uniformly (pseudorandom ciphertexts): no secret, no trapdoor.
    ``draw_words(shape)`` must return uniform ``uint64`` words, e.g.
    ``lambda shape: coins.words("fjw24/key", shape)``.

    >>> params = GswParams(n_lwe=2, base_bits=16, L=2, t_star=1)
    >>> key = GswKey.sample(params, lambda shape: np.ones(shape, dtype=np.uint64))
    >>> key.C.shape, key.nbytes
    ((2, 3, 12), 576)
    """

    __slots__ = ("params", "C", "_limbs")

    def __init__(self, params: GswParams, C: np.ndarray):
        C = np.asarray(C)
        shape = (params.L, params.N, params.width)
        if C.dtype != np.uint64 or C.shape != shape:
            raise ValueError(f"C must be uint64 of shape {shape}, got {C.dtype} {C.shape}")
        self.params = params
        self.C = C
        self._limbs: list[LimbMatrix | None] = [None] * params.L

    def limbs(self, level: int) -> LimbMatrix:
        """``C_level`` split into float64 limbs, made once on first use (the key never changes).

        This cache holds twice the key's bytes; it is a representation of the key,
        not extra randomness, so key-bit accounting ignores it.
        """
        lm = self._limbs[level - 1]
        if lm is None:
            lm = self._limbs[level - 1] = LimbMatrix(self.C[level - 1], self.params.base_bits)
        return lm

    @classmethod
    def sample(cls, params: GswParams, draw_words: Callable[[tuple], np.ndarray]) -> GswKey:
        return cls(params, np.asarray(draw_words((params.L, params.N, params.width))))

    @property
    def nbytes(self) -> int:
        return self.C.nbytes

    def __repr__(self) -> str:
        return f"GswKey({self.params})"


def _apply_level(lm: LimbMatrix, W: np.ndarray, base_bits: int) -> np.ndarray:
    """``C_lev @ G^-1(W) mod 2^64`` for all columns of ``W``, in slices of MAX_BATCH."""
    if W.shape[1] <= MAX_BATCH:
        return lm @ gadget_decompose(W, base_bits)
    return np.concatenate([lm @ gadget_decompose(W[:, b:b + MAX_BATCH], base_bits)
                           for b in range(0, W.shape[1], MAX_BATCH)], axis=1)


class EvalCache:
    """The chain vectors after the top ``t`` levels, for all ``2^t`` values of those bits.

    ``vectors[:, p]`` is ``w`` after levels ``L .. L-t+1`` for any index whose
    ``t`` most significant bits (of ``L``) are ``p``. With the cache,
    :func:`eval_cols` runs ``L - t`` levels instead of ``L - 1``; ``t = 0``
    caches nothing, ``t = L`` stores every column (the "long random string").
    Built as a binary tree: ``2^t - 2`` column products in all.

    >>> params = GswParams(n_lwe=3, base_bits=16, L=4, t_star=2)
    >>> rng = np.random.default_rng(1)
    >>> key = GswKey.sample(params, lambda s: rng.integers(0, 2**64, s, dtype=np.uint64))
    >>> cache = EvalCache(key, 2)
    >>> cache.vectors.shape, cache.nbytes, cache.bits
    ((4, 4), 128, 2)
    >>> idx = np.array([0, 5, 15])
    >>> bool((eval_cols(key, idx, cache) == eval_cols(key, idx)).all())
    True
    """

    __slots__ = ("key", "_bits", "vectors")

    def __init__(self, key: GswKey, t: int):
        p = key.params
        if not isinstance(t, (int, np.integer)) or not 0 <= t <= p.L:
            raise ValueError(f"cache bits t must be an integer in [0, L={p.L}], got {t!r}")
        self.key = key
        self._bits = int(t)
        if t == 0:
            self.vectors = np.zeros((p.N, 0), dtype=np.uint64)
            return
        c = key.C[p.L - 1][:, p.c_star]
        W = np.stack([p.g_column() - c, c], axis=1)  # prefix p = bit_L
        for lev in range(p.L - 1, p.L - t, -1):
            U = _apply_level(key.limbs(lev), W, p.base_bits)
            W = np.stack([W - U, U], axis=2).reshape(p.N, -1)  # child prefix 2p + bit_lev
        self.vectors = W

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def nbytes(self) -> int:
        return self.vectors.nbytes


def _check_indices(indices: np.ndarray, L: int) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
        raise ValueError(f"indices must be a 1-D integer array, got {idx.ndim}-D {idx.dtype}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= 1 << L):
        raise ValueError(f"indices must lie in [0, 2^L = {1 << L}), got [{idx.min()}, {idx.max()}]")
    return idx


def eval_cols(key: GswKey, indices: np.ndarray, cache: EvalCache | None = None) -> np.ndarray:
    """Batched EvalCol: ``uint64`` ``(N, len(indices))``, column ``b`` = ``EvalCol(indices[b])``.

    >>> params = GswParams(n_lwe=2, base_bits=8, L=3, t_star=4)
    >>> rng = np.random.default_rng(2)
    >>> key = GswKey.sample(params, lambda s: rng.integers(0, 2**64, s, dtype=np.uint64))
    >>> cols = eval_cols(key, np.arange(8))
    >>> bool((cols.sum(axis=1) == params.g_column()).all())    # the full cube sums to G e_c*
    True
    >>> bool((eval_cols(key, np.array([6]))[:, 0] == cols[:, 6]).all())
    True
    """
    p = key.params
    idx = _check_indices(indices, p.L)
    if cache is not None and cache.key is not key:
        raise ValueError("this EvalCache was built for another key")
    t = 0 if cache is None else cache.bits
    if t:
        W = cache.vectors[:, idx >> (p.L - t)]
    else:
        c = key.C[p.L - 1][:, p.c_star][:, None]
        top = ((idx >> (p.L - 1)) & 1).astype(bool)[None, :]
        W = np.where(top, c, p.g_column()[:, None] - c)
        t = 1
    for lev in range(p.L - t, 0, -1):
        if idx.size == 0:
            break
        U = _apply_level(key.limbs(lev), W, p.base_bits)
        bit = ((idx >> (lev - 1)) & 1).astype(bool)[None, :]
        W = np.where(bit, U, W - U)
    return np.ascontiguousarray(W)


# -- real GSW, for tests only: the algorithm never encrypts ------------------
def keygen(params: GswParams, rng: np.random.Generator, m: int | None = None,
           sigma: float = 3.2) -> tuple[np.ndarray, np.ndarray]:
    """For tests only: a GSW key pair ``(s, A)`` with ``s = (1, -t)`` and ``s^T A = e (mod 2^64)``.

    ``A = [b; B]`` is ``uint64`` ``(N, m)``, ``B`` uniform, ``e`` a rounded
    Gaussian of width ``sigma``, ``b = t B + e``. Default ``m = 64 N + 1`` (the
    leftover hash lemma regime ``m ≳ N log q``).

    >>> params = GswParams(n_lwe=3, base_bits=16, L=1, t_star=3)
    >>> s, A = keygen(params, np.random.default_rng(0), m=20)
    >>> e = centered(s @ A, 2**64)
    >>> A.shape, bool(np.abs(e).max() < 20)
    ((4, 20), True)
    """
    m = 64 * params.N + 1 if m is None else int(m)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    t = rng.integers(0, Q64, size=params.n_lwe, dtype=np.uint64)
    B = rng.integers(0, Q64, size=(params.n_lwe, m), dtype=np.uint64)
    e = np.rint(rng.normal(0.0, sigma, size=m)).astype(np.int64).view(np.uint64)
    A = np.vstack([(t @ B + e)[None, :], B])
    s = np.concatenate([np.ones(1, dtype=np.uint64), -t])
    return s, A


def encrypt_bit(params: GswParams, A: np.ndarray, bit: int, rng: np.random.Generator) -> np.ndarray:
    """For tests only: ``A R + bit G (mod 2^64)``, ``R`` uniform in ``{0,1}^{m × Nℓ}``."""
    if bit not in (0, 1):
        raise ValueError(f"bit must be 0 or 1, got {bit!r}")
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != params.N:
        raise ValueError(f"public key must have {params.N} rows, got shape {A.shape}")
    R = rng.integers(0, 2, size=(A.shape[1], params.width), dtype=np.uint8)
    C = matmul_mod_2_64(A, R, digit_bits=1)
    return C + gadget_matrix(params.N, params.base_bits) if bit else C


def encrypt_index(params: GswParams, A: np.ndarray, v: int, rng: np.random.Generator) -> GswKey:
    """For tests only: the proof-world key, ``C_u`` encrypting bit ``u - 1`` of ``v``."""
    if not 0 <= v < 1 << params.L:
        raise ValueError(f"v must lie in [0, 2^L = {1 << params.L}), got {v}")
    return GswKey(params, np.stack([encrypt_bit(params, A, (v >> u) & 1, rng)
                                    for u in range(params.L)]))


def phases(s: np.ndarray, W: np.ndarray) -> np.ndarray:
    """For tests only: ``centered(s^T W mod 2^64)`` as ``int64``, one per column of ``W``."""
    return centered(np.asarray(s, dtype=np.uint64) @ np.asarray(W, dtype=np.uint64), Q64)


def decrypt_column(params: GswParams, s: np.ndarray, w: np.ndarray) -> int:
    """For tests only: ``round(centered(s·w mod 2^64) / B_g^{t*})``, a Python int."""
    c = int(phases(s, np.asarray(w)[:, None])[0])
    D = params.scale
    return (2 * c + D) // (2 * D)


def decrypt_columns(params: GswParams, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    """For tests only: :func:`decrypt_column` of every column of ``W``, ``int64``."""
    c = phases(s, W)
    shift = params.base_bits * params.t_star
    if shift == 0:
        return c
    rem = c.view(np.uint64) & np.uint64((1 << shift) - 1)
    return (c >> shift) + (rem >= np.uint64(1 << (shift - 1)))
