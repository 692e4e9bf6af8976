"""Random-oracle columns (AES-CTR with random access) and the FW'23 SIS hash."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from Crypto.Cipher import AES
from hypothesis import given
from hypothesis import strategies as st

from wbstream.crypto.prg import RandomOracleColumns
from wbstream.crypto.sis import SisHash

Q = 2**64
P31 = 2**31 - 1
MODULI = [Q, P31, 2**61 - 1, 2**32, 5]


# -- RandomOracleColumns -----------------------------------------------------
@pytest.mark.parametrize("rows", [1, 2, 3, 8, 33])
def test_columns_are_the_ctr_keystream(rows):
    ro = RandomOracleColumns(b"seed", rows, Q, label="lbl")
    key = hashlib.sha256(b"seed").digest()
    nonce = hashlib.sha256(b"lbl").digest()[:8]
    for i in (0, 1, 1000):
        ctr = AES.new(key, AES.MODE_CTR, nonce=nonce, initial_value=i * ro.blocks_per_column)
        words = np.frombuffer(ctr.encrypt(bytes(8 * rows)), dtype="<u8")
        assert np.array_equal(ro.columns(np.array([i]))[:, 0], words)


def test_determinism_and_domain_separation():
    idx = np.array([4, 0, 77, 4])
    a = RandomOracleColumns(b"s", 5, Q).columns(idx)
    assert a.dtype == np.uint64 and a.shape == (5, 4)
    assert np.array_equal(a, RandomOracleColumns(b"s", 5, Q).columns(idx))
    assert np.array_equal(a[:, 0], a[:, 3])
    assert not np.array_equal(a, RandomOracleColumns(b"t", 5, Q).columns(idx))
    assert not np.array_equal(a, RandomOracleColumns(b"s", 5, Q, label="other").columns(idx))
    # more rows extend each column rather than reshuffling it (same blocks per column: 3 vs 5 rows)
    assert np.array_equal(RandomOracleColumns(b"s", 6, Q).columns(idx)[:5], a)


@given(indices=st.lists(st.integers(0, 2**40), min_size=1, max_size=20),
       modulus=st.sampled_from(MODULI))
def test_random_access(indices, modulus):
    ro = RandomOracleColumns(b"ra", 3, modulus)
    idx = np.array(indices, dtype=np.int64)
    batch = ro.columns(idx)
    for b, i in enumerate(indices):
        assert np.array_equal(ro.columns(np.array([i]))[:, 0], batch[:, b])
    if modulus < Q:
        assert int(batch.max()) < modulus


def test_range_and_rough_uniformity():
    cols = RandomOracleColumns(b"u", 16, P31).columns(np.arange(500))
    assert int(cols.max()) < P31
    assert abs(cols.astype(float).mean() / P31 - 0.5) < 0.02
    raw = RandomOracleColumns(b"u", 16, Q).columns(np.arange(500))
    assert abs((raw >> np.uint64(63)).mean() - 0.5) < 0.03
    small = RandomOracleColumns(b"u", 16, 5).columns(np.arange(500))
    assert np.bincount(small.ravel().astype(np.int64), minlength=5).min() > 1400


def test_attributes_and_validation():
    ro = RandomOracleColumns(b"x", 4, 97)
    assert (ro.seed, ro.rows, ro.modulus) == (b"x", 4, 97)
    with pytest.raises(AttributeError):
        ro.rows = 5
    assert ro.columns(np.array([], dtype=np.int64)).shape == (4, 0)
    with pytest.raises(ValueError, match="rows"):
        RandomOracleColumns(b"x", 0, 97)
    with pytest.raises(ValueError, match="modulus"):
        RandomOracleColumns(b"x", 4, 1)
    with pytest.raises(ValueError, match="modulus"):
        RandomOracleColumns(b"x", 4, Q + 1)
    with pytest.raises(ValueError, match="bytes"):
        RandomOracleColumns("x", 4, 97)
    with pytest.raises(ValueError, match="indices"):
        ro.columns(np.array([-1]))
    with pytest.raises(ValueError, match="indices"):
        ro.columns(np.array([[1]]))


# -- SisHash -----------------------------------------------------------------
def reference_hash(sis: SisHash, idx: np.ndarray, values: np.ndarray) -> list[int]:
    cols = sis.oracle.columns(idx)
    return [sum(int(cols[r, b]) * int(values[b]) for b in range(len(idx))) % sis.modulus
            for r in range(sis.rows)]


@pytest.mark.parametrize("modulus", MODULI)
def test_hash_matches_python_ints(modulus):
    sis = SisHash(6, modulus, b"sis")
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 10**6, size=50)
    values = rng.integers(-(2**62), 2**62, size=50)
    values[:3] = [-(2**63), 2**63 - 1, -1]
    assert sis.hash_of(idx, values).tolist() == reference_hash(sis, idx, values)


@pytest.mark.parametrize("modulus", MODULI)
@given(x=st.lists(st.integers(-(2**40), 2**40), min_size=8, max_size=8),
       y=st.lists(st.integers(-(2**40), 2**40), min_size=8, max_size=8))
def test_linearity(modulus, x, y):
    sis = SisHash(4, modulus, b"lin")
    idx = np.arange(100, 108)
    x, y = np.array(x), np.array(y)
    hx, hy = sis.hash_of(idx, x), sis.hash_of(idx, y)
    total = [(int(a) + int(b)) % modulus for a, b in zip(hx, hy)]
    assert sis.hash_of(idx, x + y).tolist() == total
    assert sis.add(hx, idx, y).tolist() == total


@pytest.mark.parametrize("modulus", MODULI)
def test_add_streams_to_hash_of(modulus):
    sis = SisHash(5, modulus, b"stream")
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 30, size=400)
    deltas = rng.integers(-1000, 1000, size=400)
    h = sis.zero()
    for b in range(0, 400, 64):
        h = sis.add(h, idx[b:b + 64], deltas[b:b + 64])
    x = np.zeros(30, dtype=np.int64)
    np.add.at(x, idx, deltas)
    assert np.array_equal(h, sis.hash_of(np.arange(30), x))
    assert h.dtype == np.uint64 and int(h.max()) < modulus


def test_unsigned_values_and_collisions_are_rare():
    sis = SisHash(8, P31, b"u")
    idx = np.array([1, 2])
    assert np.array_equal(sis.hash_of(idx, np.array([3, 4], dtype=np.uint64)),
                          sis.hash_of(idx, np.array([3, 4])))
    assert not np.array_equal(sis.hash_of(idx, np.array([1, 0])), sis.hash_of(idx, np.array([0, 1])))
    # wrap-around: x and x + q e_i collide, which is why parameters must have q > 2M
    assert np.array_equal(sis.hash_of(idx, np.array([P31, 0])), sis.zero())


def test_sis_validation():
    with pytest.raises(ValueError, match="rows"):
        SisHash(0, Q, b"s")
    with pytest.raises(ValueError, match="modulus"):
        SisHash(2, 1, b"s")
    with pytest.raises(ValueError, match="modulus"):
        SisHash(2, Q + 1, b"s")
    sis = SisHash(2, P31, b"s")
    assert sis.state_bits == 62 and sis.hash_of(np.array([], dtype=int), np.array([], dtype=int)).tolist() == [0, 0]
    with pytest.raises(ValueError, match="same length"):
        sis.hash_of(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match="integers"):
        sis.hash_of(np.array([1]), np.array([1.5]))
    with pytest.raises(ValueError, match="shape"):
        sis.add(np.zeros(3, np.uint64), np.array([1]), np.array([1]))
    with pytest.raises(ValueError, match="modulus"):
        sis.add(np.full(2, P31, np.uint64), np.array([1]), np.array([1]))
