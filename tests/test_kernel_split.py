"""The kernel split (docs/references.md#kernel-injection): two non-negative halves with one sketch and different truths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.adversaries.kernel_split import KernelSplit, split
from wbstream.algorithms.distinct.hll import HyperLogLog
from wbstream.algorithms.heavy.count_min import CountMin
from wbstream.algorithms.norms.ams import AMS
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.engine.game import Game
from wbstream.engine.problems import F2Estimation, HeavyHitters, SparseRecovery

HH = "heavy-hitters(n=5000, M=1000, eps=0.05)"


@given(st.lists(st.integers(-5, 5), min_size=1, max_size=40))
def test_split_halves_are_non_negative_disjoint_and_differ_by_z(values):
    z = np.array(values, dtype=np.int64)
    cols = np.arange(100, 100 + len(z))
    plus, minus = split(z, cols)
    assert (plus.deltas > 0).all() and (minus.deltas > 0).all()
    assert not set(plus.indices.tolist()) & set(minus.indices.tolist())
    x = np.zeros(200, dtype=np.int64)
    np.add.at(x, plus.indices, plus.deltas)
    np.add.at(x, minus.indices, -minus.deltas)
    np.testing.assert_array_equal(x[100:100 + len(z)], z)


@pytest.mark.parametrize("algorithm", ["count-min(depth=3, width=16)", "countsketch-hh(depth=3, width=16)",
                                       "countsketch-hh(depth=5, width=24)"])
@pytest.mark.parametrize("seed", range(3))
def test_breaks_small_heavy_hitter_sketches_in_insertion_only_streams(algorithm, seed):
    r = Game(HH, algorithm, "kernel-split", "white-box", seed=seed).play()
    assert r.failed and r.failure_kind in ("false-heavy", "missed-heavy"), r.failure_detail
    assert r.updates <= 2 * 200  # one half of a short kernel vector


@pytest.mark.parametrize("seed", range(3))
def test_breaks_ams_on_insertion_only_f2(seed):
    r = Game("f2(n=1024, M=64, eps=0.5, insertion_only=True)", "ams(means=8, medians=3)", "kernel-split",
             "white-box", seed=seed).play()
    assert r.failed and r.failure_kind == "out-of-factor", r.failure_detail


def test_gives_up_on_sketches_too_large_for_the_lattice_and_says_so():
    adv = KernelSplit(max_rows=200)
    r = Game("heavy-hitters(n=100000, M=1048576, eps=0.05)", "count-min", adv.__class__, "white-box").play()
    assert not r.failed and r.updates == 0 and r.stop_reason == "adversary-stopped"


def test_applies_only_to_linear_sketches_on_problems_that_can_be_insertion_only():
    ok, why = KernelSplit().applies_to(HyperLogLog, HeavyHitters)
    assert not ok and "not a LinearSketch" in why
    assert KernelSplit().applies_to(CountMin, HeavyHitters) == (True, "")
    assert KernelSplit().applies_to(AMS, F2Estimation) == (True, "")
    ok, why = KernelSplit().applies_to(CountSketchRecovery, SparseRecovery)
    assert not ok and "kernel-injection" in why
    with pytest.raises(ValueError, match="max_rows must be >= 1"):
        KernelSplit(max_rows=0)
