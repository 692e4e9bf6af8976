"""robust-l0: an alpha-approximation of L0 on fjw24 with k = ceil(n / alpha^2) (docs/references.md#fjw24)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.algorithms.distinct.robust_l0 import RobustL0, recovery_k
from wbstream.engine.coins import Coins
from wbstream.engine.errors import StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements
from wbstream.engine.stream import Batch


@given(n=st.sampled_from([1024, 4096]), alpha=st.sampled_from([4.0, 8.0, 16.0]),
       nnz=st.integers(0, 300), pieces=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_within_alpha_of_the_exact_count_on_oblivious_turnstile_streams(n, alpha, nnz, pieces, seed):
    rng = np.random.default_rng(seed)
    p = DistinctElements(n=n, M=1000, alpha=alpha)
    alg = RobustL0(p.params, Coins.from_seed(seed, "algorithm"))
    final = np.zeros(n, dtype=np.int64)
    support = rng.choice(n, size=min(nnz, n), replace=False)
    final[support] = rng.integers(1, 1001, size=len(support)) * rng.choice([-1, 1], size=len(support))
    noise = rng.choice(n, size=50, replace=False)  # inserted then deleted: turnstile cancellations
    idx = np.r_[support, noise, noise]
    dlt = np.r_[final[support], np.full(50, 7), np.full(50, -7)]
    order = np.r_[rng.permutation(len(support) + 50), len(support) + 50 + np.arange(50)]
    for part in np.array_split(order, pieces):
        b = Batch(idx[part].astype(np.int64), dlt[part].astype(np.int64))
        p.apply(b)
        alg.update(b.indices, b.deltas)
    k = recovery_k(n, alpha)
    answer = alg.query()
    assert p.judge(answer).correct, p.judge(answer).detail
    if p.nnz <= k:
        assert answer == p.nnz  # exact below k
    else:
        assert answer == math.sqrt(k * n)


def test_refuses_a_problem_without_a_factor_and_bad_fjw24_options():
    with pytest.raises(ValueError, match="alpha-approximation"):
        RobustL0(DistinctElements(n=1024).params, Coins.from_seed(0, "t"))
    with pytest.raises(ValueError, match="preset must be one of"):
        RobustL0(DistinctElements(n=1024, alpha=8).params, Coins.from_seed(0, "t"), preset="huge")


def test_a_refused_batch_changes_nothing():
    p = DistinctElements(n=1024, M=10, alpha=8)
    alg = RobustL0(p.params, Coins.from_seed(0, "t"))
    b = Batch(np.array([3, 4]), np.array([5, 6]))
    p.apply(b)
    alg.update(b.indices, b.deltas)
    state = {k: np.array(v, copy=True) for k, v in alg.state().items()}
    with pytest.raises(StreamError, match="promise"):
        p.validate(Batch(np.array([3]), np.array([6])))
    assert all(np.array_equal(state[k], np.asarray(v)) for k, v in alg.state().items())
    assert alg.query() == 2.0


@pytest.mark.parametrize("seed", range(3))
def test_the_lattice_attack_breaks_the_toy_preset(seed):
    r = Game("distinct-elements(n=1024, M=1048576, alpha=32)", "robust-l0(recovery='vandermonde')",
             "lattice(seconds=5.0)", "white-box", seed=seed).play()
    assert r.failed and r.failure_kind == "out-of-factor", r.failure_detail
    assert "estimate 0 " in r.failure_detail  # a collision with zero: the decoder sees an empty stream


@pytest.mark.slow
def test_the_lattice_attack_gives_up_against_moderate():
    r = Game("distinct-elements(n=1024, M=1048576, alpha=32)", "robust-l0(preset='moderate')",
             "lattice(seconds=3.0)", "white-box", seed=0).play()
    assert not r.failed and r.updates == 0
