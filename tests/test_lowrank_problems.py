"""Matrix problems and row streams: validation refuses bad input whole, the referees judge exactly."""

from __future__ import annotations

import numpy as np
import pytest

from wbstream.algorithms.lowrank.frequent_directions import FrequentDirections
from wbstream.algorithms.lowrank.gabidulin import GabidulinSketch
from wbstream.algorithms.lowrank.projections import GaussianProjection
from wbstream.engine.adversary import Adversary
from wbstream.engine.answers import NOT_LOW_RANK, answer_digest
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, StreamError
from wbstream.engine.game import Game
from wbstream.engine.matrix_problems import (CovarianceSketch, LowRankApproximation, MatrixRank, RankRecovery,
                                             RowProjection)
from wbstream.engine.registry import algorithms
from wbstream.engine.replay import replay
from wbstream.engine.stream import Batch, RowBatch, as_batch

ROWS = "low-rank-approx(cols=6, k=2, ell=4, eps=0.5, M=100)"


def row_problem():
    return LowRankApproximation(cols=6, k=2, ell=4, eps=0.5, M=100)


@pytest.mark.parametrize("bad, rule", [
    (RowBatch([[1.0] * 6, [np.nan] + [0.0] * 5]), "row 1, column 0: nan is not a finite number"),
    (RowBatch([[np.inf] * 6]), "is not a finite number"),
    (RowBatch([[1.0] * 5]), "rows have width 5, but this matrix has cols = 6"),
    (RowBatch([[1.0] * 7, [2.0] * 7]), "rows have width 7"),
    (RowBatch([[0.0] * 5 + [100.5]]), "exceeds the entry bound M = 100"),
    (Batch(np.array([0, 1]), np.array([1, 1])), "takes whole rows (a RowBatch), not integer entry updates"),
    (Batch.single(0, 1), "takes whole rows"),
])
def test_bad_rows_are_refused_whole_and_change_nothing(bad, rule):
    p = row_problem()
    p.apply(RowBatch([[1.0, 2.0, 3.0, 0.0, 0.0, 1.0]]))
    before = (p.G.copy(), p.row_count)
    with pytest.raises(StreamError, match=rule.replace("(", r"\(").replace(")", r"\)")):
        p.apply(bad)
    assert np.array_equal(p.G, before[0]) and p.row_count == before[1]


class _SendsThen(Adversary):
    """Sends good rows in round 1, then the batch it was given (oblivious, rows)."""

    name, stream_kind = "sends-then", "rows"

    def __init__(self, *, bad=None):
        self.bad = bad

    def act(self, obs):
        return RowBatch([[1.0, 2.0, 0.0, 0.0, 0.0, 3.0]] * 3) if obs.round == 1 else self.bad


@pytest.mark.parametrize("bad", [RowBatch([[np.nan] * 6]), RowBatch([[1.0] * 4]), RowBatch([[1e9] * 6])])
def test_a_game_refuses_bad_rows_before_the_algorithm_sees_them(bad, monkeypatch):
    seen = []
    original = FrequentDirections.update
    monkeypatch.setattr(FrequentDirections, "update", lambda self, i, d: (seen.append(len(i)), original(self, i, d)))
    with pytest.raises(StreamError):
        Game(ROWS, "frequent-directions", _SendsThen, "oblivious", adversary_options={"bad": bad}).play()
    assert seen == [18]  # only the good round reached the algorithm


class _SendsSingle(Adversary):
    """Declares no stream kind and sends one integer update: the round loop's single-update path."""

    name, stream_kind = "sends-single", None

    def act(self, obs):
        return Batch.single(0, 1)


def test_the_single_update_fast_path_cannot_reach_a_row_algorithm(monkeypatch):
    seen = []
    monkeypatch.setattr(FrequentDirections, "update", lambda self, i, d: seen.append(len(i)))
    with pytest.raises(StreamError, match="takes whole rows"):
        Game(ROWS, "frequent-directions", _SendsSingle, "oblivious").play()
    assert seen == []


def test_row_batches_need_two_columns_and_a_real_matrix():
    with pytest.raises(StreamError, match="at least 2 columns"):
        RowBatch([[1.0]])
    with pytest.raises(StreamError, match="2-d array"):
        RowBatch([[[1.0, 2.0]]])
    with pytest.raises(StreamError, match="real numbers"):
        RowBatch([["a", "b"]])
    with pytest.raises(StreamError, match="not whole rows"):
        RowBatch.from_entries([0, 1, 1], [1.0, 2.0, 3.0])


def test_integer_problems_refuse_real_rows():
    p = RankRecovery(rows=3, cols=3, k=1, M=5)
    with pytest.raises(StreamError, match="takes integer updates, not rows"):
        p.apply(RowBatch([[1.0, 2.0, 3.0]]))
    assert not p.x.any()


BAD_ENTRIES = [(as_batch([12], [1]), "outside the universe"), (as_batch([1, 2], [1, 1]), "breaking the promise"),
               (as_batch([0, 2], [11, 1]), "cannot keep"), (as_batch([6], [-1]), "x\\[6\\] would become -6")]


@pytest.mark.parametrize("bad, rule", BAD_ENTRIES)
def test_entry_updates_out_of_range_or_breaking_the_promise_change_nothing(bad, rule):
    p = RankRecovery(rows=3, cols=4, k=1, M=5)
    p.apply(as_batch([1, 6], [5, -5]))
    before = p.x.copy()
    with pytest.raises(StreamError, match=rule):
        p.apply(bad)
    assert np.array_equal(p.x, before)


class _EntriesThen(Adversary):
    """Sends good entry updates in round 1, then the batch it was given."""

    name = "entries-then"

    def __init__(self, *, bad=None):
        self.bad = bad

    def act(self, obs):
        return as_batch([1, 6], [5, -5]) if obs.round == 1 else self.bad


@pytest.mark.parametrize("algorithm, problem", [("robust-rank(preset='toy')", "rank-recovery(rows=3, cols=4, k=1, M=5)"),
                                                ("naive-rank", "rank-recovery(rows=3, cols=4, k=1, M=5)"),
                                                ("robust-rank-approx(preset='toy')", "matrix-rank(rows=3, cols=4, M=5, alpha=2.0)")])
@pytest.mark.parametrize("bad, rule", BAD_ENTRIES)
def test_a_game_refuses_bad_entries_before_the_algorithm_sees_them(algorithm, problem, bad, rule, monkeypatch):
    cls = algorithms.get(algorithm.split("(")[0])
    seen = []
    original = cls.update
    monkeypatch.setattr(cls, "update", lambda self, i, d: (seen.append(np.asarray(i).tolist()), original(self, i, d)))
    with pytest.raises(StreamError, match=rule):
        Game(problem, algorithm, _EntriesThen, "oblivious", adversary_options={"bad": bad}).play()
    assert seen == [[1, 6]]  # only the good round reached the algorithm


@pytest.mark.parametrize("make", [
    lambda: RankRecovery(rows=4, cols=6, k=4),
    lambda: RankRecovery(rows=5, cols=5, k=0),
    lambda: RankRecovery(rows=1, cols=5, k=1),
    lambda: GabidulinSketch(rows=3, cols=8, k=3, M=10),
    lambda: LowRankApproximation(cols=4, k=4),
    lambda: LowRankApproximation(cols=8, k=3, ell=3),
])
def test_k_at_least_min_rows_cols_or_bad_shapes_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_the_gabidulin_field_prime_must_exceed_2m():
    with pytest.raises(ValueError, match="must be > 2M"):
        GabidulinSketch(rows=4, cols=4, k=1, M=100, p=13)


def test_rank_recovery_judge_counts_both_errors():
    p = RankRecovery(rows=4, cols=4, k=2, M=10)
    p.apply(as_batch([0, 5], [3, 4]))  # rank 2
    X = p.matrix().copy()
    assert p.judge(X).correct
    assert p.judge(NOT_LOW_RANK).kind == "false-not-low-rank"
    wrong = X.copy()
    wrong[3, 3] = 1
    assert p.judge(wrong).kind == "wrong-matrix"
    assert p.judge(X.astype(float)).kind == "malformed"
    p.apply(as_batch([10], [1]))  # rank 3 > k
    assert p.judge(NOT_LOW_RANK).correct
    assert p.judge(p.matrix().copy()).kind == "missed-not-low-rank"
    assert p.exact_answer(p.x) is NOT_LOW_RANK


def test_rank_over_q_not_mod_p_decides_the_truth():
    # det = 2^31 - 1, a prime: rank 1 mod that prime, rank 2 over Q
    P31 = (1 << 31) - 1
    p = RankRecovery(rows=2, cols=2, k=1, M=P31)
    p.apply(as_batch([0, 1, 2, 3], [1, 0, 0, P31]))
    assert p.judge(NOT_LOW_RANK).correct
    assert MatrixRank(rows=2, cols=2, M=P31).exact_answer(p.x) == 2


def test_low_rank_approximation_judges_each_error_measure():
    p = row_problem()
    rows = np.zeros((3, 6))
    rows[0, 0], rows[1, 1], rows[2, 2] = 5.0, 3.0, 1.0
    p.apply(RowBatch(rows))
    assert p.tail() == pytest.approx(1.0)
    assert p.judge(RowProjection(np.eye(6)[:, :2])).correct
    assert p.judge(RowProjection(np.eye(6)[:, 1:3])).kind == "projection-cost"
    assert p.judge(RowProjection(2 * np.eye(6)[:, :2])).kind == "malformed"
    assert p.judge(RowProjection(np.eye(6)[:, :3])).kind == "malformed"  # more than k directions
    assert p.judge(CovarianceSketch(rows)).correct
    shrunk = rows.copy()
    shrunk[2, 2] = 0.8  # error 1 - 0.64 = 0.36 <= tail / (ell - k) = 0.5
    assert p.judge(CovarianceSketch(shrunk)).correct
    assert p.judge(CovarianceSketch(rows[:2])).kind == "covariance-error"  # error 1 > 0.5
    assert p.judge(np.eye(6)).kind == "malformed"


def test_entry_adversaries_do_not_play_row_problems_and_back():
    with pytest.raises(NotApplicableError, match="streams entries, but problem 'low-rank-approx' takes rows"):
        Game(ROWS, "frequent-directions", "dense", "oblivious")
    with pytest.raises(NotApplicableError, match="streams rows"):
        Game("rank-recovery(rows=4, cols=4, k=1)", "robust-rank(preset='toy')", "planted-rows", "oblivious")


def test_row_games_replay_from_their_transcript():
    result = Game(ROWS, "gaussian-projection", "planted-rows(rounds=4, batch=5)", "oblivious", seed=3,
                  record_transcript=True).play()
    again = replay(result)
    assert [a[:2] for a in again.transcript.answers] == [a[:2] for a in result.transcript.answers]


def test_matrix_answers_have_stable_digests():
    V = RowProjection(np.eye(4)[:, :1])
    assert answer_digest(V) == answer_digest(RowProjection(np.eye(4)[:, :1])) != answer_digest(
        RowProjection(np.eye(4)[:, 1:2]))
    assert answer_digest(NOT_LOW_RANK) != answer_digest(np.zeros((2, 2), dtype=np.int64))
    assert answer_digest(CovarianceSketch([[1.0, 2.0]])) != answer_digest(CovarianceSketch([[1.0, 2.5]]))


def test_projection_state_rebuilds_its_sketch():
    p = row_problem()
    alg = GaussianProjection(p.params, Coins.from_seed(2, "t"))
    b = RowBatch(np.arange(30.0).reshape(5, 6))
    alg.update(b.indices, b.deltas)
    S = GaussianProjection.sketch_rows(p.params, alg.state(), np.arange(5))
    assert np.allclose(S @ b.rows, alg.state()["B"])


def test_a_covariance_sketch_larger_than_two_ell_rows_is_refused():
    p = LowRankApproximation(cols=3, k=1, ell=2, M=10)
    rows = RowBatch(np.arange(30, dtype=np.float64).reshape(10, 3) % 7)
    p.apply(rows)
    assert p.judge(CovarianceSketch(rows.rows)).kind == "malformed"  # A itself: exact, but 10 > 2 ell rows
    assert "2 ell = 4" in p.judge(CovarianceSketch(rows.rows)).detail
    assert p.judge(CovarianceSketch(rows.rows[:4])).kind != "malformed"
