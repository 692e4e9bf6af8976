"""L1 heavy hitters: the referee, Misra–Gries (deterministic, survives white-box), Count-Min (falls to markelon)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.adversaries.markelon import MarkelonCoverSet
from wbstream.algorithms.heavy.misra_gries import MisraGries
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import NotApplicableError, StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX
from wbstream.reproduce import MARKELON, run_markelon

ARENA = "heavy-hitters(n=100000, M=1048576, eps=0.05)"


# -- the referee against a brute-force reference ----------------------------------------------

def reference_verdict(x: list[int], eps: float, reported: set[int]) -> str | None:
    """None if correct, else the failure kind, straight from the definition."""
    m = sum(x)
    if m > 0 and any(f >= eps * m and i not in reported for i, f in enumerate(x)):
        return "missed-heavy"
    if any(x[i] <= eps * m / 2 for i in reported):
        return "false-heavy"
    return None


@given(x=st.lists(st.integers(0, 30), min_size=1, max_size=12), eps=st.sampled_from([0.05, 0.1, 0.25, 0.5]),
       data=st.data())
def test_judge_matches_the_definition(x, eps, data):
    p = HeavyHitters(n=len(x), M=30, eps=eps)
    nz = [i for i, v in enumerate(x) if v]
    if nz:
        p.apply(Batch(np.array(nz), np.array([x[i] for i in nz])))
    reported = data.draw(st.sets(st.integers(0, len(x) - 1)))
    answer = np.array(sorted(reported), dtype=np.int64)
    v = p.judge(answer)
    assert v.kind == reference_verdict(x, eps, reported), (x, reported, v)
    assert v.correct == (v.kind is None)
    assert p.judge(list(answer)) == v  # lists are accepted too
    exact = p.exact_answer(p.x)
    assert exact.dtype == np.int64 and p.judge(exact).correct
    assert reference_verdict(x, eps, set(exact.tolist())) is None


def test_judge_names_the_missed_index_and_refuses_malformed_answers():
    p = HeavyHitters(n=8, M=100, eps=0.25)
    p.apply(Batch(np.array([2, 5, 6]), np.array([10, 1, 1])))
    v = p.judge([])
    assert v.kind == "missed-heavy" and "index 2 has count 10" in v.detail
    for bad in (np.array([1.0]), [8], [-1], np.array([[2]]), "2", None, [True]):
        assert p.judge(bad).kind == "malformed", bad
    assert HeavyHitters(n=4).judge([]).correct  # m = 0: nothing heavy, nothing may be reported
    assert HeavyHitters(n=4).judge([1]).kind == "false-heavy"


def test_bad_input_is_refused_by_the_referee_and_changes_nothing():
    class Bad(Adversary):
        name = "bad"

        def __init__(self, *, batch: tuple = ()):
            self.batch = batch

        def act(self, obs):
            return Batch(np.array([1, 2]), np.array([3, 4])) if obs.round == 1 else Batch(*map(np.array, self.batch))

    p = HeavyHitters(n=10, M=50, eps=0.1)
    p.apply(Batch(np.array([1, 2]), np.array([3, 4])))
    before = p.x.copy()
    for idx, dlt, rule in [([3], [0], "not positive"), ([3, 4], [2, -1], "not positive"),
                           ([10], [1], "outside the universe"), ([-1, 2], [1, 1], "outside the universe"),
                           ([1, 1], [40, 10], "promise")]:
        with pytest.raises(StreamError, match=rule):
            p.apply(Batch(np.array(idx), np.array(dlt)))
        np.testing.assert_array_equal(p.x, before)
        with pytest.raises(StreamError, match=rule):
            Game("heavy-hitters(n=10, M=50, eps=0.1)", MisraGries, Bad, "oblivious",
                 adversary_options={"batch": (idx, dlt)}).play()


# -- oblivious Zipf-like streams -------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["misra-gries", "count-min", "countsketch-hh", "robust-sampler"])
@pytest.mark.parametrize("seed", range(4))
def test_correct_on_oblivious_zipf_streams(algorithm, seed):
    r = Game(ARENA, algorithm, "zipf", "oblivious", seed=seed).play()
    assert not r.failed, r.failure_detail
    assert (r.rounds, r.queries, r.updates) == (10, 10, 100_000)


# -- Misra–Gries: deterministic, so white-box knowledge does not help ---------------------------

def test_markelon_does_not_apply_to_misra_gries():
    ok, why = MarkelonCoverSet().applies_to(MisraGries, HeavyHitters)
    assert not ok and "not a Count-Min or CountSketch" in why
    with pytest.raises(NotApplicableError, match="cannot attack 'misra-gries': it is not a Count-Min"):
        Game(ARENA, MisraGries, MarkelonCoverSet, "white-box")


@given(batches=st.lists(st.lists(st.tuples(st.integers(0, 15), st.integers(1, 9)), min_size=1, max_size=6),
                        min_size=1, max_size=25),
       counters=st.integers(1, 10))
def test_misra_gries_guarantee_after_every_batch(batches, counters):
    p = HeavyHitters(n=16, M=10_000, eps=0.25)
    mg = MisraGries(p.params, None, counters=counters)
    for batch in batches:
        b = Batch(np.array([i for i, _ in batch]), np.array([d for _, d in batch]))
        p.apply(b)
        mg.update(b.indices, b.deltas)
        m = int(p.x.sum())
        est = mg.estimate(np.arange(16))
        assert mg.m == m and len(mg.keys) <= counters
        assert (est <= p.x).all() and (p.x - m / (counters + 1) <= est).all(), (p.x, est)
    if counters >= 8:  # ceil(2/eps)
        assert p.judge(mg.query()).correct


class GreedyStarver(Adversary):
    """White-box: keep a target t just above eps*m while flooding fresh ids that force MG's decrements.

    Each round it reads MG's counters and sends one unit insertion: ``t`` if
    ``f_t`` would otherwise drop below ``eps*m``, else an id MG holds no counter for
    (so every counter, t's included, is decremented). MG must still report ``t``.
    """

    name = "greedy-starver"
    needs = WHITE_BOX
    lowest_gaps: list = []  # per game: the least est_t - eps*m it saw (negative: it did push t's counter down)

    def __init__(self, *, rounds: int = 1500):
        self.rounds = rounds

    def reset(self, params, rng):
        super().reset(params, rng)
        self.t, self.ft, self.m, self.lowest = 0, 0, 0, None

    def act(self, obs):
        if obs.round > self.rounds:
            GreedyStarver.lowest_gaps.append(self.lowest)
            return None
        state, eps = obs.state(), self.params.eps
        held = set(np.asarray(state["keys"]).tolist())
        if self.ft < eps * (self.m + 1):
            i = self.t
        else:
            i = next(j for j in self.rng.permutation(self.params.n).tolist() if j not in held and j != self.t)
        if i == self.t:
            self.ft += 1
        self.m += 1
        keys, counts = np.asarray(state["keys"]), np.asarray(state["counts"])
        est = int(counts[keys == self.t][0]) if self.t in held else 0
        gap = est - eps * self.m
        self.lowest = gap if self.lowest is None else min(self.lowest, gap)
        return Batch.single(i, 1)


def test_misra_gries_survives_a_white_box_greedy_adversary():
    g = Game("heavy-hitters(n=2000, M=100000, eps=0.1)", MisraGries, GreedyStarver, "white-box", seed=0)
    r = g.play()
    assert not r.failed, r.failure_detail
    assert r.rounds == 1500 and r.queries == 1500 and r.stop_reason == "adversary-stopped"
    assert GreedyStarver.lowest_gaps[-1] < 0  # it did drive t's counter below eps*m; MG still reported t


# -- Count-Min falls to the cover-set attack --------------------------------------------------

@pytest.mark.parametrize("seed", range(10))
def test_count_min_falls_to_markelon(seed):
    r = Game(ARENA, "count-min", "markelon-2023", "white-box", seed=seed).play()
    assert r.failed and r.failure_kind == "false-heavy", r.failure_detail
    assert r.first_failure_round == 1


# (width, depth, the paper's error on x, the paper's hash evaluations), docs/references.md#markelon-2023
PAPER = MARKELON


@pytest.mark.parametrize("width, depth, paper_error, paper_evals", PAPER, ids=["2048x4", "4096x8"])
def test_reproduces_markelon_count_min_figure(width, depth, paper_error, paper_evals):
    runs = [run_markelon(width, depth, seed) for seed in range(3)]
    for r in runs:
        assert r["f_target"] == 0 and r["cover"] == depth and r["m"] == 1 << 20
        assert r["reported"] and r["verdict"] == "false-heavy"
        assert (1 << 20) / depth / 2 <= r["estimate"] <= 2 * (1 << 20) / depth
    # the search cost is of the paper's order (depth x about width candidates per row)
    assert paper_evals / 3 <= np.mean([r["evaluations"] for r in runs]) <= 3 * paper_evals
