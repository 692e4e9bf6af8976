"""Adaptive-robust F2 (sketch switching, DP aggregation): correct on oblivious streams, survive the
adaptive attack that breaks AMS, fall to the white-box attack that reads their copies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.adversaries.copy_attacks import cancelling_signs
from wbstream.algorithms.norms.copies import flip_number
from wbstream.algorithms.norms.dp_f2 import DPF2
from wbstream.algorithms.norms.switching import SwitchingF2
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError
from wbstream.engine.game import Budget, Game
from wbstream.engine.problems import F2Estimation
from wbstream.engine.stream import as_batch

#: The separation's problem: alpha = 8 keeps ams(means=8, medians=3) right on oblivious queries.
SEP = "f2(n=32, M=1024, alpha=8)"
AMS = "ams(means=8, medians=3)"

_stream = st.lists(st.lists(st.tuples(st.integers(0, 63), st.integers(1, 16)), min_size=1, max_size=12),
                   min_size=1, max_size=8)


def _check_oblivious(cls, spec_kwargs, options, batches, seed):
    p = F2Estimation(**spec_kwargs)
    alg = cls(p.params, Coins.from_seed(seed, "robust-test"), **options)
    for batch in batches:
        idx = [i % p.n for i, _ in batch]
        dlt = [min(d, p.M) for _, d in batch]
        x = p.x.copy()
        np.add.at(x, idx, dlt)
        if np.abs(x).max() > p.M:
            continue  # keep the promise |x_i| <= M
        b = as_batch(idx, dlt)
        p.apply(b)
        alg.update(b.indices, b.deltas)
        verdict = p.judge(alg.query())
        assert verdict.correct, verdict.detail
    return alg


@settings(max_examples=25)
@given(batches=_stream, seed=st.integers(0, 3))
def test_switching_f2_is_within_the_factor_on_oblivious_insertion_streams(batches, seed):
    alg = _check_oblivious(SwitchingF2, dict(n=64, M=16, alpha=4, insertion_only=True), {}, batches, seed)
    assert alg.switches <= alg.copies.copies and not alg.exhausted


@settings(max_examples=10)
@given(batches=_stream, seed=st.integers(0, 3))
def test_dp_f2_is_within_the_factor_on_oblivious_insertion_streams(batches, seed):
    _check_oblivious(DPF2, dict(n=16, M=4, alpha=8, insertion_only=True), {}, batches, seed)


def test_the_flip_number_bounds_the_switches_of_a_growing_stream():
    p = F2Estimation(n=64, M=16, alpha=4, insertion_only=True)
    alg = SwitchingF2(p.params, Coins.from_seed(0, "robust-test"))
    for j in range(64):  # F2 grows from 1 to 64 * 16^2, one coordinate at a time
        for _ in range(16):
            p.apply(as_batch([j], [1]))
            alg.update(np.array([j]), np.array([1]))
            assert p.judge(alg.query()).correct
    assert 0 < alg.switches <= flip_number(p.params) - 1 and alg.copies.copies == flip_number(p.params)


def test_out_of_copies_it_keeps_answering_and_says_the_guarantee_is_gone():
    p = F2Estimation(n=64, M=1024, alpha=4)
    alg = SwitchingF2(p.params, Coins.from_seed(0, "robust-test"), copies=2, means=8)
    answers = []
    for v in (1, 100, 1000):  # F2 = 1, 10^4, 10^6: each step drifts, the second switch finds no copy
        alg.update(np.array([3]), np.array([v - (answers and [1, 100][len(answers) - 1] or 0)]))
        answers.append(alg.query())
    p.apply(as_batch([3], [1000]))
    assert alg.state()["exhausted"] == 1 and alg.active == 1 and alg.switches == 1
    assert p.judge(answers[-1]).correct  # the last copy still answers (no guarantee any more)


def test_a_zero_answer_does_not_spend_a_copy():
    p = F2Estimation(n=64, M=1024, alpha=4)
    alg = SwitchingF2(p.params, Coins.from_seed(0, "robust-test"), copies=10, means=8)
    for _ in range(3):  # insert, query, delete, query: one copy per non-zero answer
        alg.update(np.array([1, 2]), np.array([500, -300]))
        assert alg.query() > 0
        alg.update(np.array([1, 2]), np.array([-500, 300]))
        assert alg.query() == 0.0
    assert alg.active == 3 and not alg.revealed


def test_dp_f2_repeated_queries_draw_no_new_noise():
    p = F2Estimation(n=16, M=4, alpha=8, insertion_only=True)
    alg = DPF2(p.params, Coins.from_seed(0, "robust-test"))
    alg.update(np.arange(16), np.full(16, 3))
    first, draws = alg.query(), alg.draws
    assert alg.query() == first and alg.draws == draws and alg.refreshes == 1


def test_hardt_woodruff_breaks_ams_but_not_sketch_switching_over_the_same_copies():
    """Seed 4 at 2,000 rounds (docs/robust-matrix.py runs seeds 0-2 at 10,000): the attack breaks
    ams(means=8, medians=3), the same queries drawn obliviously do not, and switching over copies
    of that very sketch survives the attack (each answer comes from a copy the attack never saw)."""
    budget = Budget(rounds=2000)
    attacked = Game(SEP, AMS, "hardt-woodruff-2013", "adaptive", seed=4, budget=budget).play()
    control = Game(SEP, AMS, "gaussian-queries(queries=1000)", "oblivious", seed=4, budget=budget).play()
    robust = Game(SEP, "switching-f2(copies=1001, means=8, medians=3)", "hardt-woodruff-2013", "adaptive", seed=4,
                  budget=budget).play()
    assert attacked.failed and attacked.failure_kind == "out-of-factor"
    assert not control.failed and control.rounds == 2000
    assert not robust.failed and robust.rounds == 2000


def test_cancelling_signs_shrink_the_sketch_far_below_the_norm():
    S = np.random.default_rng(1).choice([-1, 1], size=(24, 400))
    e = cancelling_signs(S)
    assert np.mean((S @ e) ** 2) < 0.05 * 400  # a random sign vector gives 400 on average


@pytest.mark.parametrize("spec, alg, seeds", [
    ("f2(n=4096, M=16, alpha=4)", "switching-f2(copies=8, means=8, medians=3)", 3),
    ("f2(n=16384, M=16, alpha=8)", "dp-f2(copies=405, means=4, medians=1, flips=1, allow_outside_guarantee=True)", 2)])
def test_the_white_box_copy_cancellation_breaks_the_robust_estimators(spec, alg, seeds):
    for seed in range(seeds):
        control = Game(spec, alg, "dense(rounds=8)", "oblivious", seed=seed).play()
        assert not control.failed, control.failure_detail  # the same estimator is right on an oblivious stream
        r = Game(spec, alg, "copy-cancellation", "white-box", seed=seed).play()
        assert r.failed and r.failure_kind == "out-of-factor" and r.first_failure_round == 1


def test_copy_cancellation_refuses_what_it_cannot_attack():
    with pytest.raises(NotApplicableError, match="answering_copies"):
        Game("f2(n=64, M=16, alpha=4)", "ams", "copy-cancellation", "white-box", seed=0)
    with pytest.raises(NotApplicableError, match="turnstile"):
        Game("f2(n=64, M=16, alpha=4, insertion_only=True)", "switching-f2", "copy-cancellation", "white-box",
             seed=0).play()


def test_the_registry_suite_leaves_out_attacks_that_refuse_the_arena_problem_at_reset():
    from wbstream.arena.matchups import Matchup, _playable, registry_matchups

    insertion = "f2(n=64, M=16, alpha=4, insertion_only=True)"
    assert not _playable(Matchup(insertion, "switching-f2", "hardt-woodruff-2013", "adaptive"))
    assert _playable(Matchup("f2(n=64, M=16, alpha=4)", "switching-f2", "hardt-woodruff-2013", "adaptive"))
    names = {(m.algorithm, m.adversary) for m in registry_matchups(all_levels=False)}
    assert ("switching-f2", "dense") in names and ("dp-f2", "dense") in names
    assert ("switching-f2", "hardt-woodruff-2013") in names and ("ams", "gaussian-queries") in names
    assert not any(m.adversary == "hardt-woodruff-2013" and "insertion_only=True" in m.problem
                   for m in registry_matchups(all_levels=False))
