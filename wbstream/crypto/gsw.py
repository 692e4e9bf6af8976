"""The FJW'24 tester: a key of L pseudorandom GSW ciphertexts and batched EvalCol.

The key is ``L`` uniformly random matrices ``C_1..C_L`` in ``Z_q^{N × Nℓ}``,
``q = 2^64`` (``uint64`` words) or ``q = 2^128`` (``uint64`` (lo, hi) pairs on a
trailing axis, :mod:`wbstream.crypto.modular128`); ``ℓ = log2 q / base_bits``. In the security proof they are GSW encryptions of the bits of a
hidden index ``v``; the algorithm never encrypts and has no secret, it just
samples uniform strings. ``EvalCol(j)`` is column ``c*`` of the homomorphic
evaluation of "index == j" (docs/references.md#fjw24)::

    w := C_L[:, c*]  if bit_L(j) else  G[:, c*] - C_L[:, c*]      # NOT(C) = G - C
    for lev = L-1 .. 1:
        u := C_lev @ G^-1(w)                                       # mod q
        w := u  if bit_lev(j) else  w - u

Level ``u`` reads bit ``u - 1`` of ``j`` (level 1 is the least significant bit).
:func:`eval_cols` runs the chain for a whole batch of indices at once: each
level is one exact float64-BLAS product (:class:`~wbstream.crypto.modular.LimbMatrix`)
and a vectorised select. :class:`EvalCache` trades ``2^t`` stored vectors for
``t`` fewer levels per evaluation.

A key too large for RAM is memory-mapped (:mod:`wbstream.crypto.keycache`); its
limbs are then cut per block of rows at each product, never kept whole, and
batches of at most ``SMALL_BATCH_128`` (``SMALL_BATCH_64``) columns skip the cut:
they are multiplied in ``uint64`` integer arithmetic, bit-identical.

For tests only, :mod:`wbstream.crypto.gsw_proof` implements real GSW so that
evaluated columns can be checked to decrypt to ``1[j == v]`` (the proof world).

>>> params = GswParams(n_lwe=4, base_bits=16, L=3, t_star=3)
>>> rng = np.random.default_rng(0)
>>> key = GswKey.sample(params, lambda shape: rng.integers(0, 2**64, shape, dtype=np.uint64))
>>> eval_cols(key, np.arange(8)).shape
(5, 8)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from wbstream.crypto.binding import LOG_Q_CHOICES, Binding, binding
from wbstream.engine.mapped import map_array, mapped_origin
from wbstream.crypto.modular import GADGET_BASE_BITS, LimbMatrix, gadget_decompose, matmul_mod_2_64_int
from wbstream.crypto.modular128 import (Limb128Matrix, add128, gadget_decompose128, matmul_mod_2_128,
                                        matmul_mod_2_128_int, sub128, to_pairs)

Q64 = 1 << 64
ROW_BLOCK = 256  # rows of a memory-mapped key level cut into limbs at a time
#: Batches of at most this many columns multiply a memory-mapped key in uint64 integer arithmetic
#: (:func:`~wbstream.crypto.modular128.matmul_mod_2_128_int`) instead of cutting it into float limbs.
#: Measured on one level at sec64's real shape (2301 x 18408 pairs, mapped), 2 shared cores: the integer
#: path took 0.12-0.5 s per column, the limb path 2.2-4.4 s almost whatever the batch: the integer path
#: 1.23x faster at 16, 1.17-1.37x at 24-32 under a load average of 3-4 (docs/sparse-recovery.md):
#:   wbstream bench small-batch --batches 1,2,4,8,12,16,24,32 --big 0 --repeats 2
SMALL_BATCH_128 = 16
#: The same for q = 2^64 (numpy's wrapping uint64 product against the 3-limb cut of a 2301 x 9204
#: level): 37x faster at 1, 1.33x at 32, 0.82x at 48:
#:   wbstream bench small-batch --log-q 64 --batches 1,2,4,8,16,24,32,48 --big 0 --repeats 3
SMALL_BATCH_64 = 32
MAX_L = 62  # indices are int64
MAX_BATCH = 2048  # columns per product: bounds the float64 digit matrix (Nℓ × MAX_BATCH)


@dataclass(frozen=True)
class GswParams:
    """Shape of the FJW'24 key: LWE dimension, gadget base, ``L`` levels, digit ``t*``.

    ``c* = t*`` is the column of coordinate 0's gadget block holding ``B_g^{t*}``,
    so ``G e_{c*} = B_g^{t*} e_0`` and a column encrypting ``μ`` decrypts to
    ``μ B_g^{t*} + noise``.

    >>> p = GswParams.for_universe(n=1000, n_lwe=256, base_bits=8, M=2**20)
    >>> p.L, p.t_star, p.N, p.ell, p.width, p.binding.holds
    (10, 5, 257, 8, 2056, False)
    >>> w = GswParams.for_universe(n=1000, n_lwe=256, base_bits=8, M=2**20, log_q=128)
    >>> w.t_star, w.ell, w.binding.holds
    (10, 16, True)
    """

    n_lwe: int
    base_bits: int
    L: int
    t_star: int
    log_q: int = 64
    #: The binding check :meth:`for_universe` chose t* with (None when built by hand).
    binding: Binding | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for name in ("n_lwe", "base_bits", "L", "t_star", "log_q"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # numpy ints would overflow in 1 << 63
        if self.n_lwe < 1:
            raise ValueError(f"n_lwe must be >= 1, got {self.n_lwe}")
        if self.base_bits not in GADGET_BASE_BITS:
            raise ValueError(f"base_bits must be one of {GADGET_BASE_BITS}, got {self.base_bits}")
        if self.log_q not in LOG_Q_CHOICES:
            raise ValueError(f"log_q must be one of {LOG_Q_CHOICES}, got {self.log_q}")
        if not 1 <= self.L <= MAX_L:
            raise ValueError(f"L must be in [1, {MAX_L}], got {self.L}")
        if not 0 <= self.t_star < self.ell:
            raise ValueError(f"t_star must be in [0, {self.ell}) for base_bits={self.base_bits}, "
                             f"got {self.t_star}")

    @classmethod
    def for_universe(cls, n: int, n_lwe: int, base_bits: int, M: int, log_q: int = 64,
                     sigma: float = 3.2, L: int = 0) -> GswParams:
        """``L = ceil(log2 n)`` (at least 1, unless given) and t* from the noise (:func:`~wbstream.crypto.binding.binding`).

        When binding holds, t* is the smallest digit with ``B_g^{t*} > 2 Y B_eval``.
        When it cannot hold, t* falls back to the largest digit with ``4 M B_g^{t*} < q``
        (completeness does not depend on t*): ``.binding`` then says which inequality fails.
        """
        if n < 1:
            raise ValueError(f"universe size n must be >= 1, got {n}")
        if M < 1:
            raise ValueError(f"M must be >= 1, got {M}")
        if base_bits not in GADGET_BASE_BITS:
            raise ValueError(f"base_bits must be one of {GADGET_BASE_BITS}, got {base_bits}")
        if log_q not in LOG_Q_CHOICES:
            raise ValueError(f"log_q must be one of {LOG_Q_CHOICES}, got {log_q!r}")
        L = L or max(1, (int(n) - 1).bit_length())
        b = binding(n=int(n), M=int(M), n_lwe=n_lwe, base_bits=base_bits, log_q=log_q, sigma=sigma, L=L)
        if b.holds:
            return cls(n_lwe=n_lwe, base_bits=base_bits, L=L, t_star=b.t_star, log_q=log_q, binding=b)
        fits = [t for t in range(log_q // base_bits) if 4 * M << (base_bits * t) < 1 << log_q]
        if not fits:
            raise ValueError(f"no digit t* with 4*M*B_g^t* < 2^{log_q} for M={M}")
        return cls(n_lwe=n_lwe, base_bits=base_bits, L=L, t_star=max(fits), log_q=log_q, binding=b)

    @property
    def N(self) -> int:
        return self.n_lwe + 1

    @property
    def ell(self) -> int:
        return self.log_q // self.base_bits

    @property
    def wide(self) -> bool:
        """True for q = 2^128: words are (lo, hi) pairs on a trailing axis."""
        return self.log_q == 128

    @property
    def word_shape(self) -> tuple[int, ...]:
        """The trailing shape of one residue: ``()`` for q = 2^64, ``(2,)`` for q = 2^128."""
        return (2,) if self.wide else ()

    @property
    def key_shape(self) -> tuple[int, ...]:
        return (self.L, self.N, self.width) + self.word_shape

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
        return self.L * self.N * self.width * self.log_q

    @property
    def hash_bits(self) -> int:
        return self.N * self.log_q

    def g_column(self) -> np.ndarray:
        """``G e_{c*} = B_g^{t*} e_0``: ``uint64`` ``(N,)``, or pairs ``(N, 2)`` for q = 2^128."""
        if self.wide:
            g = np.zeros((self.N, 2), dtype=np.uint64)
            g[0] = to_pairs(self.scale)
            return g
        g = np.zeros(self.N, dtype=np.uint64)
        g[0] = self.scale
        return g

    def decompose(self, W: np.ndarray) -> np.ndarray:
        """``G^-1(W)``: digits ``(Nℓ, m)`` of a batch of vectors ``(N, m)`` (or ``(N, m, 2)``)."""
        return gadget_decompose128(W, self.base_bits) if self.wide else gadget_decompose(W, self.base_bits)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a - b mod q``."""
        return sub128(a, b) if self.wide else a - b


class GswKey:
    """The FJW'24 hash key: ``C``, ``uint64`` ``(L, N, Nℓ)`` (``(L, N, Nℓ, 2)`` at q = 2^128), ``C[u-1]`` being ``C_u``.

    Sampled uniformly (pseudorandom ciphertexts): no secret, no trapdoor.
    ``draw_words(shape)`` must return uniform ``uint64`` words, e.g.
    ``lambda shape: coins.words("fjw24/key", shape)``. A ``mapped`` key (read-only,
    memory-mapped, :mod:`wbstream.crypto.keycache`) is cut into limbs per block
    of rows at each product, or for a small batch multiplied in integer arithmetic
    without limbs; an in-RAM key keeps its limbs per level.

    >>> params = GswParams(n_lwe=2, base_bits=16, L=2, t_star=1)
    >>> key = GswKey.sample(params, lambda shape: np.ones(shape, dtype=np.uint64))
    >>> key.C.shape, key.nbytes
    ((2, 3, 12), 576)
    """

    __slots__ = ("params", "C", "mapped", "_limbs")

    def __init__(self, params: GswParams, C: np.ndarray, mapped: bool = False):
        C = np.asarray(C)
        shape = params.key_shape
        if C.dtype != np.uint64 or C.shape != shape:
            raise ValueError(f"C must be uint64 of shape {shape}, got {C.dtype} {C.shape}")
        self.params = params
        self.C = C
        self.mapped = bool(mapped)
        self._limbs: list = [None] * params.L

    def __reduce__(self):
        """A mapped key pickles as its file's name and offset (re-mapped read-only on load), not its GiBs."""
        origin = mapped_origin(self.C) if self.mapped else None
        if origin is not None:
            return _mapped_key, (self.params, *origin, self.C.dtype.str, self.C.shape)
        return GswKey, (self.params, self.C, self.mapped)

    def __deepcopy__(self, memo):
        if self.mapped:  # read-only and on disk: a copy shares it (the key never changes)
            return GswKey(self.params, self.C, mapped=True)
        return GswKey(self.params, self.C.copy())

    def apply(self, level: int, W: np.ndarray) -> np.ndarray:
        """``C_level @ G^-1(W) mod q`` for every column of ``W`` (``(N, m)`` words or ``(N, m, 2)`` pairs)."""
        p = self.params
        digits = p.decompose(W)
        if not self.mapped:
            return self.limbs(level) @ digits
        A = self.C[level - 1]
        if p.wide:
            if digits.shape[1] <= SMALL_BATCH_128:  # the cut into limbs would cost more than it saves
                return matmul_mod_2_128_int(A, digits, p.base_bits)
            return matmul_mod_2_128(A, digits, p.base_bits, ROW_BLOCK)
        if digits.shape[1] <= SMALL_BATCH_64:
            return matmul_mod_2_64_int(A, digits, p.base_bits)
        return np.concatenate([LimbMatrix(np.asarray(A[r0:r0 + ROW_BLOCK]), p.base_bits) @ digits
                               for r0 in range(0, p.N, ROW_BLOCK)], axis=0)

    def limbs(self, level: int) -> LimbMatrix | Limb128Matrix:
        """``C_level`` split into float64 limbs, made once on first use (the key never changes).

        This cache holds twice the key's bytes; it is a representation of the key,
        not extra randomness, so key-bit accounting ignores it.
        """
        lm = self._limbs[level - 1]
        if lm is None:
            split = Limb128Matrix if self.params.wide else LimbMatrix
            lm = self._limbs[level - 1] = split(self.C[level - 1], self.params.base_bits)
        return lm

    @classmethod
    def sample(cls, params: GswParams, draw_words: Callable[[tuple], np.ndarray]) -> GswKey:
        return cls(params, np.asarray(draw_words(params.key_shape)))

    @property
    def nbytes(self) -> int:
        return self.C.nbytes

    def __repr__(self) -> str:
        return f"GswKey({self.params})"


def _mapped_key(params: GswParams, path: str, offset: int, dtype: str, shape: tuple) -> GswKey:
    return GswKey(params, map_array(path, offset, dtype, shape), mapped=True)


def _apply_level(key: GswKey, lev: int, W: np.ndarray) -> np.ndarray:
    """``C_lev @ G^-1(W) mod q`` for all columns of ``W``, in slices of MAX_BATCH."""
    if W.shape[1] <= MAX_BATCH:
        return key.apply(lev, W)
    return np.concatenate([key.apply(lev, W[:, b:b + MAX_BATCH]) for b in range(0, W.shape[1], MAX_BATCH)], axis=1)


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
            self.vectors = np.zeros((p.N, 0) + p.word_shape, dtype=np.uint64)
            return
        c = np.asarray(key.C[p.L - 1][:, p.c_star])
        W = np.stack([p.sub(p.g_column(), c), c], axis=1)  # prefix p = bit_L
        for lev in range(p.L - 1, p.L - t, -1):
            U = _apply_level(key, lev, W)
            W = np.stack([p.sub(W, U), U], axis=2).reshape((p.N, -1) + p.word_shape)  # child prefix 2p + bit_lev
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
    """Batched EvalCol: ``uint64`` ``(N, len(indices))`` (pairs ``(N, len(indices), 2)`` at q = 2^128).

    Column ``b`` is ``EvalCol(indices[b])``.

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
    pair = (slice(None),) + (None,) * len(p.word_shape)  # broadcast a per-column bit over the pair axis
    if t:
        W = cache.vectors[:, idx >> (p.L - t)]
    else:
        c = np.asarray(key.C[p.L - 1][:, p.c_star])[:, None]
        top = ((idx >> (p.L - 1)) & 1).astype(bool)[None, :][(slice(None),) + pair]
        W = np.where(top, c, p.sub(p.g_column()[:, None], c))
        t = 1
    for lev in range(p.L - t, 0, -1):
        if idx.size == 0:
            break
        U = _apply_level(key, lev, W)
        bit = ((idx >> (lev - 1)) & 1).astype(bool)[None, :][(slice(None),) + pair]
        W = np.where(bit, U, p.sub(W, U))
    return np.ascontiguousarray(W)




def add_mod_q(params: GswParams, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b mod q`` for words (q = 2^64) or pairs (q = 2^128)."""
    return add128(a, b) if params.wide else a + b


from wbstream.crypto.gsw_proof import (decrypt_column, decrypt_columns, encrypt_bit, encrypt_index,  # noqa: E402,F401
                                       keygen, phases)
