"""merge(): every linear sketch merges into the sketch of the sum; different keys, itself, or overflow are refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.engine.coins import Coins
from wbstream.engine.errors import MergeError
from wbstream.engine.registry import algorithms, problems

#: (algorithm spec, problem spec): every mergeable sketch in the project.
MERGEABLE = [
    ("countsketch(rows=3, cols=16)", "sparse-recovery(n=512, k=2, M=1024)"),
    ("ams(means=8, medians=3)", "f2(n=512, M=1024, eps=0.5)"),
    ("vandermonde", "sparse-recovery(n=512, k=2, M=1024)"),
    ("fw23(preset='toy')", "sparse-recovery(n=512, k=2, M=1024)"),
    ("fw23(preset='toy', log2_q=40)", "sparse-recovery(n=512, k=2, M=1024)"),
    ("fjw24(preset='toy')", "sparse-recovery(n=512, k=2, M=1024)"),
    ("count-min(depth=4)", "heavy-hitters(n=512, M=1024, eps=0.1)"),
    ("countsketch-hh(depth=4)", "heavy-hitters(n=512, M=1024, eps=0.1)"),
    ("robust-l0(preset='toy')", "distinct-elements(n=512, M=1024, alpha=8)"),
    ("robust-rank(preset='toy')", "rank-recovery(rows=16, cols=32, k=2, M=1024)"),
    ("naive-rank", "rank-recovery(rows=16, cols=32, k=2, M=1024)"),
]
IDS = [spec for spec, _ in MERGEABLE]


def build(spec, problem_spec, seed=0):
    pcls, popts = problems.resolve(problem_spec)
    problem = pcls(**popts)
    acls, aopts = algorithms.resolve(spec)
    return acls(problem.params, Coins.from_seed(seed, "algorithm"), **aopts)


def snapshot(alg):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in alg.state().items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k]
                                        for k in a)


@pytest.mark.parametrize("spec, problem_spec", MERGEABLE, ids=IDS)
@given(seed=st.integers(0, 2**16), split=st.integers(1, 40))
def test_merge_equals_the_sketch_of_the_concatenated_stream(spec, problem_spec, seed, split):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 512, size=41)
    dlt = rng.integers(1, 20, size=41)  # positive: valid for insertion-only count-min too
    a, b, whole = (build(spec, problem_spec) for _ in range(3))
    a.update(idx[:split], dlt[:split])
    b.update(idx[split:], dlt[split:])
    whole.update(idx, dlt)
    before_b = snapshot(b)
    a.merge(b)
    assert same(snapshot(a), snapshot(whole))
    assert same(snapshot(b), before_b)
    assert a.query() == whole.query() if not isinstance(a.query(), np.ndarray) else \
        np.array_equal(a.query(), whole.query())


@pytest.mark.parametrize("spec, problem_spec", MERGEABLE, ids=IDS)
def test_merge_refuses_other_keys_itself_and_other_classes(spec, problem_spec):
    a, twin, other_keys = build(spec, problem_spec), build(spec, problem_spec), build(spec, problem_spec, seed=1)
    a.update(np.array([3, 77]), np.array([5, 6]))
    before = snapshot(a)
    with pytest.raises(MergeError, match="itself"):
        a.merge(a)
    if a.merge_fingerprint() != other_keys.merge_fingerprint():  # keyed sketches: different coins, different keys
        with pytest.raises(MergeError, match="different parameters or keys"):
            a.merge(other_keys)
    else:  # vandermonde has no key: its coins do not matter
        assert spec == "vandermonde"
    with pytest.raises(MergeError, match="different parameters or keys"):
        a.merge(build(spec, problem_spec.replace("n=512", "n=500").replace("rows=16", "rows=15")))
    with pytest.raises(MergeError, match="cannot merge"):
        a.merge(build("exact", "sparse-recovery(n=512, k=2, M=1024)"))
    assert same(snapshot(a), before)
    a.merge(twin)  # an empty sketch with the same keys merges and changes nothing
    assert same(snapshot(a), before)


def test_merge_refuses_a_shallow_copy_that_shares_the_arrays():
    import copy
    a = build(*MERGEABLE[0])
    a.update(np.array([1]), np.array([2]))
    shallow = copy.copy(a)
    before = snapshot(a)
    with pytest.raises(MergeError, match="share"):
        a.merge(shallow)
    assert same(snapshot(a), before)


def test_same_coins_other_shape_is_refused_and_a_malformed_message_too():
    """CountSketches with 8 and 9 columns draw the same hash keys: only the table's shape tells them apart."""
    a = build("countsketch(rows=3, cols=8)", MERGEABLE[0][1])
    a.update(np.array([1]), np.array([2]))
    before = snapshot(a)
    with pytest.raises(MergeError, match="different parameters or keys"):
        a.merge(build("countsketch(rows=3, cols=9)", MERGEABLE[0][1]))
    with pytest.raises(MergeError, match="shape"):
        a.add_merged({"table": np.zeros((2, 2), np.int64)})
    with pytest.raises(MergeError, match="integers"):
        a.add_merged({"table": np.full((3, 8), 0.5)})
    assert same(snapshot(a), before)


def test_an_unmergeable_algorithm_says_so():
    alg = build("exact", "sparse-recovery(n=16, k=2, M=4)")
    with pytest.raises(MergeError, match="not a mergeable sketch"):
        alg.merge(build("exact", "sparse-recovery(n=16, k=2, M=4)"))


def test_an_overflowing_integer_merge_is_refused_and_changes_nothing():
    a, b = build(*MERGEABLE[0]), build(*MERGEABLE[0])
    a.table[0, 0] = np.iinfo(np.int64).max
    b.table[0, 0] = 1
    b.table[1, 1] = 5
    before = snapshot(a)
    with pytest.raises(MergeError, match="overflows"):
        a.merge(b)
    assert same(snapshot(a), before)


def test_modular_merges_wrap_at_the_modulus():
    """vandermonde syndromes wrap mod p; fjw24's hash mod 2^64; fw23's mod q = 2^log2_q."""
    for spec in ("vandermonde", "fjw24(preset='toy')", "fw23(preset='toy', log2_q=40)"):
        a, b, whole = (build(spec, "sparse-recovery(n=512, k=2, M=1024)") for _ in range(3))
        a.update(np.array([5]), np.array([1024]))
        b.update(np.array([5]), np.array([-1024]))
        a.merge(b)
        assert same(snapshot(a), snapshot(whole)), spec  # the sum is zero: every residue wrapped back to 0
