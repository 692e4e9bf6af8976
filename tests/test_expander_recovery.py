"""The expander relaxed recovery: exact on every k-sparse x, D buckets an update, linear mod p."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import make_stream
from wbstream.algorithms.sparse.expander import ExpanderDecoder
from wbstream.algorithms.sparse.expander_graph import DEFAULT_DEGREE, GraphShape, _log_comb, failure_log2, graph_shape
from wbstream.algorithms.sparse.fjw24 import FJW24
from wbstream.algorithms.sparse.fw23 import FW23
from wbstream.algorithms.sparse.tested import recovery_matrix
from wbstream.engine.answers import NOT_SPARSE, SparseVector
from wbstream.engine.coins import Coins
from wbstream.engine.problems import SparseRecovery

P31 = (1 << 31) - 1


def certified(shape: GraphShape, n: int, K: int) -> bool:
    """Brute force: every set of 2..K indices has at most floor((D - 1) s / 4) colliding edges."""
    D, nb = shape.degree, shape.neighbours(np.arange(n))
    for s in range(2, K + 1):
        combos = np.array(list(itertools.combinations(range(n), s)), dtype=np.int64)
        rows = np.sort(nb[combos].reshape(len(combos), s * D), axis=1)
        distinct = 1 + (np.diff(rows, axis=1) != 0).sum(axis=1)
        if (s * D - distinct > (D - 1) * s // 4).any():
            return False
    return True


def decodes_every(decoder: ExpanderDecoder, k: int, values_for) -> list:
    """Every support of size <= k, with the values ``values_for(size)`` yields: the ones decoded wrongly."""
    wrong = []
    for size in range(k + 1):
        for support in itertools.combinations(range(decoder.n), size):
            for values in values_for(size):
                dec = decoder.copy()
                dec.update(np.array(support, dtype=np.int64), np.array(values, dtype=np.int64))
                if dec.decode() != SparseVector(support, values):
                    wrong.append((support, values))
    return wrong


# -- exhaustive on small universes --------------------------------------------------------------------

@pytest.mark.parametrize("n, k, degree, width, all_values", [
    (48, 2, 9, 48, False),   # every support of <= 2 of 48 indices, random values in {-2, -1, 1, 2}
    (24, 3, 7, 48, False),   # every support of <= 3 of 24
    (16, 2, 9, 48, True),    # and every value pattern in {-2, -1, 1, 2}^s
])
def test_a_certified_expander_decodes_every_k_sparse_vector(n, k, degree, width, all_values):
    shape = GraphShape(degree, width, 0.0)
    assert certified(shape, n, 2 * k)  # the theorem's premise, checked, not assumed
    rng = np.random.default_rng(n * k)
    choices = np.array([-2, -1, 1, 2])

    def values_for(size):
        return itertools.product(choices, repeat=size) if all_values else [rng.choice(choices, size)]
    assert decodes_every(ExpanderDecoder(n, k, 2, P31, degree=degree, width=width), k, values_for) == []


def test_the_identity_graph_decodes_every_3_sparse_vector_of_20():
    dec = ExpanderDecoder(20, 3, 1000, 2003)
    assert dec.shape == GraphShape(1, 20, float("-inf"))  # 2^-40 would need more buckets than n
    rng = np.random.default_rng(3)
    values = lambda s: [rng.integers(1, 1001, s) * rng.choice([-1, 1], s)]  # noqa: E731
    assert decodes_every(dec, 3, values) == []


def test_a_graph_that_is_not_an_expander_can_fail_and_the_check_sees_it():
    """The guarantee rests on expansion: a 7-regular graph with 8 buckets a block is not one."""
    shape = GraphShape(7, 8, 0.0)
    assert not certified(shape, 64, 6)
    wrong = decodes_every(ExpanderDecoder(64, 2, 2, P31, degree=7, width=8), 2, lambda s: [[1] * s])
    assert wrong  # some pair shares too many buckets: the vote cannot reach a majority


# -- hypothesis at scale ------------------------------------------------------------------------------

def supports(draw, n, k):
    kind = draw(st.sampled_from(["random", "progression", "cluster", "ends"]))
    if kind == "progression":  # adversarial-looking: i0, i0 + step, ...
        step = draw(st.integers(1, max(1, (n - 1) // k)))
        start = draw(st.integers(0, n - 1 - step * (k - 1)))
        return np.arange(start, start + step * k, step)[:k]
    if kind == "cluster":
        start = draw(st.integers(0, n - k))
        return np.arange(start, start + k)
    if kind == "ends":
        return np.r_[np.arange(k // 2), np.arange(n - (k - k // 2), n)]
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).choice(n, size=k, replace=False)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), log2_n=st.integers(14, 20), k=st.integers(1, 12), M=st.sampled_from([1, 7, 2**20]))
def test_every_k_sparse_vector_is_decoded_at_scale(data, log2_n, k, M):
    n = 1 << log2_n
    dec = ExpanderDecoder(n, k, M, P31)
    assert dec.shape.degree == DEFAULT_DEGREE  # a real graph, not the identity, at these sizes
    support = supports(data.draw, n, k)
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.integers(1, M + 1, len(support)) * rng.choice([-1, 1], len(support))
    noise = rng.choice(n, size=5)  # added and removed again: the sums are linear
    dec.update(np.r_[noise, support], np.r_[np.full(5, M), values])
    dec.update(noise, np.full(5, -M))
    assert dec.decode() == SparseVector(support, values)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(40, 3000), k=st.sampled_from([1, 2, 5]), shape=st.sampled_from(["spread", "cluster", "ends"]),
       seed=st.integers(0, 2**32 - 1))
def test_turnstile_streams_through_fjw24_default(n, k, shape, seed):
    x, batches = make_stream(n, k, 2**20, k, shape, seed)
    alg = FJW24(SparseRecovery(n=n, k=k, M=2**20).params, Coins.from_seed(seed, "algorithm"))
    for idx, dlt in batches:
        alg.update(idx, dlt)
    assert alg.relaxed_recovery == "expander" and alg.query() == SparseVector.from_dense(x)


@settings(max_examples=20, deadline=None)
@given(log2_n=st.sampled_from([10, 16]), k=st.integers(1, 6), extra=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_non_sparse_input_gives_none_or_a_consistent_candidate(log2_n, k, extra, seed):
    n = 1 << log2_n
    rng = np.random.default_rng(seed)
    dec = ExpanderDecoder(n, k, 100, P31)
    dec.update(rng.choice(n, size=k + extra, replace=False), rng.integers(1, 101, k + extra))
    out = dec.decode()
    if out is not None:  # allowed, but only a k-sparse vector with exactly these sums
        assert len(out) <= k and np.array_equal(dec.sums_of(out.indices, out.values), dec.s)


# -- cost, linearity, parameters ------------------------------------------------------------------------

def test_an_update_touches_d_distinct_buckets_whatever_k():
    shapes = [graph_shape(1 << 20, k) for k in (1, 10, 100)]
    assert {s.degree for s in shapes} == {DEFAULT_DEGREE}
    assert all(s.failure_log2 <= -40 for s in shapes)
    for s in shapes:
        nb = s.neighbours(np.arange(0, 1 << 20, 4099))
        assert nb.shape[1] == DEFAULT_DEGREE
        assert ((nb // s.width) == np.arange(DEFAULT_DEGREE)).all()  # one neighbour in each block


def test_the_chosen_width_is_the_smallest_that_meets_the_bound():
    s = graph_shape(1 << 20, 10)
    assert failure_log2(1 << 20, 20, s.degree, s.buckets) <= -40
    assert failure_log2(1 << 20, 20, s.degree, s.degree * (s.width - 1)) > -40


def test_the_sums_are_the_measurement_matrix_times_x_mod_p():
    dec = ExpanderDecoder(1 << 16, 4, 1000, P31)
    idx, val = np.array([3, 70000 % (1 << 16), 65535, 3]), np.array([-1000, 999, 5, 17])
    dec.update(idx, val)
    V = dec.columns(idx)
    assert V.shape == (2 * dec.shape.buckets, 4)
    np.testing.assert_array_equal((V @ val) % P31, dec.s.reshape(-1))


def test_sums_merge_mod_p():
    a, b = ExpanderDecoder(1 << 16, 4, 1000, P31), ExpanderDecoder(1 << 16, 4, 1000, P31)
    a.update(np.array([1, 2]), np.array([5, -7]))
    b.update(np.array([2, 900]), np.array([7, -1000]))
    a.s[...] = (a.s + b.s) % P31
    assert a.decode() == SparseVector([1, 900], [5, -1000])


def test_a_reader_of_the_state_rebuilds_the_matrix():
    problem = SparseRecovery(n=1 << 16, k=2, M=1000)
    alg = FW23(problem.params, Coins.from_seed(0, "algorithm"), recovery="expander")
    alg.update(np.array([10, 20000]), np.array([4, -9]))
    V, p = recovery_matrix(alg.state(), np.array([10, 20000]))
    assert p == P31 and np.array_equal(V @ np.array([4, -9]) % p, alg.state()["buckets"].reshape(-1))
    assert type(alg).recovery_columns(problem.params, alg.state(), np.array([10]))[0].shape == (V.shape[0], 1)
    assert alg.query() == SparseVector([10, 20000], [4, -9])
    assert alg.space().state_bits == 2 * alg.decoder.shape.buckets * 31 + alg.rows * alg.log2_q
    assert set(alg.merge_moduli()) == {"buckets", "hash"}


def test_fjw24_defaults_to_the_expander_and_fw23_to_vandermonde():
    params = SparseRecovery(n=1 << 12, k=2, M=100).params
    fj = FJW24(params, Coins.from_seed(0, "a"))
    fw = FW23(params, Coins.from_seed(0, "a"))
    assert (fj.relaxed_recovery, fw.relaxed_recovery) == ("expander", "vandermonde")
    assert "buckets" in fj.state() and "syndromes" in fw.state()
    fj.update(np.arange(10), np.ones(10, dtype=np.int64))
    assert fj.query() is NOT_SPARSE


@pytest.mark.parametrize("options, match", [
    ({"degree": 4, "width": 10}, "odd"),
    ({"width": -1}, "width"),
])
def test_bad_graphs_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        ExpanderDecoder(1000, 2, 10, P31, **options)


@pytest.mark.parametrize("p", [1009 * 1013, 997, 19])  # not prime; p <= n; p <= 2M
def test_bad_primes_are_refused(p):
    with pytest.raises(ValueError, match="must be a prime with max"):
        ExpanderDecoder(1000, 2, 10, p)


def test_an_unknown_recovery_is_refused():
    with pytest.raises(ValueError, match="recovery must be one of vandermonde, expander, got 'nosuch'"):
        FJW24(SparseRecovery(n=256, k=2, M=10).params, Coins.from_seed(0, "a"), recovery="nosuch")


@pytest.mark.parametrize("log2_n", [20, 40, 48, 56, 62])
@pytest.mark.parametrize("s", [2, 37, 200])
def test_the_union_bound_counts_sets_exactly_at_every_universe_size(log2_n, s):
    # lgamma(n + 1) - lgamma(n - s + 1) cancels away beyond n ~ 2^40: the bound must not
    exact = math.log(math.comb(1 << log2_n, s))
    assert _log_comb(1 << log2_n, s) == pytest.approx(exact, abs=1e-6)


def test_a_larger_universe_never_needs_fewer_buckets():
    # the old bound lost C(n, s) to cancellation and let n = 2^62 pass with 1,992 buckets a block
    widths = [graph_shape(1 << e, 100, identity=False).width for e in (20, 40, 48, 56, 62)]
    assert widths == sorted(widths) and widths[-1] > 200_000


def test_the_degree_option_reaches_the_graph_and_the_state():
    params = SparseRecovery(n=1 << 20, k=3, M=100).params
    alg = FJW24(params, Coins.from_seed(0, "a"), degree=65)
    assert alg.state()["degree"] == 65 and alg.decoder.shape == graph_shape(1 << 20, 3, 65)
    alg.update(np.array([7, 900_000]), np.array([5, -3]))
    assert alg.query() == SparseVector(indices=[7, 900_000], values=[5, -3])


@pytest.mark.parametrize("options, match", [
    ({"degree": 33, "recovery": "vandermonde"}, "has no graph"),
    ({"degree": 64}, "odd"),
])
def test_a_degree_the_recovery_cannot_use_is_refused(options, match):
    with pytest.raises(ValueError, match=match):
        FW23(SparseRecovery(n=256, k=2, M=10).params, Coins.from_seed(0, "a"), **{"recovery": "expander", **options})


@pytest.mark.parametrize("log2_n", [20, 48, 62])
def test_the_union_bound_adds_the_exact_set_counts(log2_n):
    n, K, D, m = 1 << log2_n, 40, 33, 33 * 5000
    base = failure_log2(n, K, D, m) * math.log(2)
    # the same sum with log C(n, s) from exact binomials: the bound's set counts are accumulated factor by factor
    terms = []
    for s in range(2, K + 1):
        edges, c = D * s, (D - 1) * s // 4 + 1
        by_edges = _log_comb(edges, c) + c * math.log(edges / m)
        by_sets = _log_comb(m, edges - c) + edges * math.log((edges - c) / m)
        terms.append(math.log(math.comb(n, s)) + min(by_edges, by_sets, 0.0))
    top = max(terms)
    assert base == pytest.approx(top + math.log(sum(math.exp(t - top) for t in terms)), abs=1e-6)
