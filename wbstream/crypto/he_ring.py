"""The FJW'24 proof world in ring form, on a real HE library: an encrypted equality test.

FJW'24's security proof replaces the public key by encryptions of the bits
``v_1..v_L`` of a hidden index v, and evaluates ``eq_j(v) = prod_l [v_l = j_l]``
homomorphically for every column j (docs/references.md#fjw24). Here the same circuit runs
under TenSEAL BFV with SIMD batching: ciphertext ``c_l`` holds ``v_l`` in every
slot, slot j of a plaintext holds bit l of j, and per level

    [v_l = j_l] = v_l (2 j_l - 1) + (1 - j_l)

is one plaintext multiplication and one plaintext addition. The L factors are
multiplied in a balanced tree (depth ceil(log2 L), relinearising after each
product). The result must decrypt to the indicator vector e_v in every slot.

>>> indicator = encrypted_equality(v=5, n=8)
>>> indicator.tolist()
[0, 0, 0, 0, 0, 1, 0, 0]
"""

from __future__ import annotations

import math

import numpy as np
import tenseal as ts

from wbstream.crypto.he import BfvParams, HEError

#: Degree 8192 with t = 65537 leaves noise budget for the depth-4 tree of n = N = 8192 columns (L = 13: tested).
RING_PARAMS = BfvParams(8192, 65537)


def index_bits(values: np.ndarray, L: int) -> np.ndarray:
    """Bit l of each value, shape ``(L, len(values))``, least significant first."""
    return (np.asarray(values, np.int64)[None, :] >> np.arange(L)[:, None]) & 1


def encrypted_equality(v: int, n: int, params: BfvParams = RING_PARAMS) -> np.ndarray:
    """Encrypt the bits of v, evaluate ``[v = j]`` for every slot j < n homomorphically, decrypt."""
    if not 1 <= n <= params.slots:
        raise HEError(f"n = {n} must be in [1, {params.slots}] (one slot per column)")
    if not 0 <= v < n:
        raise HEError(f"the hidden index v = {v} must be in [0, {n})")
    L = max(1, math.ceil(math.log2(n)))
    context = params.context()
    context.generate_relin_keys()
    v_bits = index_bits(np.array([v]), L)[:, 0]
    j_bits = index_bits(np.arange(n), L)
    factors = []
    for l in range(L):
        c = ts.bfv_vector(context, [int(v_bits[l])] * n)  # an encryption of v_l in every slot
        factors.append(c * (2 * j_bits[l] - 1).tolist() + (1 - j_bits[l]).tolist())
    while len(factors) > 1:  # balanced product tree: depth ceil(log2 L)
        paired = [factors[i] * factors[i + 1] for i in range(0, len(factors) - 1, 2)]
        factors = paired + ([factors[-1]] if len(factors) % 2 else [])
    t = params.plain_modulus
    return np.asarray(factors[0].decrypt(), dtype=np.int64) % t
