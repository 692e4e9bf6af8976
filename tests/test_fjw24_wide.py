"""fjw24 with a q = 2^128 tester: the running hash, merging, and the columns a white-box reader rebuilds."""

from __future__ import annotations

import numpy as np
import pytest

import wbstream.crypto.params as params_module
from wbstream.algorithms.sparse.fjw24 import FJW24, GswTester, gsw_params, gsw_tester_columns
from wbstream.crypto.modular128 import Q128, from_pairs
from wbstream.engine.answers import NOT_SPARSE
from wbstream.engine.coins import Coins
from wbstream.engine.errors import MergeError
from wbstream.engine.problems import SparseRecovery


@pytest.fixture
def wide_preset(monkeypatch):
    """A small preset at q = 2^128 (the real ones come from crypto/params.py)."""
    pre = params_module.FJW24Preset("wide-test", n_lwe=6, base_bits=16, log_q=128, sigma=3.2, breakable=True,
                                    note="test")
    monkeypatch.setitem(params_module.FJW24_PRESETS, "wide-test", pre)
    return "wide-test"


def make(wide_preset, seed=0, **kw):
    p = SparseRecovery(n=512, k=2, M=1000)
    return FJW24(p.params, Coins.from_seed(seed, "wide"), preset=wide_preset, **kw)


def test_params_come_from_the_preset(wide_preset):
    g = gsw_params("fjw24", 512, 1000, wide_preset)
    assert g.log_q == 128 and g.binding.holds and g.t_star == g.binding.t_star
    assert gsw_params("fjw24", 512, 1000, "toy").log_q == 64  # toy names q = 2^64
    with pytest.raises(ValueError, match="log_q"):
        gsw_params("fjw24", 512, 1000, "toy", log_q=96)


@pytest.mark.parametrize("cache_levels", [0, 4])
def test_recovery_and_rejection_at_q_2_128(wide_preset, cache_levels):
    alg = make(wide_preset, cache_levels=cache_levels)
    assert alg.tester.modulus == Q128 and alg.h.shape == (alg.gsw.N, 2)
    alg.update(np.array([3, 200, 3]), np.array([-4, 9, 1]))
    assert alg.query().indices.tolist() == [3, 200] and alg.query().values.tolist() == [-3, 9]
    alg.update(np.arange(10, 20), np.ones(10, dtype=np.int64))
    assert alg.query() is NOT_SPARSE
    space = alg.space()
    assert space.state_bits >= alg.gsw.N * 128 and space.key_bits >= alg.gsw.key_bits


def test_the_hash_is_linear_mod_2_128(wide_preset):
    alg = make(wide_preset)
    t = alg.tester
    idx, x = np.array([1, 77, 300, 511]), np.array([2**40, -5, 1000, -(2**62)])
    h = t.add(t.add(t.zero(), idx[:2], x[:2]), idx[2:], x[2:])
    cols, q = gsw_tester_columns(alg.state(), idx)  # what a white-box reader rebuilds: exact Python ints
    assert q == Q128 and cols.dtype == object and cols.shape == (alg.gsw.N, 4)
    assert from_pairs(h).tolist() == [int(v) for v in (cols @ x.astype(object)) % q]
    assert np.array_equal(t.hash_of(idx, x), h)
    assert FJW24.tester_columns(alg.params, alg.state(), idx)[1] == Q128


def test_merge_adds_hashes_with_carries(wide_preset):
    a, b, both = make(wide_preset), make(wide_preset), make(wide_preset)
    a.update(np.array([5]), np.array([7]))
    b.update(np.array([9, 5]), np.array([-2, 1]))
    both.update(np.array([5, 9, 5]), np.array([7, -2, 1]))
    a.merge(b)
    assert np.array_equal(a.h, both.h) and a.query().values.tolist() == [8, -2]
    with pytest.raises(MergeError, match="different parameters or keys"):
        a.merge(make(wide_preset, seed=1))


def test_tester_sample_uses_the_cache_for_large_keys(wide_preset, tmp_path, monkeypatch):
    monkeypatch.setenv("WBSTREAM_CACHE", str(tmp_path))
    monkeypatch.setenv("WBSTREAM_KEY_CACHE_MIN_BYTES", "1")
    mapped = make(wide_preset)
    monkeypatch.setenv("WBSTREAM_KEY_CACHE_MIN_BYTES", str(10**12))
    plain = make(wide_preset)
    assert mapped.tester.key.mapped and not plain.tester.key.mapped
    for alg in (mapped, plain):
        alg.update(np.array([4, 400]), np.array([3, -3]))
    assert np.array_equal(mapped.h, plain.h) and mapped.query() == plain.query()
    copy = mapped.detached_copy()  # shares the read-only mapped key
    assert copy.tester.key.C is mapped.tester.key.C
    assert isinstance(GswTester.sample(mapped.gsw, Coins.from_seed(0, "x"), "k").key.C, np.ndarray)


def test_wide_blas_split_bench_runs_small(tmp_path, monkeypatch):
    from wbstream.bench.sparse import fjw24_wide_blas_split

    monkeypatch.setenv("WBSTREAM_CACHE", str(tmp_path))
    from wbstream.crypto.gsw import SMALL_BATCH_128

    r = fjw24_wide_blas_split(n_lwe=6, base_bits=16, log_q=128, levels=3, batch=SMALL_BATCH_128 + 1)  # limb path
    assert r["limbs"] == 8 and r["level_products"] == 2 and r["N"] == 7
    assert 0 < r["blas_s"] <= r["update_s"] and 0 < r["blas_share"] <= 1
    small = fjw24_wide_blas_split(n_lwe=6, base_bits=16, log_q=128, levels=3, batch=2)  # integer path: no BLAS
    assert small["limbs"] is None and small["blas_s"] == 0
    assert len(list(tmp_path.glob("*.key"))) == 1
