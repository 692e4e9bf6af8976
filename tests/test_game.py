"""The game loop: replay, determinism, JSON records, budgets, and refusing games that make no sense."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.algorithms.exact import Exact
from wbstream.engine.adversary import Adversary
from wbstream.engine.answers import NOT_SPARSE
from wbstream.engine.errors import (BudgetError, NotApplicableError, ReplayMismatch, SpecError,
                                    ThreatModelError)
from wbstream.engine.game import Budget, Game
from wbstream.engine.replay import replay
from wbstream.engine.result import GameResult, Transcript
from wbstream.engine.stream import Batch

CS_PROBLEM, CS_ALG = "sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)"
AMS_PROBLEM, AMS_ALG = "f2(n=2048, M=1024, eps=0.5)", "ams(means=16, medians=5)"

REPLAYED = [
    pytest.param(CS_PROBLEM, CS_ALG, "kernel-injection", "white-box", 1, id="countsketch-kernel-white-box"),
    pytest.param(CS_PROBLEM, CS_ALG, "random-sparse(rounds=20)", "oblivious", 1, id="countsketch-random-sparse"),
    pytest.param(AMS_PROBLEM, AMS_ALG, "dense(rounds=20, batch=256)", "oblivious", 5, id="ams-dense"),
]
OUTCOME = ("failed", "first_failure_round", "failure_kind", "rounds", "updates", "queries")
TIMINGS = {"update_ns_median", "update_ns_p99", "query_ns_median", "adversary_seconds", "wall_seconds", "commit"}


def outcome(r: GameResult) -> tuple:
    return tuple(getattr(r, f) for f in OUTCOME)


def deterministic_fields(r: GameResult) -> dict:
    return {k: v for k, v in r.to_dict().items() if k not in TIMINGS}


# -- replay --------------------------------------------------------------------------

@pytest.mark.parametrize("problem, algorithm, adversary, threat, every", REPLAYED)
def test_replay_reproduces_the_game(problem, algorithm, adversary, threat, every):
    original = Game(problem, algorithm, adversary, threat, seed=3, query_every=every,
                    record_transcript=True).play()
    assert original.transcript is not None and len(original.transcript.batches) == original.rounds
    assert len(original.transcript.answers) == original.queries
    again = replay(original)
    assert outcome(again) == outcome(original)
    assert again.transcript.batches == original.transcript.batches
    assert again.transcript.answers == original.transcript.answers
    assert again.adversary == original.adversary
    # a record that went through JSON replays just the same
    assert outcome(replay(GameResult.from_json(original.to_json()))) == outcome(original)
    if adversary == "kernel-injection":
        assert original.failed and original.rounds == 1


def tamper_last_delta(result: GameResult) -> GameResult:
    """Move one delta of the last non-empty batch one step towards zero (the promise still holds)."""
    forged = GameResult.from_json(result.to_json())
    batches = forged.transcript.batches
    j = max(b for b, (_, idx, _) in enumerate(batches) if idx)
    r, idx, dlt = batches[j]
    dlt = list(dlt)
    dlt[0] -= int(np.sign(dlt[0]))
    batches[j] = (r, idx, dlt)
    return forged


@pytest.mark.parametrize("algorithm", [CS_ALG, "exact"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_of_a_tampered_transcript_raises(algorithm, seed):
    original = Game(CS_PROBLEM, algorithm, "random-sparse(rounds=8)", "oblivious", seed=seed,
                    record_transcript=True).play()
    assert not original.failed
    with pytest.raises(ReplayMismatch, match=r"round \d+"):
        replay(tamper_last_delta(original))


def test_replay_checks_every_recorded_answer():
    original = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=6)", "oblivious", seed=4,
                    record_transcript=True).play()
    forged = GameResult.from_json(original.to_json())
    r, digest, ok = forged.transcript.answers[2]
    forged.transcript.answers[2] = (r, "0" * 16, ok)
    with pytest.raises(ReplayMismatch, match=f"round {r}"):
        replay(forged)
    forged = GameResult.from_json(original.to_json())
    r, digest, ok = forged.transcript.answers[-1]
    forged.transcript.answers[-1] = (r, digest, not ok)
    with pytest.raises(ReplayMismatch):
        replay(forged)
    forged = GameResult.from_json(original.to_json())
    forged.transcript.answers.append((99, "0" * 16, True))
    with pytest.raises(ReplayMismatch):
        replay(forged)
    with pytest.raises(ValueError, match="record_transcript"):
        replay(Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=2)", "oblivious").play())


# -- determinism ---------------------------------------------------------------------

@pytest.mark.parametrize("problem, algorithm, adversary, threat, every", REPLAYED)
def test_the_same_seed_gives_the_same_result(problem, algorithm, adversary, threat, every):
    a = Game(problem, algorithm, adversary, threat, seed=7, query_every=every, record_transcript=True).play()
    b = Game(problem, algorithm, adversary, threat, seed=7, query_every=every, record_transcript=True).play()
    assert deterministic_fields(a) == deterministic_fields(b)
    c = Game(problem, algorithm, adversary, threat, seed=8, query_every=every, record_transcript=True).play()
    assert c.transcript.batches != a.transcript.batches


# -- JSON records ----------------------------------------------------------------------

@pytest.mark.parametrize("problem, algorithm, adversary, threat, every", REPLAYED)
def test_game_result_json_round_trip(problem, algorithm, adversary, threat, every):
    r = Game(problem, algorithm, adversary, threat, seed=1, query_every=every, record_transcript=True).play()
    text = r.to_json()
    json.loads(text)  # plain JSON
    back = GameResult.from_json(text)
    assert back == r
    assert back.to_json() == text
    assert isinstance(back.transcript, Transcript)
    assert all(isinstance(b, tuple) for b in back.transcript.batches)
    assert all(isinstance(a, tuple) for a in back.transcript.answers)
    no_transcript = Game(problem, algorithm, adversary, threat, seed=1, query_every=every).play()
    assert no_transcript.transcript is None
    assert GameResult.from_json(no_transcript.to_json()) == no_transcript


@given(st.lists(st.tuples(st.integers(1, 10**6), st.lists(st.tuples(st.integers(0, 2**40), st.integers(-2**40, 2**40)),
                                                           max_size=5)).map(
    lambda b: (b[0], [i for i, _ in b[1]], [d for _, d in b[1]])), max_size=5),
       st.lists(st.tuples(st.integers(1, 10**6), st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
                          st.booleans()), max_size=5),
       st.booleans(), st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)))
def test_any_game_result_survives_json(batches, answers, failed, median):
    r = GameResult(problem="f2(n=4)", algorithm="exact", adversary="dense", threat="oblivious", seed=3,
                   failed=failed, failure_kind="out-of-factor" if failed else None, update_ns_median=median,
                   transcript=Transcript(list(batches), list(answers)))
    assert GameResult.from_json(r.to_json()) == r


def test_from_dict_refuses_unknown_fields():
    r = GameResult(problem="f2(n=4)", algorithm="exact", adversary="dense", threat="oblivious", seed=1)
    data = r.to_dict()
    data["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        GameResult.from_dict(data)


# -- budgets ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"updates": -1}, {"rounds": -5}, {"seconds": -1.0}, {"rounds": "10"}])
def test_meaningless_budgets_raise(kwargs):
    with pytest.raises(BudgetError, match=next(iter(kwargs))):
        Budget(**kwargs)


@pytest.mark.parametrize("kwargs", [{"seconds": float("nan")}, {"rounds": float("nan")}, {"updates": float("nan")}])
def test_nan_budgets_are_meaningless(kwargs):
    with pytest.raises(BudgetError):
        Budget(**kwargs)


@pytest.mark.parametrize("kwargs", [{"seconds": 1e300}, {"seconds": 10**7 + 1}, {"max_batch": 0},
                                    {"max_batch": -3}, {"max_batch": 2.0}, {"max_batch": True}])
def test_absurd_budgets_are_refused_when_built(kwargs):
    with pytest.raises(BudgetError, match=next(iter(kwargs))):
        Budget(**kwargs)


def test_the_longest_time_budget_plays():
    r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=2)", "oblivious", budget=Budget(seconds=10**7)).play()
    assert r.rounds == 2 and r.budget_seconds == 10**7 and r.budget_max_batch == 1_000_000


@pytest.mark.parametrize("rounds, expect", [(2.5, 2), (float("inf"), 1100)])
def test_a_round_budget_that_is_not_an_integer_is_refused_or_honoured(rounds, expect):
    try:
        budget = Budget(rounds=rounds)
    except BudgetError:
        return  # refusing it up front is fine
    r = Game("f2(n=16, M=3, eps=0.5)", "exact", RandomWalk, "oblivious", budget=budget,
             adversary_options={"rounds": 1100}).play()
    assert r.rounds == expect and not r.failed


@pytest.mark.parametrize("every", [0, -1, 1.5])
def test_query_every_must_be_a_positive_integer(every):
    with pytest.raises(BudgetError, match="query_every"):
        Game(CS_PROBLEM, CS_ALG, "random-sparse", "oblivious", query_every=every)


def test_other_malformed_game_arguments():
    with pytest.raises(BudgetError):
        Game(CS_PROBLEM, CS_ALG, "random-sparse", "oblivious", budget={"rounds": 3})
    with pytest.raises(SpecError, match="seed"):
        Game(CS_PROBLEM, CS_ALG, "random-sparse", "oblivious", seed=-1)
    with pytest.raises(SpecError, match="threat model"):
        Game(CS_PROBLEM, CS_ALG, "random-sparse", "grey-box")


def test_a_round_budget_stops_the_game():
    r = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=20)", "oblivious", budget=Budget(rounds=5)).play()
    assert (r.stop_reason, r.rounds, r.queries) == ("round-budget", 5, 5)
    full = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=20)", "oblivious").play()
    assert (full.stop_reason, full.rounds) == ("adversary-stopped", 20)
    none = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=20)", "oblivious", budget=Budget(rounds=0)).play()
    assert (none.rounds, none.updates, none.queries) == (0, 0, 0)


class FixedBatches(Adversary):
    """``size`` updates of +1 then -1 on alternating rounds, forever (or for ``rounds``); optional sleep."""

    name = "fixed-batches"

    def __init__(self, *, size: int = 7, rounds: int = 10**9, sleep: float = 0.0):
        self.size, self.rounds, self.sleep = size, rounds, sleep

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        if self.sleep:
            time.sleep(self.sleep)
        sign = 1 if obs.round % 2 else -1
        return Batch(np.arange(self.size, dtype=np.int64), np.full(self.size, sign, dtype=np.int64))


def test_an_update_budget_stops_the_game_before_the_batch_that_would_exceed_it():
    r = Game("f2(n=64, M=8, eps=0.5)", "exact", FixedBatches, "oblivious", budget=Budget(updates=50)).play()
    assert r.stop_reason == "update-budget"
    assert (r.rounds, r.updates, r.queries) == (7, 49, 7)
    exact = Game("f2(n=64, M=8, eps=0.5)", "exact", FixedBatches, "oblivious", budget=Budget(updates=49)).play()
    assert (exact.stop_reason, exact.updates) == ("update-budget", 49)


def test_a_time_budget_stops_the_game():
    t0 = time.perf_counter()
    r = Game("f2(n=64, M=8, eps=0.5)", "exact", FixedBatches, "oblivious",
             budget=Budget(seconds=0.05, rounds=None, updates=None),
             adversary_options={"sleep": 0.01}).play()
    assert r.stop_reason == "time-budget"
    assert 1 <= r.rounds <= 20
    assert time.perf_counter() - t0 < 2.0
    assert r.adversary_seconds >= 0.01 * r.rounds * 0.9


def test_query_every_spaces_the_queries_and_the_last_round_is_always_queried():
    r = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=10)", "oblivious", query_every=3,
             record_transcript=True).play()
    assert r.rounds == 10 and r.queries == 4
    assert [a[0] for a in r.transcript.answers] == [3, 6, 9, 10]


# -- failures ------------------------------------------------------------------------

class AlwaysNotSparse(Exact):
    """A broken algorithm: says NOT_SPARSE whatever x is."""

    name = "always-not-sparse"

    def query(self):
        return NOT_SPARSE


def test_stop_on_failure_false_keeps_playing_and_counts_failures():
    kw = dict(problem="sparse-recovery(n=256, k=4, M=16)", algorithm=AlwaysNotSparse,
              adversary="random-sparse(rounds=10)", threat="oblivious")
    stopped = Game(kw["problem"], kw["algorithm"], kw["adversary"], kw["threat"]).play()
    assert (stopped.failed, stopped.rounds, stopped.failed_queries, stopped.stop_reason) == (True, 1, 1, "failure")
    assert stopped.failure_kind == "false-not-sparse" and stopped.first_failure_round == 1
    assert "NOT_SPARSE" in stopped.failure_detail
    kept = Game(kw["problem"], kw["algorithm"], kw["adversary"], kw["threat"], stop_on_failure=False).play()
    assert (kept.failed, kept.rounds, kept.queries, kept.failed_queries) == (True, 10, 10, 10)
    assert kept.first_failure_round == 1 and kept.stop_reason == "adversary-stopped"
    spaced = Game(kw["problem"], kw["algorithm"], kw["adversary"], kw["threat"], stop_on_failure=False,
                  query_every=4).play()
    assert (spaced.queries, spaced.failed_queries, spaced.first_failure_round) == (3, 3, 4)
    fine = Game(kw["problem"], "exact", kw["adversary"], kw["threat"], stop_on_failure=False).play()
    assert (fine.failed, fine.failed_queries, fine.first_failure_round, fine.failure_kind) == (False, 0, None, None)


def test_space_is_recorded():
    r = Game(CS_PROBLEM, CS_ALG, "random-sparse(rounds=2)", "oblivious").play()
    assert r.space_state_bits > 0 and r.space_key_bits > 0 and r.space_nbytes > 0
    e = Game(CS_PROBLEM, "exact", "random-sparse(rounds=2)", "oblivious").play()
    assert e.space_key_bits == 0 and e.space_nbytes == 512 * 8


# -- games that make no sense ------------------------------------------------------------

@pytest.mark.parametrize("threat", ["oblivious", "adaptive"])
@pytest.mark.parametrize("problem, algorithm", [(CS_PROBLEM, CS_ALG), (AMS_PROBLEM, AMS_ALG)])
def test_an_adversary_below_its_threat_level_is_refused(problem, algorithm, threat):
    with pytest.raises(ThreatModelError) as info:
        Game(problem, algorithm, "kernel-injection", threat)
    msg = str(info.value)
    assert "white-box" in msg and "kernel-injection" in msg and threat in msg


@pytest.mark.parametrize("problem, algorithm", [
    ("f2(n=64, M=8)", "countsketch"),
    ("sparse-recovery(n=64, k=2, M=8)", "ams"),
    ("distinct-elements(n=64)", "countsketch(rows=3, cols=8)"),
])
def test_an_algorithm_for_another_problem_is_refused(problem, algorithm):
    with pytest.raises(SpecError, match="answers"):
        Game(problem, algorithm, "dense", "oblivious")


def test_kernel_injection_against_exact_is_not_applicable():
    with pytest.raises(NotApplicableError) as info:
        Game(CS_PROBLEM, "exact", "kernel-injection", "white-box")
    assert "LinearSketch" in str(info.value)
    assert "exact" in str(info.value)


def test_options_given_separately_are_recorded_and_replay():
    r = Game(CS_PROBLEM, "countsketch", "random-sparse(rounds=5)", "oblivious", seed=2,
             algorithm_options={"rows": 7, "cols": 32}, adversary_options={"rounds": 3},
             record_transcript=True).play()
    assert r.rounds == 3  # the options were used...
    assert r.algorithm == "countsketch(rows=7, cols=32)"  # ...so the record must name them
    assert r.adversary == "random-sparse(rounds=3, sparsity=0)"
    assert outcome(replay(r)) == outcome(r)


def test_game_result_records_canonical_specs():
    r = Game("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
             "random-sparse(rounds=2)", "oblivious", seed=9).play()
    assert r.algorithm == "countsketch(rows=5, cols=16)"
    assert r.adversary == "random-sparse(rounds=2, sparsity=0)"
    assert r.problem == "sparse-recovery(n=512, k=2, M=1024)"
    assert (r.threat, r.seed) == ("oblivious", 9)
    assert dataclasses.asdict(r)["version"] == r.version


# -- long games ------------------------------------------------------------------------

class RandomWalk(Adversary):
    """Mostly single ±1 updates on a small universe, a 3-update batch every fifth round; keeps |x_i| <= M."""

    name = "random-walk"

    def __init__(self, *, rounds: int = 10**9):
        self.rounds = rounds

    def reset(self, params, rng):
        super().reset(params, rng)
        self.x = np.zeros(params.n, dtype=np.int64)
        self.steps = rng.integers(0, 2 * params.n, size=1 << 14)

    def _step(self, k):
        s = int(self.steps[k % len(self.steps)])
        i, d = s >> 1, 1 if s & 1 else -1
        if abs(self.x[i] + d) > self.params.M:
            d = -d
        self.x[i] += d
        return i, d

    def act(self, obs):
        r = obs.round
        if r > self.rounds:
            return None
        if r % 5:
            i, d = self._step(r)
            return Batch.single(i, d)
        n = self.params.n
        picks = [(i % n, d) for i, d in (self._step(r * 7 + j) for j in range(3))]
        return Batch(np.array([i for i, _ in picks], dtype=np.int64), np.array([d for _, d in picks], dtype=np.int64))


@pytest.mark.parametrize("problem", ["f2(n=16, M=3, eps=0.01)", "distinct-elements(n=16, M=3, eps=0.01)"])
def test_long_games_keep_the_truth_across_the_timed_prefix(problem):
    # exact answers are judged correct only if the referee's nnz / sumsq stay right on every path
    r = Game(problem, "exact", RandomWalk, "oblivious", query_every=7, adversary_options={"rounds": 3000},
             record_transcript=True).play()
    assert (r.failed, r.rounds, r.stop_reason) == (False, 3000, "adversary-stopped")
    assert r.queries == 3000 // 7 + 1 and r.transcript.answers[-1][0] == 3000
    assert r.updates == sum(len(i) for _, i, _ in r.transcript.batches) == 2400 + 600 * 3
    assert outcome(replay(r)) == outcome(r)
    capped = Game(problem, "exact", RandomWalk, "oblivious", budget=Budget(rounds=1500, updates=None)).play()
    assert (capped.rounds, capped.stop_reason, capped.queries, capped.failed) == (1500, "round-budget", 1500, False)
    by_updates = Game(problem, "exact", RandomWalk, "oblivious", budget=Budget(rounds=None, updates=2000)).play()
    assert by_updates.stop_reason == "update-budget" and 1990 <= by_updates.updates <= 2000
    assert by_updates.rounds > 1024 and not by_updates.failed


def test_a_time_budget_stops_a_long_fast_game():
    t0 = time.perf_counter()
    r = Game("f2(n=16, M=3, eps=0.01)", "exact", RandomWalk, "oblivious", query_every=50,
             budget=Budget(seconds=0.3, rounds=None, updates=None)).play()
    elapsed = time.perf_counter() - t0
    assert r.stop_reason == "time-budget" and not r.failed
    assert r.rounds > 1024  # well past the fully timed prefix
    assert elapsed < 3.0
