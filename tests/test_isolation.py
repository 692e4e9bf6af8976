"""Process isolation: an isolated adversary reaches nothing of the referee, and misbehaving ends cleanly.

The hostile adversaries are in tests/hostile.py (an isolated child imports them by name).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hostile import Crash, Escaped, Misbehave, Plain, Snoop

from wbstream.engine import sandbox
from wbstream.engine.coins import Coins
from wbstream.engine.errors import AdversaryError, SpecError
from wbstream.engine.game import Budget, Game
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.replay import OUTCOME_FIELDS
from wbstream.engine.sandbox import AdversaryTimeout, IsolatedAdversary
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE, WHITE_BOX

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
SECRET = bytes(range(32))  # one run secret: games compared across isolation modes play the same coins
CS = "countsketch(rows=5, cols=16)"


def outcome(result) -> dict:
    return {name: getattr(result, name) for name in OUTCOME_FIELDS}


def play(adversary, threat, isolation, options=None, **kw):
    return Game(SPARSE, CS, adversary, threat, seed=4, isolation=isolation, adversary_options=options,
                stop_on_failure=False, secret=SECRET, **kw).play()


@pytest.fixture
def children(monkeypatch):
    """The pids of the isolated children started during the test (the referee records them)."""
    pids = []
    reset = IsolatedAdversary.reset

    def recording(self, *args, **kw):
        reset(self, *args, **kw)
        pids.append(self.pid)

    monkeypatch.setattr(IsolatedAdversary, "reset", recording)
    return pids


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("route,threat", [("frames", ADAPTIVE), ("gc", ADAPTIVE), ("escalate", ADAPTIVE),
                                          ("secret", ADAPTIVE), ("write-state", WHITE_BOX)])
def test_every_route_out_of_an_isolated_child_fails_and_changes_nothing(route, threat):
    plain = outcome(play(Plain, threat, "none"))
    assert outcome(play(Snoop, threat, "process", {"route": route})) == plain


@pytest.mark.parametrize("route", ["frames", "gc"])
def test_the_same_routes_do_reach_the_referee_in_process(route):
    # the snooping is real: in the referee's own process these routes find the truth
    with pytest.raises(Escaped):
        play(Snoop, ADAPTIVE, "none", {"route": route})


@pytest.mark.parametrize("problem,algorithm,adversary,threat", [
    (SPARSE, CS, "kernel-injection", "white-box"),
    ("f2(n=1024, M=64, eps=0.5, insertion_only=True)", "ams(means=8, medians=3)", "kernel-split", "white-box"),
    ("low-rank-approx(cols=16, k=2, ell=8)", "frequent-directions", "stale-subspace(rounds=12)", "adaptive"),
    (SPARSE, CS, "random-sparse(rounds=40)", "oblivious"),
    ("f2(n=2048, M=1024, eps=0.5)", "ams(means=16, medians=5)", "dense(rounds=20, batch=256)", "oblivious"),
])
def test_isolated_and_in_process_games_give_identical_records(problem, algorithm, adversary, threat):
    for seed in (0, 1):
        records = [Game(problem, algorithm, adversary, threat, seed=seed, isolation=iso, query_every=3,
                        record_transcript=True, secret=SECRET).play() for iso in ("none", "process")]
        assert outcome(records[0]) == outcome(records[1])
        assert records[0].transcript.batches == records[1].transcript.batches


@pytest.mark.parametrize("rounds", [1, 7, 1030])
def test_an_oblivious_block_is_cut_exactly_at_the_round_budget(rounds):
    games = [Game(SPARSE, CS, "random-sparse(rounds=5000)", "oblivious", seed=2, isolation=iso,
                  budget=Budget(rounds=rounds), stop_on_failure=False, secret=SECRET) for iso in ("none", "process")]
    a, b = (g.play() for g in games)
    assert outcome(a) == outcome(b) and b.rounds == rounds and b.stop_reason == "round-budget"


def test_oblivious_blocks_end_at_the_update_budget_as_in_process():
    games = [Game(SPARSE, CS, Plain, "oblivious", seed=2, isolation=iso, adversary_options={"rounds": 300},
                  budget=Budget(updates=100), stop_on_failure=False, secret=SECRET) for iso in ("none", "process")]
    a, b = (g.play() for g in games)
    assert outcome(a) == outcome(b) and b.stop_reason == "update-budget" and b.updates == 100


def test_a_crash_is_an_adversary_error_naming_the_cause_and_the_child_is_gone():
    with pytest.raises(AdversaryError, match=r"raised in round 3: ValueError: boom from pid (\d+)") as info:
        play(Crash, ADAPTIVE, "process")
    assert gone(int(str(info.value).rsplit(" ", 1)[1]))


@pytest.mark.parametrize("how,threat,match", [
    ("exit", ADAPTIVE, "exited in round 3 .exit code 3"),
    ("flood", ADAPTIVE, "sent a message of more than"),
    ("garbage", ADAPTIVE, "malformed message .an unknown tag"),
    ("lying-length", ADAPTIVE, "malformed message .a batch of 2 updates needs 41 bytes"),
    ("big-batch", ADAPTIVE, "a batch of 500 updates; the cap is 100"),
    ("big-batch", "oblivious", "a batch of 500 updates; the cap is 100"),
])
def test_misbehaving_children_end_the_game_with_a_clear_error(children, how, threat, match):
    with pytest.raises(AdversaryError, match=match):
        play(Misbehave, threat, "process", {"how": how}, budget=Budget(updates=100))
    assert children and all(gone(pid) for pid in children)


def test_a_child_still_computing_at_the_time_budget_is_killed_and_the_game_ends_on_its_budget(children):
    # as in-process, where the loop stops on the budget once the adversary's act returns: not an error
    result = play(Misbehave, ADAPTIVE, "process", {"how": "hang"}, budget=Budget(seconds=1.0))
    assert result.stop_reason == "time-budget" and result.rounds == 2 and not result.failed
    assert children and all(gone(pid) for pid in children)


def test_a_long_isolated_game_at_its_time_budget_ends_on_it_not_on_an_error():
    # the child computes blocks ahead; a block request that crosses the budget was an AdversaryTimeout
    result = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=100000000, batch=1)", "adaptive", seed=1,
                  isolation="process", budget=Budget(seconds=0.5)).play()
    assert result.stop_reason == "time-budget" and result.rounds > 100


@pytest.mark.parametrize("how", ["hang", "requests"])
def test_a_child_that_never_answers_is_killed_at_the_per_act_timeout(children, monkeypatch, how):
    monkeypatch.setattr(sandbox, "ACT_SECONDS", 0.5)
    with pytest.raises(AdversaryTimeout, match="did not answer round 3 within 0.5 s"):
        play(Misbehave, ADAPTIVE, "process", {"how": how})
    assert children and all(gone(pid) for pid in children)


def test_a_child_that_stops_reading_cannot_hold_the_referee(children, monkeypatch):
    # each state reply is written to the child; once its pipe is full, a blocking write would wait forever
    monkeypatch.setattr(sandbox, "ACT_SECONDS", 0.5)
    with pytest.raises(AdversaryTimeout, match="did not read what the referee sent within 0.5 s; it was killed"):
        play(Misbehave, WHITE_BOX, "process", {"how": "deaf"})
    assert children and all(gone(pid) for pid in children)


def test_a_refused_round_leaves_the_algorithm_and_the_truth_untouched():
    from wbstream.algorithms.sparse.countsketch import CountSketchRecovery

    problem = SparseRecovery(n=512, k=2, M=1024)
    alg = CountSketchRecovery(problem.params, Coins.from_seed(0, "algorithm"), rows=5, cols=16)
    obs = Observation(WHITE_BOX, problem.params, AlgorithmInfo(alg.name, "countsketch", CountSketchRecovery), alg)
    proxy = IsolatedAdversary(Crash, {}, WHITE_BOX, obs.algorithm, alg, max_rounds=10, max_updates=100)
    proxy.reset(problem.params, np.random.default_rng(0))
    table, x = alg.table.copy(), problem.x.copy()
    for r in (1, 2):
        obs.round = r
        assert isinstance(proxy.act(obs), Batch)
    obs.round = 3
    pid = proxy.pid
    with pytest.raises(AdversaryError):
        proxy.act(obs)
    assert (alg.table == table).all() and (problem.x == x).all() and proxy.pid is None and gone(pid)


def test_an_unknown_isolation_mode_is_refused():
    with pytest.raises(SpecError, match="isolation must be one of none, process"):
        Game(SPARSE, CS, "kernel-injection", "white-box", isolation="thread")


def test_the_arena_isolates_adversaries_from_outside_the_package_by_default():
    from wbstream.arena.matchups import Matchup
    from wbstream.engine.registry import adversaries

    adversaries.register(Plain)
    try:
        outside = Matchup(SPARSE, CS, "plain-inserts", "oblivious")
        assert outside.isolation_mode() == "process" and outside.game(0).isolation == "process"
        assert Matchup(SPARSE, CS, "kernel-injection", "white-box").game(0).isolation == "none"
        assert Matchup(SPARSE, CS, "kernel-injection", "white-box", isolation="all").game(0).isolation == "process"
        assert Matchup(SPARSE, CS, "kernel-injection", "white-box", isolation="all").id == \
            Matchup(SPARSE, CS, "kernel-injection", "white-box").id
        assert outside.game(0).play().rounds == 6
    finally:
        adversaries.unregister("plain-inserts")


def test_wbstream_play_isolate_gives_the_in_process_summary():
    import json

    from click.testing import CliRunner

    from wbstream.cli import main

    args = ["play", "--problem", SPARSE, "--algorithm", CS, "--adversary", "kernel-injection", "--trials", "2", "--json"]
    runs = [json.loads(CliRunner().invoke(main, args + extra).output) for extra in ([], ["--isolate"])]
    for run in runs:
        run.pop("update_ns_median", None), run.pop("query_ns_median", None)
    assert runs[0]["failure_rate"] == runs[1]["failure_rate"] == 1.0
    assert runs[0]["failure_kinds"] == runs[1]["failure_kinds"]


def test_an_adversary_class_that_cannot_travel_by_name_is_a_clear_error():
    class Local(Plain):
        name = "local"

    with pytest.raises(AdversaryError, match="'local' cannot be isolated"):
        play(Local, ADAPTIVE, "process")


@pytest.mark.parametrize("length, error, match", [(100, "ForkTimeout", "no result within 1 s"),
                                                  (1 << 30, "RuntimeError", "a message of 1073741824 bytes")])
def test_a_probe_child_that_sends_half_a_message_or_too_long_a_one_cannot_hold_the_caller(length, error, match):
    from hostile import half_message

    from wbstream.engine import isolation
    expected = isolation.ForkTimeout if error == "ForkTimeout" else RuntimeError
    with pytest.raises(expected, match=match):
        isolation.run_forked_bytes(half_message, length, seconds=1.0, maxlength=1 << 20)
