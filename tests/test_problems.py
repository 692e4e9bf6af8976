"""The referees: each problem's judge agrees with a brute-force reference computed from numpy."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.engine.answers import NOT_LOW_RANK, NOT_SPARSE, SparseVector, answer_digest, answer_to_json
from wbstream.engine.errors import SpecError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements, F2Estimation, HeavyHitters, Params, SparseRecovery, Verdict
from wbstream.engine.stream import as_batch


@st.composite
def vectors(draw, *, max_n=20, max_M=50, nonnegative=False):
    n = draw(st.integers(1, max_n))
    M = draw(st.integers(1, max_M))
    lo = 0 if nonnegative else -M
    # mostly sparse vectors, so both sides of nnz <= k come up
    x = np.zeros(n, dtype=np.int64)
    for i, v in draw(st.dictionaries(st.integers(0, n - 1), st.integers(lo, M), max_size=n)).items():
        x[i] = v
    return n, M, x


def feed(problem, x: np.ndarray, data) -> None:
    """Bring ``problem`` to ``x`` through apply(): cancelling noise pairs, then the values, in random batches."""
    updates = []
    if not problem.insertion_only:
        for j in data.draw(st.lists(st.integers(0, problem.n - 1), max_size=4), label="noise"):
            d = data.draw(st.integers(-problem.M, problem.M), label="noise delta")
            updates += [(j, d), (j, -d)]
    order = data.draw(st.permutations(np.flatnonzero(x).tolist()), label="order")
    updates += [(i, int(x[i])) for i in order]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(updates)), max_size=3), label="cuts"))
    for a, b in zip([0, *cuts], [*cuts, len(updates)]):
        chunk = updates[a:b]
        problem.apply(as_batch([i for i, _ in chunk], [d for _, d in chunk]))
    np.testing.assert_array_equal(problem.x, x)


# -- sparse recovery ------------------------------------------------------------------

def sparse_reference(x: np.ndarray, k: int, answer) -> tuple[bool, str | None]:
    nnz = int(np.count_nonzero(x))
    if answer is NOT_SPARSE:
        return (True, None) if nnz > k else (False, "false-not-sparse")
    if not isinstance(answer, SparseVector):
        return False, "malformed"
    if nnz > k:
        return False, "missed-not-sparse"
    dense = np.zeros(len(x), dtype=np.int64)
    for i, v in zip(answer.indices.tolist(), answer.values.tolist()):
        if not 0 <= i < len(x):
            return False, "wrong-vector"
        dense[i] = v
    return (True, None) if np.array_equal(dense, x) else (False, "wrong-vector")


@st.composite
def sparse_answers(draw, x: np.ndarray):
    n = len(x)
    exact = SparseVector.from_dense(x)
    kind = draw(st.sampled_from(["exact", "not-sparse", "change-value", "drop", "add", "move", "empty",
                                 "out-of-range", "malformed"]))
    idx, val = exact.indices.tolist(), exact.values.tolist()
    if kind == "exact":
        return exact
    if kind == "not-sparse":
        return NOT_SPARSE
    if kind == "empty":
        return SparseVector([], [])
    if kind == "malformed":
        return draw(st.sampled_from([None, NOT_LOW_RANK, x.copy(), 3, "NOT_SPARSE", list(val)]))
    if kind == "change-value" and idx:
        j = draw(st.integers(0, len(idx) - 1))
        val[j] += draw(st.sampled_from([-2, -1, 1, 2]))
    elif kind == "drop" and idx:
        j = draw(st.integers(0, len(idx) - 1))
        del idx[j], val[j]
    elif kind == "add" and len(idx) < n:
        i = draw(st.sampled_from(sorted(set(range(n)) - set(idx))))
        idx.append(i)
        val.append(draw(st.sampled_from([-1, 1, 7])))
    elif kind == "move" and idx and len(idx) < n:
        j = draw(st.integers(0, len(idx) - 1))
        idx[j] = draw(st.sampled_from(sorted(set(range(n)) - set(idx))))
    elif kind == "out-of-range":
        idx.append(draw(st.sampled_from([-1, n, n + 5])))
        val.append(1)
    return SparseVector(idx, val)


@given(vectors(), st.data())
def test_sparse_recovery_judge_matches_brute_force(vec, data):
    n, M, x = vec
    k = data.draw(st.integers(1, n), label="k")
    p = SparseRecovery(n=n, k=k, M=M)
    feed(p, x, data)
    assert p.nnz == int(np.count_nonzero(x))
    answer = data.draw(sparse_answers(x), label="answer")
    verdict = p.judge(answer)
    assert isinstance(verdict, Verdict) and verdict.detail
    assert (verdict.correct, verdict.kind) == sparse_reference(x, k, answer)
    assert p.judge(p.exact_answer(p.x)).correct
    np.testing.assert_array_equal(p.x, x)  # judging changes nothing


def test_sparse_recovery_failure_kinds():
    p = SparseRecovery(n=10, k=2, M=9)
    p.apply(as_batch([1, 4], [3, -2]))
    assert p.judge(SparseVector([1, 4], [3, -2])) == Verdict(True, None, "exact recovery")
    assert p.judge(SparseVector([1, 4], [3, -1])).kind == "wrong-vector"
    assert p.judge(SparseVector([1], [3])).kind == "wrong-vector"
    assert p.judge(SparseVector([1, 4, 11], [3, -2, 1])).kind == "wrong-vector"
    assert p.judge(SparseVector([1, 5], [3, -2])).kind == "wrong-vector"
    v = p.judge(NOT_SPARSE)
    assert (v.correct, v.kind) == (False, "false-not-sparse") and "nnz(x) = 2 <= k = 2" in v.detail
    assert p.judge([1, 4]).kind == "malformed"
    assert p.judge(NOT_LOW_RANK).kind == "malformed"
    p.apply(as_batch([7], [5]))
    v = p.judge(SparseVector([1, 4], [3, -2]))
    assert (v.correct, v.kind) == (False, "missed-not-sparse") and "nnz(x) = 3 > k = 2" in v.detail
    assert p.judge(SparseVector.from_dense(p.x)).kind == "missed-not-sparse"
    assert p.judge(NOT_SPARSE).correct
    p.apply(as_batch([7, 4], [-5, 2]))  # back to 1-sparse
    assert p.judge(SparseVector([1], [3])).correct
    assert p.judge(NOT_SPARSE).kind == "false-not-sparse"


def test_the_zero_vector_is_sparse():
    p = SparseRecovery(n=5, k=1, M=3)
    assert p.judge(SparseVector([], [])).correct
    assert p.judge(NOT_SPARSE).kind == "false-not-sparse"
    p.apply(as_batch([2, 2], [3, -3]))
    assert p.nnz == 0 and p.judge(SparseVector.from_dense(p.x)).correct


# -- estimation problems -------------------------------------------------------------------

def factor_reference(truth: int, estimate, eps: float, alpha: float | None) -> tuple[bool | None, str | None]:
    """The verdict in exact rational arithmetic; ``None`` when the estimate is within rounding of a bound."""
    try:
        est = float(estimate)
    except (TypeError, ValueError):
        return False, "malformed"
    if math.isnan(est):
        return False, "out-of-factor"
    if math.isinf(est):
        return False, "out-of-factor"
    t = Fraction(truth)
    if alpha is not None:
        lo, hi = t / Fraction(alpha), t * Fraction(alpha)
    else:
        lo, hi = (1 - Fraction(eps)) * t, (1 + Fraction(eps)) * t
    e = Fraction(est)
    slack = Fraction(1, 2**40) * max(t, 1)
    if abs(e - lo) <= slack or abs(e - hi) <= slack:
        return None, None  # a float formula may round either way here
    return (True, None) if lo <= e <= hi else (False, "out-of-factor")


@st.composite
def estimates(draw, truth: float, eps: float, alpha: float | None):
    lo, hi = (truth / alpha, truth * alpha) if alpha is not None else ((1 - eps) * truth, (1 + eps) * truth)
    return draw(st.one_of(
        st.sampled_from([truth, lo, hi, float(np.nextafter(lo, -np.inf)), float(np.nextafter(hi, np.inf)),
                         lo * (1 - 1e-6), hi * (1 + 1e-6), lo * (1 + 1e-6), hi * (1 - 1e-6),
                         0.0, -truth, float("nan"), float("inf"), float("-inf")]),
        st.floats(min_value=0.0, max_value=3 * truth + 3, allow_nan=False),
        st.floats(allow_nan=False),
        st.integers(-10, 10**6),
        st.sampled_from([None, "lots", object(), [1.0]]),
    ))


EPS = st.floats(min_value=0.01, max_value=0.99)
ALPHA = st.one_of(st.none(), st.floats(min_value=1.0, max_value=8.0))
# Parameters whose bounds are exact in binary floating point, so the boundary itself can be checked.
DYADIC_EPS = st.integers(1, 63).map(lambda j: j / 64)
DYADIC_ALPHA = st.one_of(st.none(), st.sampled_from([1.0, 2.0, 4.0, 8.0]))


def check_estimate(p, exact_truth: int, estimate, eps, alpha) -> None:
    verdict = p.judge(estimate)
    assert isinstance(verdict, Verdict) and verdict.detail
    correct, kind = factor_reference(exact_truth, estimate, eps, alpha)
    if correct is not None:
        assert (verdict.correct, verdict.kind) == (correct, kind), (estimate, exact_truth, eps, alpha)
    else:
        assert verdict.kind in (None, "out-of-factor")


@given(vectors(), st.booleans(), EPS, ALPHA, st.data())
def test_distinct_elements_judge_matches_brute_force(vec, insertion_only, eps, alpha, data):
    n, M, x = vec
    if insertion_only:
        x = np.abs(x)
    p = DistinctElements(n=n, M=M, eps=eps, alpha=alpha, insertion_only=insertion_only)
    feed(p, x, data)
    exact = int(np.count_nonzero(x))
    assert p.nnz == exact and p.truth() == float(exact) and p.exact_answer(p.x) == exact
    check_estimate(p, exact, data.draw(estimates(float(exact), eps, alpha), label="estimate"), eps, alpha)
    assert p.judge(p.exact_answer(p.x)).correct
    assert p.quantity == ("F0" if insertion_only else "L0")


@given(vectors(max_M=1000), EPS, ALPHA, st.data())
def test_f2_judge_matches_brute_force(vec, eps, alpha, data):
    n, M, x = vec
    p = F2Estimation(n=n, M=M, eps=eps, alpha=alpha)
    feed(p, x, data)
    exact = sum(int(v) ** 2 for v in x)
    assert p.sumsq == exact and isinstance(p.sumsq, int)
    assert p.truth() == float(exact) and p.exact_answer(p.x) == float(exact)
    check_estimate(p, exact, data.draw(estimates(float(exact), eps, alpha), label="estimate"), eps, alpha)
    assert p.judge(np.float64(exact)).correct and p.judge(np.int64(exact)).correct


@given(vectors(max_M=1000), DYADIC_EPS, DYADIC_ALPHA, st.sampled_from(["f2", "l0"]), st.data())
def test_the_bounds_themselves_are_inside_and_the_next_float_is_outside(vec, eps, alpha, which, data):
    n, M, x = vec
    if which == "f2":
        p, exact = F2Estimation(n=n, M=M, eps=eps, alpha=alpha), sum(int(v) ** 2 for v in x)
    else:
        p, exact = DistinctElements(n=n, M=M, eps=eps, alpha=alpha), int(np.count_nonzero(x))
    feed(p, x, data)
    t = Fraction(exact)
    lo, hi = (t / Fraction(alpha), t * Fraction(alpha)) if alpha is not None else \
        ((1 - Fraction(eps)) * t, (1 + Fraction(eps)) * t)
    assert float(lo) == lo and float(hi) == hi  # exactly representable
    assert p.judge(float(lo)).correct and p.judge(float(hi)).correct
    assert p.judge(float(np.nextafter(float(hi), np.inf))).kind == "out-of-factor"
    below = float(np.nextafter(float(lo), -np.inf))
    assert p.judge(below).kind == "out-of-factor"
    estimate = data.draw(estimates(float(exact), eps, alpha), label="estimate")
    correct, kind = factor_reference(exact, estimate, eps, alpha)
    if correct is not None:
        assert (p.judge(estimate).correct, p.judge(estimate).kind) == (correct, kind)


def test_estimation_failure_kinds_and_details():
    p = F2Estimation(n=10, M=100, eps=0.1)
    p.apply(as_batch([0, 1], [30, 40]))
    assert p.sumsq == 2500
    assert p.judge(2500).correct and p.judge(2250.0).correct and p.judge(2750.0).correct
    v = p.judge(2249.0)
    assert (v.correct, v.kind) == (False, "out-of-factor") and "2500" in v.detail and "F2" in v.detail
    assert p.judge(2751.0).kind == "out-of-factor"
    assert p.judge(float("nan")).kind == "out-of-factor"
    assert p.judge(None).kind == "malformed" and p.judge("abc").kind == "malformed"
    q = F2Estimation(n=10, M=100, eps=0.1, alpha=2.0)
    q.apply(as_batch([0], [10]))
    assert q.judge(50.0).correct and q.judge(200.0).correct
    assert q.judge(49.9).kind == "out-of-factor" and q.judge(200.1).kind == "out-of-factor"
    d = DistinctElements(n=10, eps=0.5)
    assert d.judge(0.0).correct and d.judge(0.1).kind == "out-of-factor"  # truth 0 admits only 0
    d.apply(as_batch([1, 2, 3, 4], [1, 1, -1, 5]))
    assert d.judge(2.0).correct and d.judge(6.0).correct and d.judge(1.9).kind == "out-of-factor"


def test_an_f2_attack_target_of_zero_sketch_is_out_of_factor():
    p = F2Estimation(n=8, M=4, eps=0.5)
    p.apply(as_batch([0, 5], [1, -1]))
    assert p.judge(0.0).kind == "out-of-factor"


# -- parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: F2Estimation(n=0, M=1), "n must be >= 1"),
    (lambda: SparseRecovery(n=5, k=0, M=1), "sparsity k"),
    (lambda: SparseRecovery(n=5, k=6, M=1), "sparsity k"),
    (lambda: SparseRecovery(n=5, k=1, M=0), r"M must be in \[1, 2\*\*62\)"),
    (lambda: SparseRecovery(n=5, k=1, M=2**62), "2\\*\\*62"),
    (lambda: F2Estimation(n=5, M=10, eps=0.0), "eps"),
    (lambda: F2Estimation(n=5, M=10, eps=1.0), "eps"),
    (lambda: F2Estimation(n=5, M=10, alpha=0.5), "alpha"),
    (lambda: F2Estimation(n=2**20, M=2**22), "int64"),
    (lambda: HeavyHitters(n=4, M=2**61), "n \\* M = 9223372036854775808 does not fit in int64"),
    (lambda: DistinctElements(n=2**40, M=2**23), "n \\* M"),
    (lambda: SparseRecovery(n=2**33, k=1, M=2**30), "n \\* M"),
    (lambda: DistinctElements(n=5, eps=-0.1), "eps"),
])
def test_meaningless_parameters_raise(make, match):
    with pytest.raises(SpecError, match=match):
        make()


def test_heavy_hitters_at_the_int64_bound_judges_exactly():
    """n M = 2^63 - 4: the stream total m still fits, so missing the heavy hitters is caught.

    (With M = 2^61 the total 2^63 wrapped to a negative m, and an empty answer was judged correct.)
    """
    M = (2**63 - 1) // 4
    p = HeavyHitters(n=4, M=M, eps=0.25)
    p.apply(as_batch([0, 1, 2, 3], [M, M, M, M]))
    assert p.judge(np.zeros(0, np.int64)).kind == "missed-heavy"
    assert p.judge(np.arange(4)).correct


def test_a_game_on_overflowing_parameters_is_refused_when_built():
    with pytest.raises(SpecError, match="does not fit in int64"):
        Game("heavy-hitters(n=4, M=2305843009213693952)", "exact", "dense(rounds=1)", "oblivious")


def test_params_are_read_only_and_complete():
    p = SparseRecovery(n=16, k=3, M=7)
    assert isinstance(p.params, Params) and p.params.kind == "sparse-recovery"
    assert dict(p.params) == {"n": 16, "M": 7, "k": 3}
    assert (p.params.n, p.params.k, p.params.M) == (16, 3, 7)
    with pytest.raises(AttributeError, match="read-only"):
        p.params.n = 5
    with pytest.raises(AttributeError, match="no parameter"):
        _ = p.params.eps
    with pytest.raises(TypeError):
        p.params["n"] = 5
    f = F2Estimation(n=16, M=7, eps=0.25)
    assert dict(f.params) == {"n": 16, "M": 7, "eps": 0.25, "alpha": None, "insertion_only": False}
    d = DistinctElements(n=16, insertion_only=True)
    assert d.params.insertion_only is True and d.insertion_only
    assert "k = 3" in p.guarantee() and "0.25" in f.guarantee() and "F0" in d.guarantee()


# -- answers -------------------------------------------------------------------------------

@given(st.lists(st.integers(-5, 5), max_size=30))
def test_sparse_vector_from_dense_round_trips(values):
    x = np.array(values, dtype=np.int64)
    v = SparseVector.from_dense(x)
    assert len(v) == np.count_nonzero(x)
    assert np.all(np.diff(v.indices) > 0) and np.all(v.values != 0)
    dense = np.zeros(len(x), dtype=np.int64)
    dense[v.indices] = v.values
    np.testing.assert_array_equal(dense, x)
    assert v == SparseVector(v.indices[::-1], v.values[::-1])  # order of construction does not matter
    assert answer_digest(v) == answer_digest(SparseVector.from_dense(x.copy()))


def test_answers_serialise_and_digest():
    assert answer_to_json(NOT_SPARSE) == "NOT_SPARSE"
    assert answer_to_json(SparseVector([3, 1], [2, -1])) == {"indices": [1, 3], "values": [-1, 2]}
    assert answer_to_json(np.float64(2.5)) == 2.5 and type(answer_to_json(np.int64(3))) is int
    assert answer_digest(1.0) != answer_digest(1.5)
    assert answer_digest(NOT_SPARSE) != answer_digest(SparseVector([], []))
    assert len(answer_digest(NOT_SPARSE)) == 16
    with pytest.raises(ValueError, match="distinct"):
        SparseVector([1, 1], [2, 3])
    with pytest.raises(TypeError):
        hash(SparseVector([1], [1]))
