"""The FJW'24 proof world, for tests only: real GSW encryptions of a hidden index.

In the security proof the key ciphertexts ``C_u`` encrypt the bits of a hidden
``v`` under LWE, and every ``EvalCol(j)`` decrypts to ``1[j = v] B_g^{t*} + e_j``
(docs/references.md#fjw24). These functions build that world so tests can check
binding: :func:`keygen` (errors cut at :func:`~wbstream.crypto.binding.error_cut`,
so the worst-case noise bound of :mod:`wbstream.crypto.binding` is a bound),
:func:`encrypt_index`, :func:`decrypt_columns`, and :func:`measured_noise`, the
largest ``|e_j|`` over evaluated columns. Both moduli, q = 2^64 and q = 2^128;
at 2^128 the algebra runs on Python integers (small test sizes only).

>>> from wbstream.crypto.gsw import GswParams, eval_cols
>>> p = GswParams(n_lwe=3, base_bits=16, L=2, t_star=3, log_q=128)
>>> rng = np.random.default_rng(0)
>>> s, A = keygen(p, rng)
>>> key = encrypt_index(p, A, 2, rng)
>>> decrypt_columns(p, s, eval_cols(key, np.arange(4))).tolist()
[0, 0, 1, 0]
"""

from __future__ import annotations

import numpy as np

from wbstream.crypto.binding import error_cut, public_key_samples
from wbstream.crypto.modular import centered, gadget_matrix, matmul_mod_2_64
from wbstream.crypto.modular128 import Q128, from_pairs, gadget_matrix128, matmul_mod_2_128, to_pairs

Q64 = 1 << 64


def keygen(params, rng: np.random.Generator, m: int | None = None,
           sigma: float = 3.2) -> tuple[np.ndarray, np.ndarray]:
    """For tests only: a GSW key pair ``(s, A)`` with ``s = (1, -t)`` and ``s^T A = e (mod q)``.

    ``A = [b; B]`` is ``(N, m)`` words (pairs at q = 2^128), ``B`` uniform, ``e`` a
    rounded Gaussian of width ``sigma`` cut at ``error_cut(sigma, m)``, ``b = t B + e``.
    Default ``m = N log2 q + 1`` (the leftover hash lemma regime).

    >>> from wbstream.crypto.gsw import GswParams
    >>> params = GswParams(n_lwe=3, base_bits=16, L=1, t_star=3)
    >>> s, A = keygen(params, np.random.default_rng(0), m=20)
    >>> e = centered(s @ A, 2**64)
    >>> A.shape, bool(np.abs(e).max() < 20)
    ((4, 20), True)
    """
    m = public_key_samples(params.n_lwe, params.log_q) if m is None else int(m)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    cut = error_cut(sigma, m)
    if not params.wide:
        t = rng.integers(0, Q64, size=params.n_lwe, dtype=np.uint64)
        B = rng.integers(0, Q64, size=(params.n_lwe, m), dtype=np.uint64)
        e = np.clip(np.rint(rng.normal(0.0, sigma, size=m)), -cut, cut).astype(np.int64)
        A = np.vstack([(t @ B + e.view(np.uint64))[None, :], B])
        return np.concatenate([np.ones(1, dtype=np.uint64), -t]), A
    words = rng.integers(0, Q64, size=(params.n_lwe * (m + 1), 2), dtype=np.uint64)
    t, B = words[:params.n_lwe], words[params.n_lwe:].reshape(params.n_lwe, m, 2)
    e = np.clip(np.rint(rng.normal(0.0, sigma, size=m)), -cut, cut).astype(np.int64)
    b = (from_pairs(t) @ from_pairs(B) + e.astype(object)) % Q128
    A = np.concatenate([to_pairs(b)[None], B], axis=0)
    s = to_pairs(np.concatenate([[1], [-int(x) for x in from_pairs(t)]]).astype(object))
    return s, A


def encrypt_bit(params, A: np.ndarray, bit: int, rng: np.random.Generator) -> np.ndarray:
    """For tests only: ``A R + bit G (mod q)``, ``R`` uniform in ``{0,1}^{m × Nℓ}``."""
    if bit not in (0, 1):
        raise ValueError(f"bit must be 0 or 1, got {bit!r}")
    A = np.asarray(A)
    if A.ndim != 2 + params.wide or A.shape[0] != params.N:
        raise ValueError(f"public key must have {params.N} rows, got shape {A.shape}")
    R = rng.integers(0, 2, size=(A.shape[1], params.width), dtype=np.uint8)
    if params.wide:
        C = matmul_mod_2_128(A, R, digit_bits=1)
        if bit:
            C = from_pairs(C) + from_pairs(gadget_matrix128(params.N, params.base_bits))
            C = to_pairs(C)
        return C
    C = matmul_mod_2_64(A, R, digit_bits=1)
    return C + gadget_matrix(params.N, params.base_bits) if bit else C


def encrypt_index(params, A: np.ndarray, v: int, rng: np.random.Generator):
    """For tests only: the proof-world key, ``C_u`` encrypting bit ``u - 1`` of ``v``."""
    from wbstream.crypto.gsw import GswKey

    if not 0 <= v < 1 << params.L:
        raise ValueError(f"v must lie in [0, 2^L = {1 << params.L}), got {v}")
    return GswKey(params, np.stack([encrypt_bit(params, A, (v >> u) & 1, rng) for u in range(params.L)]))


def phases(s: np.ndarray, W: np.ndarray) -> np.ndarray:
    """For tests only: ``centered(s^T W mod q)``, one per column of ``W``.

    ``int64`` for q = 2^64 (``W`` words ``(N, m)``); Python ints (an object array)
    for q = 2^128 (``s`` pairs ``(N, 2)``, ``W`` pairs ``(N, m, 2)``).
    """
    s, W = np.asarray(s, dtype=np.uint64), np.asarray(W, dtype=np.uint64)
    if s.ndim == 1:
        return centered(s @ W, Q64)
    c = (from_pairs(s) @ from_pairs(W)) % Q128
    return np.array([int(x) - Q128 if x >= 1 << 127 else int(x) for x in c], dtype=object)


def decrypt_column(params, s: np.ndarray, w: np.ndarray) -> int:
    """For tests only: ``round(centered(s·w mod q) / B_g^{t*})``, a Python int."""
    c = int(phases(s, np.asarray(w)[:, None])[0])
    D = params.scale
    return (2 * c + D) // (2 * D)


def decrypt_columns(params, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    """For tests only: :func:`decrypt_column` of every column of ``W``, ``int64``."""
    c = phases(s, W)
    if params.wide:
        D = params.scale
        return np.array([(2 * int(x) + D) // (2 * D) for x in c], dtype=np.int64)
    shift = params.base_bits * params.t_star
    if shift == 0:
        return c
    rem = c.view(np.uint64) & np.uint64((1 << shift) - 1)
    return (c >> shift) + (rem >= np.uint64(1 << (shift - 1)))


def measured_noise(params, s: np.ndarray, W: np.ndarray, mu) -> int:
    """For tests only: ``max_j |e_j|``, ``e_j = phase_j - mu_j B_g^{t*}``, over the columns of ``W``.

    ``mu`` holds what each column encrypts (``1[j = v]`` for evaluated columns).
    This is the measured figure to set beside ``eval_noise_worst`` / ``eval_noise_subgaussian``.
    """
    c = phases(s, W)
    mu = np.asarray(mu)
    return max((abs(int(x) - int(u) * params.scale) for x, u in zip(c, mu)), default=0)
