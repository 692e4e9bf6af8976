"""Exact mod-2^64 products through float64 limbs, the gadget, and prime-field helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.crypto.modular import (GADGET_BASE_BITS, LimbMatrix, centered, gadget_decompose,
                                     gadget_matrix, is_prime, matmul_mod_2_64,
                                     matmul_mod_2_64_reference, mod_inv, next_prime, powers_mod)

Q = 2**64
ONES = np.uint64(Q - 1)


def random_words(rng, shape, extreme: int):
    """Uniform words, or with ``extreme`` > 0 a mix of 0, 1, 2^63 and 2^64 - 1."""
    if extreme == 0:
        return rng.integers(0, Q, size=shape, dtype=np.uint64)
    pool = np.array([0, 1, 2**63, Q - 1, Q - 2, 2**32 - 1, 2**32], dtype=np.uint64)
    return pool[rng.integers(0, len(pool), size=shape)]


# -- matmul_mod_2_64 ---------------------------------------------------------
@given(r=st.integers(1, 5), c=st.integers(0, 40), m=st.integers(1, 5), digit_bits=st.integers(1, 16),
       extreme=st.integers(0, 1), seed=st.integers(0, 2**32 - 1))
def test_matmul_matches_reference(r, c, m, digit_bits, extreme, seed):
    rng = np.random.default_rng(seed)
    A = random_words(rng, (r, c), extreme)
    hi = 1 << digit_bits
    D = rng.integers(0, hi, size=(c, m)) if not extreme else np.full((c, m), hi - 1)
    assert np.array_equal(matmul_mod_2_64(A, D, digit_bits), matmul_mod_2_64_reference(A, D))


@pytest.mark.parametrize("limb_bits", [16, 22, 32])
@pytest.mark.parametrize("digit_bits", [1, 8, 16])
def test_every_limb_width_and_forced_chunks(limb_bits, digit_bits):
    rng = np.random.default_rng(limb_bits * 100 + digit_bits)
    A = random_words(rng, (3, 70), 0)
    A[0] = ONES
    D = rng.integers(0, 1 << digit_bits, size=(70, 4), dtype=np.int64)
    D[:, 0] = (1 << digit_bits) - 1
    ref = matmul_mod_2_64_reference(A, D)
    for chunk in (None, 1, 7, 69):
        exact = LimbMatrix(A, digit_bits, limb_bits=limb_bits).chunk
        lm = LimbMatrix(A, digit_bits, limb_bits=limb_bits, chunk=min(chunk or exact, exact))
        assert np.array_equal(lm @ D, ref)


def test_natural_chunking_path_on_all_ones():
    # 32-bit limbs and 8-bit digits are exact for 8224 terms: 9000 needs two chunks.
    A = np.full((2, 9000), ONES, dtype=np.uint64)
    D = np.full((9000, 2), 255, dtype=np.uint8)
    lm = LimbMatrix(A, 8)
    assert (lm.limbs, lm.chunk) == (2, 8224)
    out = lm @ D
    assert np.array_equal(out, matmul_mod_2_64_reference(A, D))
    assert int(out[0, 0]) == (-255 * 9000) % Q


def test_limb_choice_is_exact_and_minimal():
    assert LimbMatrix(np.zeros((1, 2056), np.uint64), 8).limbs == 2
    assert LimbMatrix(np.zeros((1, 2056), np.uint64), 16).limbs == 3
    assert LimbMatrix(np.zeros((1, 2056), np.uint64), 1).limbs == 2
    for bits in (1, 8, 16):
        lm = LimbMatrix(np.zeros((1, 5000), np.uint64), bits)
        assert lm.chunk * ((1 << lm.limb_bits) - 1) * ((1 << bits) - 1) <= 2**53


def test_matmul_vector_bool_and_empty():
    A = np.array([[Q - 1, 5, 7]], dtype=np.uint64)
    assert matmul_mod_2_64(A, np.array([True, False, True]), 1).tolist() == [6]
    assert matmul_mod_2_64(A, np.array([1, 0, 1], dtype=np.uint8), 1).shape == (1,)
    assert matmul_mod_2_64(np.zeros((2, 0), np.uint64), np.zeros((0, 3), np.uint8), 8).tolist() == [[0] * 3] * 2


def test_matmul_validation():
    A = np.zeros((2, 3), dtype=np.uint64)
    D = np.zeros((3, 1), dtype=np.uint8)
    with pytest.raises(ValueError, match="digit_bits"):
        matmul_mod_2_64(A, D, 17)
    with pytest.raises(ValueError, match="digit_bits"):
        matmul_mod_2_64(A, D, 0)
    with pytest.raises(ValueError, match="uint64"):
        matmul_mod_2_64(A.astype(np.int64), D, 8)
    with pytest.raises(ValueError, match="shape"):
        matmul_mod_2_64(A, np.zeros((4, 1), np.uint8), 8)
    with pytest.raises(ValueError, match=r"\[0, 2\^4\)"):
        matmul_mod_2_64(A, np.full((3, 1), 16), 4)
    with pytest.raises(ValueError, match=r"\[0, 2\^4\)"):
        matmul_mod_2_64(A, np.full((3, 1), -1), 4)
    with pytest.raises(ValueError, match="integer dtype"):
        matmul_mod_2_64(A, D.astype(float), 8)
    with pytest.raises(ValueError, match="chunk"):
        LimbMatrix(A, 16, limb_bits=32, chunk=10**6)
    with pytest.raises(ValueError, match="limb_bits"):
        LimbMatrix(A, 8, limb_bits=20)


# -- gadget ------------------------------------------------------------------
@pytest.mark.parametrize("base_bits", GADGET_BASE_BITS)
def test_gadget_recomposes(base_bits):
    rng = np.random.default_rng(base_bits)
    W = random_words(rng, (5, 7), 0)
    W[0, 0], W[1, 1] = ONES, 0
    G = gadget_matrix(5, base_bits)
    ell = 64 // base_bits
    assert G.shape == (5, 5 * ell)
    digits = gadget_decompose(W, base_bits)
    assert digits.shape == (5 * ell, 7)
    assert digits.dtype == (np.uint16 if base_bits == 16 else np.uint8)
    assert int(digits.max()) < 1 << base_bits
    assert np.array_equal(matmul_mod_2_64(G, digits, base_bits), W)
    # row e*ell + t is digit t of W[e], least significant first
    t = np.arange(ell, dtype=np.uint64)[None, :, None] * np.uint64(base_bits)
    slow = ((W[:, None, :] >> t) & np.uint64((1 << base_bits) - 1)).reshape(5 * ell, 7)
    assert np.array_equal(digits, slow)
    one = gadget_decompose(W[:, 3].copy(), base_bits)
    assert one.shape == (5 * ell,) and np.array_equal(one, digits[:, 3])
    assert np.array_equal(matmul_mod_2_64(G, one, base_bits), W[:, 3])


def test_gadget_column_is_a_power_of_the_base():
    G = gadget_matrix(3, 8)
    for t in range(8):
        assert G[:, t].tolist() == [256**t, 0, 0]


def test_gadget_decompose_noncontiguous_and_validation():
    W = np.arange(12, dtype=np.uint64).reshape(3, 4)[:, ::2]
    assert np.array_equal(gadget_decompose(W, 8), gadget_decompose(W.copy(), 8))
    with pytest.raises(ValueError, match="base_bits"):
        gadget_decompose(W, 3)
    with pytest.raises(ValueError, match="base_bits"):
        gadget_matrix(2, 32)
    with pytest.raises(ValueError, match="uint64"):
        gadget_decompose(W.astype(np.int64), 8)


# -- primes ------------------------------------------------------------------
def sieve(n: int) -> np.ndarray:
    s = np.ones(n, dtype=bool)
    s[:2] = False
    for p in range(2, int(n**0.5) + 1):
        if s[p]:
            s[p * p::p] = False
    return s


def test_is_prime_against_a_sieve():
    s = sieve(10**5)
    assert [is_prime(m) for m in range(10**5)] == s.tolist()


@pytest.mark.parametrize("n", [2**31 - 1, 2**61 - 1, 2**64 - 59, 2**63 - 25, 4294967291,
                               18446744073709551557])
def test_large_primes(n):
    assert is_prime(n)


@pytest.mark.parametrize("n", [561, 1105, 1729, 2465, 2821, 6601, 8911, 41041, 825265, 321197185,
                               5394826801, 232250619601, 9746347772161,  # Carmichael numbers
                               2047, 3215031751, 3825123056546413051,   # strong pseudoprimes
                               (2**31 - 1) * (2**31 - 1), 2**64 - 1, 2**61 + 1])
def test_composites(n):
    assert not is_prime(n)


def test_next_prime_and_mod_inv():
    assert [next_prime(n) for n in (-3, 0, 1, 2, 13, 2**31 - 2)] == [2, 2, 2, 3, 17, 2**31 - 1]
    assert next_prime(2**64 - 60) == 2**64 - 59
    p = 2**31 - 1
    for a in (1, 2, 12345, p - 1, -5):
        assert a * mod_inv(a, p) % p == 1
    with pytest.raises(ValueError, match="not invertible"):
        mod_inv(6, 9)
    with pytest.raises(ValueError, match="not invertible"):
        mod_inv(0, 7)
    with pytest.raises(ValueError, match="modulus"):
        mod_inv(1, 1)


@pytest.mark.parametrize("p", [2, 7, 2**31 - 1, 4294967291, 2**32])
def test_powers_mod_matches_pow(p):
    bases = np.array([0, 1, 2, -1, -7, 3 * p + 5, p - 1, 123456789], dtype=np.int64)
    out = powers_mod(bases, 9, p)
    assert out.dtype == np.int64 and out.shape == (9, len(bases))
    assert out.tolist() == [[pow(int(b), t, p) for b in bases] for t in range(9)]
    assert np.array_equal(powers_mod(np.abs(bases).astype(np.uint64), 3, p),
                          powers_mod(np.abs(bases), 3, p))
    assert powers_mod(bases, 0, p).shape == (0, len(bases))


def test_powers_mod_validation():
    with pytest.raises(ValueError, match="2\\^32"):
        powers_mod(np.array([2]), 3, 2**32 + 15)
    with pytest.raises(ValueError, match="count"):
        powers_mod(np.array([2]), -1, 7)
    with pytest.raises(ValueError, match="1-D"):
        powers_mod(np.array([[2]]), 3, 7)


# -- centered ----------------------------------------------------------------
def py_centered(x: int, q: int) -> int:
    r = x % q
    return r - q if r > q // 2 else r


@pytest.mark.parametrize("q", [2, 7, 8, 2**31 - 1, 2**62, 2**63, 2**63 + 1, 2**64 - 59])
def test_centered_arrays_match_python(q):
    xs = [0, 1, -1, q // 2, q // 2 + 1, -(q // 2), 2**62, -(2**62), 2**63 - 1, -(2**63), 12345]
    signed = np.array(xs, dtype=np.int64)
    assert centered(signed, q).tolist() == [py_centered(x, q) for x in xs]
    us = [x % Q for x in xs] + [Q - 1, 2**63]
    unsigned = np.array(us, dtype=np.uint64)
    assert centered(unsigned, q).tolist() == [py_centered(x, q) for x in us]
    assert all(-q < 2 * centered(x, q) <= q for x in xs)


def test_centered_mod_2_64():
    u = np.array([0, 1, Q - 1, 2**63, 2**63 - 1], dtype=np.uint64)
    out = centered(u, Q)
    assert out.dtype == np.int64
    assert out.tolist() == [0, 1, -1, -(2**63), 2**63 - 1]
    assert np.shares_memory(out, u)  # a view
    assert centered(np.array([-5], dtype=np.int64), Q).tolist() == [-5]
    assert centered(Q - 1, Q) == -1 and centered(2**63, Q) == 2**63  # Python ints: (-q/2, q/2]
    with pytest.raises(ValueError, match="q must"):
        centered(3, 1)


def test_security_estimates_floor_at_lll_and_cap_at_the_model():
    """0.0 means LLL suffices (for collisions and for LWE alike); beyond the model is inf, not a number."""
    import math

    from wbstream.crypto.params import collision_security_bits, lwe_security_bits
    assert lwe_security_bits(256, 64) == 0.0 and collision_security_bits(8, 32, 2**20) == 0.0
    assert collision_security_bits(4000, 64, 2) == math.inf
    assert 80 < lwe_security_bits(2432, 64) < 140
