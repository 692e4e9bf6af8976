"""Frequent Directions holds its bound on every stream; projection sketches hold obliviously and break white-box."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.adversaries.lowrank_attacks import ProjectionKernel
from wbstream.algorithms.lowrank.frequent_directions import FrequentDirections
from wbstream.algorithms.lowrank.projections import CountSketchProjection, GaussianProjection
from wbstream.engine.coins import Coins
from wbstream.engine.game import Game
from wbstream.engine.replay import TranscriptAdversary
from wbstream.engine.matrix_problems import LowRankApproximation
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.stream import RowBatch
from wbstream.engine.threat import WHITE_BOX

PROBLEM = "low-rank-approx(cols=16, k=2, ell=8, eps=0.5, M=1000000)"
PROJECTIONS = ["gaussian-projection", "countsketch-projection"]
TRIALS = 40


@st.composite
def row_streams(draw):
    cols = draw(st.integers(2, 10))
    k = draw(st.integers(1, cols - 1))
    ell = draw(st.integers(k + 1, k + 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(draw(st.integers(1, 8))):
        m = draw(st.integers(0, 3 * ell))
        kind = draw(st.sampled_from(["gauss", "low-rank", "repeat", "zeros", "huge", "tiny", "spike"]))
        if kind == "gauss":
            rows = rng.standard_normal((m, cols))
        elif kind == "low-rank":
            rows = rng.standard_normal((m, 1)) @ rng.standard_normal((1, cols)) * 50
        elif kind == "repeat":
            rows = np.tile(rng.standard_normal(cols), (m, 1))
        elif kind == "zeros":
            rows = np.zeros((m, cols))
        elif kind == "huge":
            rows = rng.choice([-1e6, 1e6], size=(m, cols))
        elif kind == "tiny":
            rows = rng.standard_normal((m, cols)) * 1e-6
        else:
            rows = np.zeros((m, cols))
            rows[:, int(rng.integers(cols))] = 1e6
        batches.append(rows)
    return cols, k, ell, batches


@settings(max_examples=40)
@given(case=row_streams())
def test_frequent_directions_bound_holds_after_every_batch(case):
    cols, k, ell, batches = case
    referee = LowRankApproximation(cols=cols, k=k, ell=ell, M=10**6)
    fd = FrequentDirections(referee.params, Coins.from_seed(0, "t"))
    for rows in batches:
        b = RowBatch(rows.reshape(-1, cols)) if len(rows) else RowBatch(np.zeros((0, cols)))
        referee.apply(b)
        fd.update(b.indices, b.deltas)
        verdict = referee.judge(fd.query())
        assert verdict.correct, verdict.detail
    assert fd.state()["B"].shape == (2 * ell, cols)


@pytest.mark.parametrize("adversary, threat", [("stale-subspace", "adaptive"), ("stale-subspace(batch=1, rounds=60)", "white-box"),
                                               ("planted-rows", "oblivious"), ("planted-rows(signal=0.0)", "oblivious")])
def test_frequent_directions_bound_holds_against_adaptive_and_oblivious_streams(adversary, threat):
    assert not any(Game(PROBLEM, "frequent-directions", adversary, threat, seed=s).play().failed for s in range(10))


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_frequent_directions_holds_on_the_projection_attack_streams(projection):
    """The rows that break a projection sketch, replayed against FD: its bound still holds."""
    for seed in range(5):
        attack = Game(PROBLEM, projection, "projection-kernel", seed=seed, record_transcript=True).play()
        assert attack.failed
        again = Game(PROBLEM, "frequent-directions", TranscriptAdversary, "oblivious", seed=seed,
                     adversary_options={"transcript": attack.transcript}).play()
        assert again.updates == attack.updates and not again.failed


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_projections_fail_under_the_white_box_attack_in_at_least_95_percent_of_trials(projection):
    failed = [Game(PROBLEM, projection, "projection-kernel", seed=s).play() for s in range(TRIALS)]
    assert sum(r.failed and r.failure_kind == "projection-cost" for r in failed) >= 0.95 * TRIALS


@pytest.mark.parametrize("projection", PROJECTIONS)
def test_projections_hold_on_oblivious_planted_streams(projection):
    results = [Game(PROBLEM, projection, "planted-rows", "oblivious", seed=s).play() for s in range(TRIALS)]
    assert sum(not r.failed for r in results) >= 0.95 * TRIALS


@pytest.mark.parametrize("projection", [GaussianProjection, CountSketchProjection])
def test_the_attack_rows_really_are_in_the_sketch_kernel(projection):
    problem = LowRankApproximation(cols=16, k=2, ell=8, eps=0.5, M=10**6)
    alg = projection(problem.params, Coins.from_seed(7, "algorithm"))
    obs = Observation(WHITE_BOX, problem.params, AlgorithmInfo(alg.name, alg.name, projection), alg)
    attack = ProjectionKernel()
    attack.reset(problem.params, np.random.default_rng(0))
    rows = attack.act(obs)
    assert attack.residual < 1e-9 and len(rows.rows) == alg.size + 5
