"""The FJW'24 tester at q = 2^128: exact EvalCol on (lo, hi) pairs, and binding in the proof world.

Binding (docs/references.md#fjw24, wbstream/crypto/binding.py): with real encryptions of the
bits of a hidden v, every y with |y|_1 <= Y = 2Mn hashes to a ciphertext that decrypts to
y_v exactly when B_g^t* > 2 Y B_eval and 2M B_g^t* + Y B_eval < q/2. The tests below
encrypt at the largest sizes that run in about a second and check the inequalities at
the presets' real sizes arithmetically.
"""

from __future__ import annotations

import numpy as np
import pytest

import wbstream.crypto.gsw as gsw_module
from wbstream.crypto.binding import binding, eval_noise_subgaussian, eval_noise_worst
from wbstream.crypto.gsw import EvalCache, GswKey, GswParams, eval_cols
from wbstream.crypto.gsw_proof import decrypt_column, decrypt_columns, encrypt_index, keygen, measured_noise, phases
from wbstream.crypto.modular128 import from_pairs, mul128_int, sum128, to_pairs


def uniform_key(params: GswParams, seed: int) -> GswKey:
    rng = np.random.default_rng(seed)
    return GswKey.sample(params, lambda shape: rng.integers(0, 2**64, size=shape, dtype=np.uint64))


def hash128(cols: np.ndarray, y: np.ndarray) -> np.ndarray:
    return sum128(mul128_int(cols, np.asarray(y, np.int64)), axis=1)


# -- the real world: public identities on a uniform key ------------------------
def test_wide_params():
    p = GswParams(n_lwe=4, base_bits=16, L=3, t_star=7, log_q=128)
    assert (p.ell, p.width, p.key_shape, p.scale) == (8, 40, (3, 5, 40, 2), 2**112)
    assert p.key_bits == 3 * 5 * 40 * 128 and p.hash_bits == 5 * 128
    assert from_pairs(p.g_column()).tolist() == [2**112, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="log_q"):
        GswParams(n_lwe=4, base_bits=16, L=3, t_star=1, log_q=96)
    with pytest.raises(ValueError, match="t_star"):
        GswParams(n_lwe=4, base_bits=16, L=3, t_star=8, log_q=128)


def test_wide_eval_cols_identities():
    p = GswParams(n_lwe=3, base_bits=16, L=6, t_star=5, log_q=128)
    key = uniform_key(p, 3)
    cols = eval_cols(key, np.arange(64))
    assert cols.shape == (p.N, 64, 2)
    assert np.array_equal(sum128(cols, axis=1), p.g_column())  # the cube sums to G e_c*
    for t in (1, 3, 6):
        assert np.array_equal(eval_cols(key, np.arange(64), EvalCache(key, t)), cols)
    assert np.array_equal(eval_cols(key, np.array([37, 2]))[:, 0], cols[:, 37])
    assert eval_cols(key, np.array([], dtype=np.int64)).shape == (p.N, 0, 2)


@pytest.mark.parametrize("log_q, base_bits", [(64, 8), (64, 16), (128, 8), (128, 16)])
def test_mapped_key_streams_rows_and_gives_the_same_columns(monkeypatch, log_q, base_bits):
    p = GswParams(n_lwe=5, base_bits=base_bits, L=4, t_star=2, log_q=log_q)
    key = uniform_key(p, 5)
    want = eval_cols(key, np.arange(16))
    C = key.C.copy()
    C.flags.writeable = False
    monkeypatch.setattr(gsw_module, "ROW_BLOCK", 2)  # three row blocks of N = 6
    for name in ("SMALL_BATCH_64", "SMALL_BATCH_128"):  # the limb path at every batch
        monkeypatch.setattr(gsw_module, name, 0)
    mapped = GswKey(p, C, mapped=True)
    assert np.array_equal(eval_cols(mapped, np.arange(16)), want)
    assert all(lm is None for lm in mapped._limbs)  # no limb split kept


# -- the proof world at q = 2^128 -------------------------------------------------
def proof_world(p: GswParams, sigma: float, seed: int):
    rng = np.random.default_rng(seed)
    s, A = keygen(p, rng, sigma=sigma)
    v = int(rng.integers(0, 2**p.L))
    return rng, s, v, encrypt_index(p, A, v, rng)


def collisions(rng, n: int, M: int, v: int, noise: np.ndarray):
    """Random sparse, random dense and maximum-norm differences y (|y|_inf <= 2M)."""
    sparse = np.zeros(n, np.int64)
    sparse[rng.choice(n, 4, replace=False)] = rng.integers(-2 * M, 2 * M + 1, 4)
    sparse[v] = 2 * M
    dense = rng.integers(-2 * M, 2 * M + 1, n)
    # |y|_1 = Y = 2Mn, every sign chosen to add up the column noise: the worst y for this key
    worst = np.where(noise >= 0, 2 * M, -2 * M).astype(np.int64)
    worst_neg = worst.copy()
    worst_neg[v] = -worst[v]
    return {"sparse": sparse, "dense": dense, "max-norm": worst, "max-norm, y_v flipped": worst_neg}


SEC64 = dict(base_bits=16, log_q=128, M=2**10, sigma=2.0**28)  # the ~64-bit preset's q, B_g, M and sigma


def test_binding_at_the_64_bit_preset_shape():
    """sec64 (n_lwe = 2300, n <= 2^16, M = 2^10): encrypt at n_lwe = 8, n = 2^10; check the inequalities at the real size.

    The worst-case B_eval grows like N^2 L (m = N log q + 1 samples, N l digits per level): at
    n_lwe = 2300, n = 2^16 it is 2^{~82}, and binding holds with a margin of ~0.3 bits there.
    """
    real = binding(n=2**16, M=SEC64["M"], n_lwe=2300, base_bits=16, log_q=128, sigma=SEC64["sigma"])
    assert real.holds and real.margin_bits > 0
    p = GswParams.for_universe(2**10, 8, 16, SEC64["M"], log_q=128, sigma=SEC64["sigma"])
    assert p.binding.holds
    check_collisions_decrypt(p, SEC64["M"], SEC64["sigma"], seed=64)


@pytest.mark.parametrize("n_lwe, base_bits, L, M", [(8, 8, 10, 2**20), (4, 16, 8, 2**20), (6, 8, 9, 3)])
def test_binding_where_it_holds_at_q_2_128(n_lwe, base_bits, L, M):
    p = GswParams.for_universe(2**L, n_lwe, base_bits, M, log_q=128)
    assert p.binding.holds
    check_collisions_decrypt(p, M, 3.2, seed=L * 100 + base_bits)


def check_collisions_decrypt(p: GswParams, M: int, sigma: float, seed: int):
    rng, s, v, key = proof_world(p, sigma, seed)
    n = 2**p.L
    cols = eval_cols(key, np.arange(n))
    mu = (np.arange(n) == v).astype(np.int64)
    assert np.array_equal(decrypt_columns(p, s, cols), mu)
    measured = measured_noise(p, s, cols, mu)
    common = dict(n_lwe=p.n_lwe, base_bits=p.base_bits, log_q=p.log_q, L=p.L, sigma=sigma)
    assert measured <= eval_noise_subgaussian(n=n, **common) <= eval_noise_worst(**common)
    noise = np.array([int(c) - int(u) * p.scale for c, u in zip(phases(s, cols), mu)], dtype=object)
    for name, y in collisions(rng, n, M, v, noise).items():
        h = hash128(cols, y)
        assert decrypt_column(p, s, h) == y[v], name
        e = int(phases(s, h[:, None])[0]) - int(y[v]) * p.scale
        assert abs(e) <= int(np.abs(y).sum()) * measured, name  # triangle inequality


def test_the_bug_old_t_star_at_q_2_64_fails_at_M_2_20():
    """Issue #13: q = 2^64, B_g = 2^8, t* from 4M B_g^t* < q alone; collisions at M = 2^20 do not decrypt."""
    n_lwe, base_bits, L, M = 8, 8, 10, 2**20
    p = GswParams.for_universe(2**L, n_lwe, base_bits, M)
    assert not p.binding.holds and p.binding.failed == "B_g^t* > 2*Y*B_eval"
    assert p.t_star == 5  # the old rule: the largest t with 4 * 2^20 * 2^(8t) < 2^64
    rng = np.random.default_rng(20)
    s, A = keygen(p, rng)
    v = int(rng.integers(0, 2**L))
    cols = eval_cols(encrypt_index(p, A, v, rng), np.arange(2**L))
    mu = (np.arange(2**L) == v).astype(np.int64)
    assert np.array_equal(decrypt_columns(p, s, cols), mu)  # single columns still decrypt
    noise = phases(s, cols) - mu * p.scale
    wrong = 0
    for name, y in collisions(rng, 2**L, M, v, noise).items():
        h = (cols * y.view(np.uint64)[None, :]).sum(axis=1, dtype=np.uint64)
        wrong += decrypt_column(p, s, h) != y[v]
    assert wrong >= 3  # dense and both maximum-norm collisions decrypt to the wrong value
    # the same (n, M) at q = 2^128 with t* from the noise: test_binding_where_it_holds_at_q_2_128[8-8-10-...]
    assert GswParams.for_universe(2**L, n_lwe, base_bits, M, log_q=128).binding.holds


def test_wide_proof_world_round_trip_of_keygen():
    p = GswParams(n_lwe=3, base_bits=8, L=2, t_star=12, log_q=128)
    rng = np.random.default_rng(1)
    s, A = keygen(p, rng, m=50, sigma=3.2)
    assert s.shape == (4, 2) and A.shape == (4, 50, 2) and from_pairs(s[0]) == 1
    e = phases(s, A)
    assert max(abs(int(x)) for x in e) <= 3.2 * 12 and any(int(x) != 0 for x in e)
    with pytest.raises(ValueError, match="rows"):
        encrypt_index(p, A[:2], 1, rng)
    assert to_pairs(5).shape == (2,)
