"""The FJW'24 key and batched EvalCol, checked in the proof world (real GSW encryptions).

With real encryptions of the bits of a hidden v, every evaluated column
decrypts to 1[j == v] and the running hash sum_j x_j EvalCol(j) decrypts to x_v:
the binding property the security proof rests on. On uniform keys (the real
world) the public identities of FJW'24's GSW instantiation (docs/references.md#fjw24) hold exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import wbstream.crypto.gsw as gsw_module
from wbstream.crypto.gsw import (EvalCache, GswKey, GswParams, decrypt_column, decrypt_columns,
                                 encrypt_bit, encrypt_index, eval_cols, keygen, phases)
from wbstream.crypto.modular import centered, gadget_matrix

Q = 2**64


def uniform_key(params: GswParams, seed: int) -> GswKey:
    rng = np.random.default_rng(seed)
    return GswKey.sample(params, lambda shape: rng.integers(0, Q, size=shape, dtype=np.uint64))


def hash_of(cols: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_j x_j * cols[:, j] mod 2^64."""
    return (cols * x.astype(np.int64).view(np.uint64)[None, :]).sum(axis=1, dtype=np.uint64)


# -- parameters and key ------------------------------------------------------
def test_params_derived_quantities():
    p = GswParams(n_lwe=256, base_bits=8, L=20, t_star=5)
    assert (p.N, p.ell, p.width, p.c_star, p.scale) == (257, 8, 2056, 5, 2**40)
    assert p.key_bits == 20 * 257 * 2056 * 64 and p.hash_bits == 257 * 64
    G = gadget_matrix(p.N, p.base_bits)
    assert np.array_equal(G[:, p.c_star], p.g_column())
    q = GswParams(np.int64(3), np.int64(1), np.int64(2), np.int64(63))  # e.g. read back from a store
    assert type(q.t_star) is int and q.scale == 2**63 and q == GswParams(3, 1, 2, 63)


def test_for_universe():
    p = GswParams.for_universe(n=10**6, n_lwe=32, base_bits=16, M=2**20)
    assert (p.L, p.t_star) == (20, 2)  # 4 * 2^20 * 2^32 < 2^64 <= 4 * 2^20 * 2^48
    assert GswParams.for_universe(1, 4, 8, 1).L == 1
    assert GswParams.for_universe(2, 4, 8, 1).L == 1
    assert GswParams.for_universe(3, 4, 8, 1).L == 2
    assert GswParams.for_universe(1024, 4, 8, 1).L == 10
    assert GswParams.for_universe(1025, 4, 8, 1).L == 11
    small = GswParams.for_universe(8, 4, 8, 1)  # binding holds: t* from the noise, not the largest digit
    assert small.binding.holds and small.t_star == small.binding.t_star == 5
    assert GswParams.for_universe(8, 4, 1, 2**62 - 1).t_star == 0  # binding fails: the largest 4M B_g^t* < q
    with pytest.raises(ValueError, match="t\\*"):
        GswParams.for_universe(8, 4, 8, 2**62)
    with pytest.raises(ValueError, match="n must"):
        GswParams.for_universe(0, 4, 8, 1)


@pytest.mark.parametrize("fields, match", [
    (dict(n_lwe=0, base_bits=8, L=3, t_star=1), "n_lwe"),
    (dict(n_lwe=4, base_bits=3, L=3, t_star=1), "base_bits"),
    (dict(n_lwe=4, base_bits=8, L=0, t_star=1), "L must"),
    (dict(n_lwe=4, base_bits=8, L=63, t_star=1), "L must"),
    (dict(n_lwe=4, base_bits=8, L=3, t_star=8), "t_star"),
    (dict(n_lwe=4, base_bits=16, L=3, t_star=-1), "t_star"),
    (dict(n_lwe=4.0, base_bits=16, L=3, t_star=1), "integer"),
])
def test_params_validation(fields, match):
    with pytest.raises(ValueError, match=match):
        GswParams(**fields)


def test_key_validation():
    p = GswParams(n_lwe=2, base_bits=16, L=3, t_star=1)
    GswKey(p, np.zeros((3, 3, 12), dtype=np.uint64))
    with pytest.raises(ValueError, match="shape"):
        GswKey(p, np.zeros((3, 3, 11), dtype=np.uint64))
    with pytest.raises(ValueError, match="uint64"):
        GswKey(p, np.zeros((3, 3, 12), dtype=np.int64))
    seen = []
    GswKey.sample(p, lambda shape: seen.append(shape) or np.zeros(shape, dtype=np.uint64))
    assert seen == [(3, 3, 12)]


# -- EvalCol on uniform keys -------------------------------------------------
def eval_one(key: GswKey, j: int) -> np.ndarray:
    """EvalCol(j) literally as in FJW'24's GSW instantiation (docs/references.md#fjw24), one vector, Python-int arithmetic."""
    p = key.params
    G = gadget_matrix(p.N, p.base_bits)
    C = [key.C[u].astype(object) for u in range(p.L)]  # C[u - 1] is C_u
    bit = lambda lev: (j >> (lev - 1)) & 1  # noqa: E731
    c = C[p.L - 1][:, p.c_star]
    w = c if bit(p.L) else (G[:, p.c_star].astype(object) - c) % Q
    for lev in range(p.L - 1, 0, -1):
        digits = np.array([(int(we) >> (p.base_bits * t)) & ((1 << p.base_bits) - 1)
                           for we in w for t in range(p.ell)], dtype=object)
        u = (C[lev - 1] @ digits) % Q
        w = u if bit(lev) else (w - u) % Q
    return w.astype(np.uint64)


@pytest.mark.parametrize("base_bits", [4, 8, 16])
def test_batched_equals_literal_chain_and_one_at_a_time(base_bits):
    p = GswParams(n_lwe=3, base_bits=base_bits, L=5, t_star=1)
    key = uniform_key(p, base_bits)
    idx = np.array([0, 31, 17, 17, 6, 1])
    cols = eval_cols(key, idx)
    assert cols.shape == (p.N, len(idx)) and cols.dtype == np.uint64
    for b, j in enumerate(idx):
        assert np.array_equal(cols[:, b], eval_one(key, int(j)))
        assert np.array_equal(cols[:, b], eval_cols(key, np.array([j]))[:, 0])


def test_batches_larger_than_max_batch(monkeypatch):
    p = GswParams(n_lwe=4, base_bits=8, L=7, t_star=2)
    key = uniform_key(p, 3)
    idx = np.random.default_rng(0).integers(0, 128, size=50)
    want = eval_cols(key, idx)
    monkeypatch.setattr(gsw_module, "MAX_BATCH", 7)
    assert np.array_equal(eval_cols(key, idx), want)
    assert np.array_equal(eval_cols(key, idx, EvalCache(key, 3)), want)


def test_cache_gives_identical_columns_for_every_t():
    p = GswParams(n_lwe=5, base_bits=8, L=8, t_star=3)
    key = uniform_key(p, 4)
    idx = np.concatenate([np.arange(256), np.random.default_rng(1).integers(0, 256, 40)])
    want = eval_cols(key, idx)
    for t in range(p.L + 1):
        cache = EvalCache(key, t)
        assert cache.bits == t
        assert cache.vectors.shape == (p.N, 2**t if t else 0)
        assert cache.nbytes == p.N * (2**t if t else 0) * 8
        assert np.array_equal(eval_cols(key, idx, cache), want)
    # at t = L the cache is every column: the "long random string"
    assert np.array_equal(EvalCache(key, p.L).vectors, want[:, :256])


def test_cache_and_index_validation():
    p = GswParams(n_lwe=2, base_bits=16, L=4, t_star=1)
    key, other = uniform_key(p, 5), uniform_key(p, 6)
    with pytest.raises(ValueError, match="another key"):
        eval_cols(key, np.array([1]), EvalCache(other, 2))
    with pytest.raises(ValueError, match="cache bits"):
        EvalCache(key, 5)
    with pytest.raises(ValueError, match="cache bits"):
        EvalCache(key, -1)
    for bad in (np.array([16]), np.array([-1]), np.array([[1]]), np.array([1.0])):
        with pytest.raises(ValueError, match="indices"):
            eval_cols(key, bad)
    assert eval_cols(key, np.array([], dtype=np.int64)).shape == (p.N, 0)
    assert eval_cols(key, np.array([], dtype=np.int64), EvalCache(key, 2)).shape == (p.N, 0)


@pytest.mark.parametrize("base_bits, L", [(8, 6), (16, 9), (2, 4)])
def test_public_identities(base_bits, L):
    """FJW'24's subcube identities (docs/references.md#fjw24), made precise for the bit convention (level u reads bit u - 1).

    The chain applies level L first and level 1 last, so level 1 (the least
    significant bit) is the *outermost* factor of C_1 ⊠ (C_2 ⊠ (... ⊠ C_L)).
    Since u + (w - u) = w, summing EvalCol over the low s bits, high bits fixed
    at prefix p, gives the chain vector after levels L .. s+1, i.e.
    EvalCache(key, L - s).vectors[:, p]; s = 1 is "both values of the
    outermost bit", s = L the full cube, which gives G e_{c*}.
    """
    p = GswParams(n_lwe=4, base_bits=base_bits, L=L, t_star=1)
    key = uniform_key(p, L)
    cols = eval_cols(key, np.arange(2**L))
    # outermost bit: EvalCol(2k) + EvalCol(2k + 1) = inner chain vector for prefix k
    inner = EvalCache(key, L - 1).vectors
    assert np.array_equal(cols[:, 0::2] + cols[:, 1::2], inner)
    for s in range(1, L):
        sums = cols.reshape(p.N, 2 ** (L - s), 2**s).sum(axis=2, dtype=np.uint64)
        assert np.array_equal(sums, EvalCache(key, L - s).vectors)
    assert np.array_equal(cols.sum(axis=1, dtype=np.uint64), p.g_column())
    # the innermost bit (level L, applied first) has no such identity: G^-1 is not linear
    assert not np.array_equal(cols[:, : 2 ** (L - 1)] + cols[:, 2 ** (L - 1):],
                              EvalCache(key, L - 1).vectors)


# -- the proof world: real GSW -----------------------------------------------
def test_keygen_and_fresh_encryptions_decrypt():
    p = GswParams(n_lwe=8, base_bits=8, L=1, t_star=6)
    rng = np.random.default_rng(7)
    s, A = keygen(p, rng)
    assert s.shape == (p.N,) and A.shape == (p.N, 64 * p.N + 1)
    assert int(s[0]) == 1
    e = centered(s @ A, Q)
    assert np.abs(e).max() <= 3.2 * 7  # s^T A = e, a small rounded Gaussian
    for bit in (0, 1):
        C = encrypt_bit(p, A, bit, rng)
        assert decrypt_columns(p, s, C[:, [p.c_star]]).tolist() == [bit]
        # every gadget column decrypts: s^T C = e^T R + bit s^T G
        noise = centered(s @ C, Q) - bit * centered(s @ gadget_matrix(p.N, 8), Q)
        assert np.abs(noise).max() < 2**12
    with pytest.raises(ValueError, match="bit"):
        encrypt_bit(p, A, 2, rng)
    with pytest.raises(ValueError, match="v must"):
        encrypt_index(p, A, 2, rng)


PROOF_WORLD = [  # (n_lwe, base_bits, L, M); t* from GswParams.for_universe
    (16, 8, 10, 3),
    (12, 16, 8, 3),
    (8, 8, 7, 2**10),
]


@pytest.mark.parametrize("n_lwe, base_bits, L, M", PROOF_WORLD)
def test_proof_world_binding(n_lwe, base_bits, L, M):
    p = GswParams.for_universe(2**L, n_lwe, base_bits, M)
    rng = np.random.default_rng(L * 1000 + base_bits)
    s, A = keygen(p, rng)
    v = int(rng.integers(0, 2**L))
    key = encrypt_index(p, A, v, rng)
    n = 2**L
    cols = eval_cols(key, np.arange(n))
    mu = (np.arange(n) == v).astype(np.int64)

    # every EvalCol(j) decrypts to 1[j == v]
    assert np.array_equal(decrypt_columns(p, s, cols), mu)
    for j in (v, (v + 1) % n, 0):
        assert decrypt_column(p, s, cols[:, j]) == int(j == v)
    noise = phases(s, cols) - mu * p.scale
    column_noise = int(np.abs(noise).max())
    assert column_noise * 2**16 < p.scale  # a wide margin at these sizes

    # the running hash of a bounded x decrypts to x_v
    for trial in range(3):
        x = rng.integers(-min(M, 3) if trial == 0 else -M, M + 1, size=n)
        h = hash_of(cols, x)
        assert decrypt_column(p, s, h) == x[v]
        hash_noise = abs(int(phases(s, h[:, None])[0]) - int(x[v]) * p.scale)
        assert hash_noise <= int(np.abs(x).sum()) * column_noise  # triangle inequality
        assert hash_noise * 2**4 < p.scale

    # cached evaluation is the same ciphertext
    assert np.array_equal(eval_cols(key, np.arange(n), EvalCache(key, L // 2)), cols)


def test_proof_world_noise_matches_the_heuristic():
    """The GSW noise model (docs/references.md#gsw13): fresh noise ≈ σ√(m/2), each level adds ≈ σ_fresh·√(Nℓ)·B_g/√3."""
    p = GswParams(n_lwe=16, base_bits=8, L=10, t_star=7)
    rng = np.random.default_rng(11)
    s, A = keygen(p, rng)
    m = A.shape[1]
    key = encrypt_index(p, A, 5, rng)
    noise = phases(s, eval_cols(key, np.arange(2**p.L)))
    noise[5] -= p.scale
    per_step = 3.2 * np.sqrt(m / 2) * np.sqrt(p.width) * 2**p.base_bits / np.sqrt(3)
    rms = float(np.sqrt(np.mean(noise.astype(float) ** 2)))
    assert per_step / 8 < rms < per_step * np.sqrt(p.L) * 8


def test_decrypt_columns_rounding_matches_python():
    p = GswParams(n_lwe=1, base_bits=4, L=1, t_star=3)  # scale 2^12
    s = np.array([1, 0], dtype=np.uint64)
    phase = np.array([0, 2047, 2048, -2048, -2049, 4096 * 5 + 10, -(2**63), 2**63 - 1], dtype=np.int64)
    W = np.vstack([phase.view(np.uint64), np.full(len(phase), 99, dtype=np.uint64)])
    want = [(2 * int(c) + 4096) // 8192 for c in phase]
    assert decrypt_columns(p, s, W).tolist() == want
    assert [decrypt_column(p, s, W[:, b]) for b in range(len(phase))] == want
    p0 = GswParams(n_lwe=1, base_bits=4, L=1, t_star=0)
    assert decrypt_columns(p0, s, W).tolist() == phase.tolist()
