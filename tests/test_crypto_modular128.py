"""Arithmetic mod 2^128 on uint64 pairs, checked against Python integers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.crypto.modular128 import (Q128, Limb128Matrix, _product, add128, centered128, from_pairs,
                                        gadget_decompose128, gadget_matrix128, limb128_plan, matmul_mod_2_128,
                                        matmul_mod_2_128_reference, mul128_int, neg128, split_limbs128, sub128,
                                        sum128, to_pairs)

u128 = st.integers(0, Q128 - 1)
edge = st.sampled_from([0, 1, 2**64 - 1, 2**64, 2**127, Q128 - 1])


def random_pairs(rng, shape):
    return rng.integers(0, 2**64, size=shape + (2,), dtype=np.uint64)


@given(st.lists(st.one_of(u128, edge), min_size=1, max_size=6), st.lists(st.one_of(u128, edge), min_size=6,
                                                                          max_size=6))
def test_elementwise_ops_match_python(xs, ys):
    ys = ys[:len(xs)]
    a, b = to_pairs(np.array(xs, dtype=object)), to_pairs(np.array(ys, dtype=object))
    assert from_pairs(add128(a, b)).tolist() == [(x + y) % Q128 for x, y in zip(xs, ys)]
    assert from_pairs(sub128(a, b)).tolist() == [(x - y) % Q128 for x, y in zip(xs, ys)]
    assert from_pairs(neg128(a)).tolist() == [(-x) % Q128 for x in xs]
    assert from_pairs(sum128(a, axis=0)) == sum(xs) % Q128
    assert centered128(a).tolist() == [x - Q128 if x >= 2**127 else x for x in xs]


@given(st.lists(st.one_of(u128, edge), min_size=1, max_size=6),
       st.lists(st.integers(-2**63, 2**63 - 1), min_size=6, max_size=6))
def test_mul_by_signed_int64_matches_python(xs, vs):
    vs = vs[:len(xs)]
    got = from_pairs(mul128_int(to_pairs(np.array(xs, dtype=object)), np.array(vs, dtype=np.int64)))
    assert got.tolist() == [(x * v) % Q128 for x, v in zip(xs, vs)]


@pytest.mark.parametrize("base_bits", [1, 2, 4, 8, 16])
def test_gadget_decomposition_inverts_G(base_bits):
    rng = np.random.default_rng(base_bits)
    W = random_pairs(rng, (3, 5))
    W[0, 0] = [2**64 - 1, 2**64 - 1]
    D = gadget_decompose128(W, base_bits)
    assert D.shape == (3 * 128 // base_bits, 5) and int(D.max()) < 2**base_bits
    G = gadget_matrix128(3, base_bits)
    assert np.array_equal(matmul_mod_2_128_reference(G, D), W)
    assert np.array_equal(gadget_decompose128(W[:, 2], base_bits), D[:, 2])  # one vector


@pytest.mark.parametrize("limb_bits", [22, 16])
@pytest.mark.parametrize("digit_bits", [1, 8, 16])
def test_limb_product_is_exact(limb_bits, digit_bits):
    rng = np.random.default_rng(limb_bits * 100 + digit_bits)
    A = random_pairs(rng, (7, 300))
    A[0, :] = [2**64 - 1, 2**64 - 1]  # the largest entries
    D = rng.integers(0, 2**digit_bits, size=(300, 9)).astype(np.uint16)
    D[:, 0] = 2**digit_bits - 1
    want = matmul_mod_2_128_reference(A, D)
    stacked = split_limbs128(A, limb_bits)
    assert stacked.shape == (-(-128 // limb_bits) * 7, 300) and stacked.max() < 2**limb_bits
    # small chunks exercise the carry across chunk sums
    assert np.array_equal(_product(stacked, 7, D.astype(np.float64), limb_bits, 37), want)
    assert np.array_equal(matmul_mod_2_128(A, D, digit_bits, row_block=3), want)
    assert np.array_equal(Limb128Matrix(A, digit_bits) @ D, want)


def test_limb_plan_keeps_partial_sums_exact():
    assert limb128_plan(18408, 16) == (22, 18408)  # the ~64-bit preset's row: 6 limbs, one chunk
    bits, chunk = limb128_plan(10**6, 16)
    assert bits == 16 and chunk * (2**16 - 1) ** 2 <= 2**53
    assert Limb128Matrix(np.zeros((1, 4, 2), np.uint64), 16).limbs == 6


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="pairs"):
        Limb128Matrix(np.zeros((2, 3), np.uint64), 8)
    with pytest.raises(ValueError, match="digits must lie"):
        matmul_mod_2_128(np.zeros((1, 2, 2), np.uint64), np.array([[256], [0]]), 8)
    with pytest.raises(ValueError, match="shape"):
        Limb128Matrix(np.zeros((1, 2, 2), np.uint64), 8) @ np.zeros((3, 1), np.uint8)
    with pytest.raises(ValueError, match="pairs"):
        gadget_decompose128(np.zeros((2, 3), np.uint64), 8)
