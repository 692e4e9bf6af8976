"""A refused batch changes nothing: neither the referee's truth nor the algorithm's state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbstream.algorithms.exact import Exact
from wbstream.algorithms.norms.ams import AMS
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements, F2Estimation, SparseRecovery
from wbstream.engine.stream import Batch, as_batch

PROBLEMS = ["sparse-recovery", "f2", "distinct-elements-insertion-only"]
BAD_KINDS = ["index-negative", "index-high", "float-delta", "nan-delta", "inf-delta", "mismatched",
             "promise", "huge-delta", "promise-prefix", "insertion-only"]


def make_problem(kind: str, n: int, M: int):
    if kind == "sparse-recovery":
        return SparseRecovery(n=n, k=min(2, n), M=M)
    if kind == "f2":
        return F2Estimation(n=n, M=M, eps=0.5)
    return DistinctElements(n=n, M=M, insertion_only=True)


def truth(problem) -> tuple[np.ndarray, int, int]:
    return problem.x.copy(), problem.nnz, problem.sumsq


def assert_truth_equal(problem, before) -> None:
    x, nnz, sumsq = before
    assert problem.x.dtype == np.int64
    np.testing.assert_array_equal(problem.x, x)
    assert problem.nnz == nnz
    assert problem.sumsq == sumsq


# -- generating a start state and one bad batch ---------------------------------

CASES = [(p, b) for p in PROBLEMS for b in BAD_KINDS
         if b != "insertion-only" or p == "distinct-elements-insertion-only"]


@st.composite
def scenarios(draw, pkind: str, bad: str):
    """(problem kind, n, M, prior x, bad indices, bad deltas, rule text, position or None)."""
    insertion_only = pkind == "distinct-elements-insertion-only"
    n = draw(st.integers(4, 48))
    M = draw(st.integers(2, 20))
    lo = 0 if insertion_only else -M
    hi = M - 1 if insertion_only else M  # insertion-only: leave room for a positive filler
    x0 = np.zeros(n, dtype=np.int64)
    for i, v in draw(st.dictionaries(st.integers(0, n - 1), st.integers(lo, hi), max_size=8)).items():
        x0[i] = v

    perm = draw(st.permutations(range(n)))
    target, pool = perm[0], perm[1:]
    nfill = draw(st.integers(0, min(len(pool), 6)))
    fill_idx = list(pool[:nfill])
    fill_dlt = []
    for i in fill_idx:  # every filler is valid on its own, on an index nobody else touches
        if insertion_only:
            fill_dlt.append(draw(st.integers(1, M - int(x0[i]))))
        else:
            fill_dlt.append(draw(st.integers(-M - int(x0[i]), M - int(x0[i]))))

    def place(updates):
        """Insert the bad updates (a list) into the fillers, keeping their order; positions of them."""
        total = len(fill_idx) + len(updates)
        slots = sorted(draw(st.lists(st.integers(0, total - 1), min_size=len(updates),
                                     max_size=len(updates), unique=True)))
        idx, dlt, it_f, it_b = [], [], iter(zip(fill_idx, fill_dlt)), iter(updates)
        for p in range(total):
            i, d = next(it_b) if p in slots else next(it_f)
            idx.append(i)
            dlt.append(d)
        return idx, dlt, slots

    def ok_delta():
        xi = int(x0[target])
        return draw(st.integers(1, M - xi)) if insertion_only else draw(st.integers(-M - xi, M - xi))

    if bad == "index-negative":
        idx, dlt, (j,) = place([(draw(st.integers(-3 * n, -1)), 1)])
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "outside the universe", j
    if bad == "index-high":
        idx, dlt, (j,) = place([(draw(st.integers(n, 3 * n)), 1)])
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "outside the universe", j
    if bad in ("float-delta", "nan-delta", "inf-delta"):
        value = {"float-delta": ok_delta() + draw(st.sampled_from([0.5, 0.25, -0.5])),
                 "nan-delta": float("nan"),
                 "inf-delta": draw(st.sampled_from([float("inf"), float("-inf")]))}[bad]
        idx, dlt, (j,) = place([(target, value)])
        rule = "not an integer" if bad == "float-delta" else "not a finite integer"
        return pkind, n, M, x0, np.array(idx), np.array(dlt, dtype=np.float64), rule, j
    if bad == "mismatched":
        idx, dlt, _ = place([(target, ok_delta())])
        if draw(st.booleans()) or len(dlt) == 1:
            dlt = dlt + [1] * draw(st.integers(1, 3))
        else:
            dlt = dlt[:-1]
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "mismatched lengths", None
    if bad == "promise":  # one update overshoots by 1..M (the prefix check catches it)
        xi = int(x0[target])  # overshoot on the side where |delta| <= 2M still suffices
        if xi > 0 or (xi == 0 and (insertion_only or draw(st.booleans()))):
            d = M - xi + draw(st.integers(1, M + xi))
        else:
            d = -M - xi - draw(st.integers(1, M - xi))
        idx, dlt, (j,) = place([(target, d)])
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "promise", j
    if bad == "huge-delta":  # |delta| > 2M can never keep the promise
        sign = 1 if insertion_only else draw(st.sampled_from([-1, 1]))
        idx, dlt, (j,) = place([(target, sign * draw(st.integers(2 * M + 1, 5 * M)))])
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "|x_i| <= M", j
    if bad == "promise-prefix":  # reach M, go one over, come back: only a prefix breaks the promise
        xi = int(x0[target])
        first = M - xi
        if insertion_only and first == 0:
            first = 1  # cannot happen (x0 <= M - 1), kept for clarity
        # insertion-only forbids the -1, so there it breaks on the +1 and is refused all the same
        updates = [(target, first), (target, 1), (target, -1 if not insertion_only else 1)]
        idx, dlt, slots = place(updates)
        return pkind, n, M, x0, np.array(idx), np.array(dlt), "promise", slots[1]
    assert bad == "insertion-only"
    d = draw(st.integers(-int(x0[target]), 0))  # non-positive, yet keeps |x_i| <= M
    idx, dlt, (j,) = place([(target, d)])
    return pkind, n, M, x0, np.array(idx), np.array(dlt), "insertion-only", j


def check_message(err: StreamError, rule: str, position: int | None, idx, dlt) -> None:
    msg = str(err)
    assert rule in msg, msg
    if position is None:  # mismatched lengths: both lengths are named
        assert f"{len(idx)} indices" in msg and f"{len(dlt)} deltas" in msg, msg
    else:
        assert msg.startswith(f"update {position}:"), msg
    if rule == "promise":
        assert "|x_i| <= M" in msg, msg


def prior_batch(x0: np.ndarray) -> Batch:
    nz = np.flatnonzero(x0)
    return Batch(nz.astype(np.int64), x0[nz].astype(np.int64))


# -- through Problem.validate / Problem.apply -------------------------------------

@pytest.mark.parametrize("pkind, bad", CASES)
@settings(max_examples=15)  # per rule and problem: 28 cases in all
@given(data=st.data())
def test_refused_batch_leaves_truth_unchanged(pkind, bad, data):
    _, n, M, x0, idx, dlt, rule, position = data.draw(scenarios(pkind, bad))
    problem = make_problem(pkind, n, M)
    problem.apply(prior_batch(x0))
    np.testing.assert_array_equal(problem.x, x0)
    before = truth(problem)
    with pytest.raises(StreamError) as info:
        problem.validate((idx, dlt))
    check_message(info.value, rule, position, idx, dlt)
    assert_truth_equal(problem, before)
    with pytest.raises(StreamError) as again:
        problem.apply((idx, dlt))
    assert str(again.value) == str(info.value)
    assert_truth_equal(problem, before)


def test_intermediate_prefix_breaking_the_promise_is_refused():
    p = SparseRecovery(n=8, k=2, M=5)
    p.apply(as_batch([2], [3]))
    before = truth(p)
    # +2 reaches M, +1 breaks it, -1 comes back: the final value 5 is fine, the prefix is not.
    with pytest.raises(StreamError, match=r"^update 2: x\[2\] would become 6, breaking the promise"):
        p.apply(as_batch([2, 7, 2, 2], [2, 1, 1, -1]))
    assert_truth_equal(p, before)


@pytest.mark.parametrize("pkind", PROBLEMS)
@pytest.mark.parametrize("delta", [-2**63, -2**63 + 1, 2**63 - 1, -2**62, 2**62])
@pytest.mark.parametrize("fillers", [0, 1, 3])
def test_extreme_int64_deltas_are_refused(pkind, delta, fillers):
    p = make_problem(pkind, 8, 5)
    p.apply(as_batch([6], [2]))
    before = truth(p)
    idx = list(range(fillers)) + [7]
    dlt = [1] * fillers + [delta]
    with pytest.raises(StreamError, match=rf"^update {fillers}: "):
        p.apply(as_batch(np.array(idx, dtype=np.int64), np.array(dlt, dtype=np.int64)))
    assert_truth_equal(p, before)
    assert np.abs(p.x.astype(object)).max() <= p.M


def test_a_game_refuses_an_int64_min_delta():
    game = Game("sparse-recovery(n=8, k=2, M=5)", "exact", BadOnRoundTwo, "oblivious",
                adversary_options={"good": Batch.single(3, 1),
                                   "bad": (np.array([1, 2], dtype=np.int64), np.array([0, -2**63], dtype=np.int64))})
    with pytest.raises(StreamError, match="^update 1: "):
        game.play()


def test_insertion_only_refuses_zero_and_negative_deltas():
    p = DistinctElements(n=8, M=5, insertion_only=True)
    p.apply(as_batch([1], [2]))
    before = truth(p)
    for idx, dlt, j in [([1], [0], 0), ([1], [-1], 0), ([3, 1], [1, -2], 1), ([3, 4, 5], [1, 1, 0], 2)]:
        with pytest.raises(StreamError, match=rf"^update {j}: .*insertion-only"):
            p.apply(as_batch(idx, dlt))
        assert_truth_equal(p, before)
    # the same deltas are fine for the turnstile version
    q = DistinctElements(n=8, M=5)
    q.apply(as_batch([3, 1], [1, -2]))
    assert q.x[1] == -2 and q.nnz == 2


def test_non_integer_index_is_named_as_an_index():
    with pytest.raises(StreamError) as info:
        as_batch([0, 1.5], [1, 1])
    msg = str(info.value)
    assert msg.startswith("update 1:") and "not an integer" in msg
    assert "index 1.5" in msg, msg


def test_bad_shapes_and_dtypes_are_refused():
    with pytest.raises(StreamError, match="one-dimensional"):
        as_batch([[1, 2]], [[1, 1]])
    with pytest.raises(StreamError, match="booleans"):
        as_batch([1, 2], [True, False])
    with pytest.raises(StreamError, match="dtype"):
        as_batch(["a"], [1])
    with pytest.raises(StreamError, match="Batch or an"):
        as_batch([1, 2])


# -- through a whole Game ------------------------------------------------------

LIVE: list = []


def counting(base):
    """``base`` with an update counter and a snapshot of the state after every update."""

    class Counting(base):
        def __init__(self, params, coins, **options):
            super().__init__(params, coins, **options)
            self.calls = 0
            self.snapshot = snapshot_state(self)
            LIVE.append(self)

        def update(self, indices, deltas):
            self.calls += 1
            super().update(indices, deltas)
            self.snapshot = snapshot_state(self)

    Counting.__name__ = Counting.__qualname__ = f"Counting{base.__name__}"
    return Counting


def snapshot_state(alg) -> dict:
    return {k: np.array(v, copy=True) for k, v in alg.state().items()}


def assert_state_equal(alg, snap) -> None:
    now = alg.state()
    assert set(now) == set(snap)
    for key, value in snap.items():
        assert np.asarray(now[key]).dtype == value.dtype, key
        np.testing.assert_array_equal(now[key], value, err_msg=key)


def tracked(base, **defaults):
    """``base`` with fixed parameters, recording each instance the game creates."""

    class Tracked(base):
        def __init__(self):
            super().__init__(**defaults)
            LIVE.append(self)

    return Tracked


class BadOnRoundTwo(Adversary):
    """Sends ``good`` on round 1 and ``bad`` (raw, unvalidated) on round 2."""

    name = "bad-on-round-two"

    def __init__(self, *, good=None, bad=None):
        self.good, self.bad = good, bad

    def act(self, obs):
        if obs.round == 1:
            return self.good
        if obs.round == 2:
            return self.bad
        return None


ALGORITHMS = {
    "sparse-recovery": [(CountSketchRecovery, {"rows": 3, "cols": 8}), (Exact, {})],
    "f2": [(AMS, {"means": 4, "medians": 3}), (Exact, {})],
    "distinct-elements-insertion-only": [(Exact, {})],
}
COUNTING = {cls: counting(cls) for cls in (CountSketchRecovery, AMS, Exact)}


def problem_class(pkind, n, M):
    if pkind == "sparse-recovery":
        return tracked(SparseRecovery, n=n, k=2, M=M)
    if pkind == "f2":
        return tracked(F2Estimation, n=n, M=M, eps=0.5)
    return tracked(DistinctElements, n=n, M=M, insertion_only=True)


@pytest.mark.parametrize("pkind, bad", CASES)
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=10)
@given(data=st.data())
def test_game_never_updates_the_algorithm_with_a_refused_batch(pkind, bad, data):
    _, n, M, x0, idx, dlt, rule, position = data.draw(scenarios(pkind, bad))
    base, options = data.draw(st.sampled_from(ALGORITHMS[pkind]))
    LIVE.clear()
    game = Game(problem_class(pkind, n, M), COUNTING[base], BadOnRoundTwo,
                "oblivious", stop_on_failure=False, algorithm_options=options,
                adversary_options={"good": prior_batch(x0), "bad": (idx, dlt)})
    LIVE.clear()  # drop anything built while the game was configured
    with pytest.raises(StreamError) as info:
        game.play()
    check_message(info.value, rule, position, idx, dlt)
    problems_ = [o for o in LIVE if not hasattr(o, "calls")]
    algs = [o for o in LIVE if hasattr(o, "calls")]
    assert len(problems_) == 1 and len(algs) == 1
    problem, alg = problems_[0], algs[0]
    assert alg.calls == 1  # round 1 only: the refused round never reached update()
    assert_state_equal(alg, alg.snapshot)
    reference = make_problem(pkind, n, M)
    reference.apply(prior_batch(x0))
    assert_truth_equal(problem, truth(reference))
    if base is Exact:  # the exact algorithm's state is the truth itself
        np.testing.assert_array_equal(alg.state()["x"], x0)


@pytest.mark.parametrize("algorithm, problem", [
    ("countsketch(rows=5, cols=16)", "sparse-recovery(n=64, k=2, M=8)"),
    ("ams(means=8, medians=3)", "f2(n=64, M=8, eps=0.5)"),
    ("exact", "distinct-elements(n=64, M=8)"),
    ("exact", "sparse-recovery(n=64, k=2, M=8)"),
])
@pytest.mark.parametrize("bad, rule, position", [
    (([3, 64], [1, 1]), "outside the universe", 1),
    (([3, -1], [1, 1]), "outside the universe", 1),
    (([3, 4], [1.0, 1.5]), "not an integer", 1),
    (([3, 4, 5], [1.0, 1.0, float("nan")]), "not a finite integer", 2),
    (([3], [8]), "promise", 0),
    (([3, 3, 3], [7, 1, -1]), "promise", 1),
])
def test_game_raises_the_stream_error_from_spec_strings(algorithm, problem, bad, rule, position):
    game = Game(problem, algorithm, BadOnRoundTwo, "oblivious", stop_on_failure=False,
                adversary_options={"good": Batch.single(3, 1), "bad": bad})
    with pytest.raises(StreamError) as info:
        game.play()
    assert rule in str(info.value)
    assert str(info.value).startswith(f"update {position}:")


# -- valid batches keep the truth equal to a brute-force reference ---------------

@st.composite
def valid_streams(draw):
    pkind = draw(st.sampled_from(PROBLEMS))
    insertion_only = pkind == "distinct-elements-insertion-only"
    n = draw(st.integers(1, 24))
    M = draw(st.integers(1, 12))
    x = [0] * n
    batches = []
    for _ in range(draw(st.integers(1, 8))):
        idx, dlt = [], []
        for _ in range(draw(st.integers(0, 10))):
            room = [i for i in range(n) if x[i] < M] if insertion_only else list(range(n))
            if not room:
                break
            i = draw(st.sampled_from(room))
            d = draw(st.integers(1, M - x[i])) if insertion_only else draw(st.integers(-M - x[i], M - x[i]))
            x[i] += d
            idx.append(i)
            dlt.append(d)
        batches.append((np.array(idx, dtype=np.int64), np.array(dlt, dtype=np.int64)))
    return pkind, n, M, batches


@given(valid_streams())
def test_valid_batches_match_a_brute_force_reference(case):
    pkind, n, M, batches = case
    problem = make_problem(pkind, n, M)
    ref = np.zeros(n, dtype=np.int64)
    for idx, dlt in batches:
        problem.apply((idx, dlt))
        for i, d in zip(idx.tolist(), dlt.tolist()):
            ref[i] += d
        np.testing.assert_array_equal(problem.x, ref)
        assert problem.nnz == int(np.count_nonzero(ref))
        if pkind == "f2":
            assert problem.sumsq == sum(int(v) ** 2 for v in ref)
            assert isinstance(problem.sumsq, int)
        assert np.abs(problem.x).max(initial=0) <= M


@st.composite
def arbitrary_batches(draw):
    pkind = draw(st.sampled_from(PROBLEMS))
    n = draw(st.integers(1, 12))
    M = draw(st.integers(1, 6))
    batches = [(draw(st.lists(st.integers(-2, n + 1), min_size=0, max_size=6)), None)
               for _ in range(draw(st.integers(1, 6)))]
    batches = [(idx, draw(st.lists(st.integers(-3 * M, 3 * M), min_size=len(idx), max_size=len(idx))))
               for idx, _ in batches]
    return pkind, n, M, batches


def brute_force_accepts(x, idx, dlt, M, insertion_only) -> bool:
    x = x.copy()
    for i, d in zip(idx, dlt):
        if not 0 <= i < len(x) or (insertion_only and d <= 0):
            return False
        x[i] += d
        if abs(x[i]) > M:
            return False
    return True


@given(arbitrary_batches())
def test_a_batch_is_refused_exactly_when_some_update_breaks_a_rule(case):
    pkind, n, M, batches = case
    problem = make_problem(pkind, n, M)
    insertion_only = pkind == "distinct-elements-insertion-only"
    ref = np.zeros(n, dtype=np.int64)
    for idx, dlt in batches:
        before = truth(problem)
        if brute_force_accepts(ref, idx, dlt, M, insertion_only):
            problem.apply((np.array(idx, dtype=np.int64), np.array(dlt, dtype=np.int64)))
            for i, d in zip(idx, dlt):
                ref[i] += d
        else:
            with pytest.raises(StreamError, match=r"^update \d+: "):
                problem.apply((np.array(idx, dtype=np.int64), np.array(dlt, dtype=np.int64)))
            assert_truth_equal(problem, before)
        np.testing.assert_array_equal(problem.x, ref)
        assert problem.nnz == int(np.count_nonzero(ref))
        if pkind == "f2":
            assert problem.sumsq == int(np.dot(ref, ref))
